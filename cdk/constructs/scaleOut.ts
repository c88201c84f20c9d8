import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledge, arnInFinding, logicalIdOf, regionAndAccountInFinding } from '../nag.ts';
import { retentionFor } from './nodeFunction.ts';

export interface ScaleOutProps {
  readonly job: lambda.IFunction;
  /** Number of DynamoDB parallel Scan segments, one job invocation each. */
  readonly segments: number;
  readonly logRetentionDays: number;
}

/** `score-<day of asOf>`, with Step Functions intrinsics (asOf is an ISO date-time such as the schedule's). */
export const RUN_ID_FROM_AS_OF = "States.Format('score-{}', States.ArrayGetItem(States.StringSplit($.asOf, 'T'), 0))";

/** Upper bound on simultaneous segment workers (Lambda concurrency and table throughput). */
export const MAX_PARALLEL_SEGMENTS = 100;

/**
 * The scale-out path: a Step Functions Distributed Map over Scan segments 0..N-1, each iteration
 * invoking the job with `{ mode: 'score-segment', segment, totalSegments, runId, asOf }`. A Scan
 * segment splits by partition key, so every worker holds whole customers and scores them on its own.
 * The workers only write RISK items (tagged with the runId); after the map, one invocation
 * `{ mode: 'send', runId, asOf }` reads them back, selects by expected loss across all segments
 * (one budget, one ranking) and claims and sends like a whole-table run. It runs only when every
 * segment succeeded, so a partial run sends nothing, and it is safe to retry (claims are conditional).
 *
 * Input: `{ "asOf": "<ISO date-time>" }` (the schedule passes its scheduled time). The runId is
 * `score-<day of asOf>`, as the job derives for a daily run, so a re-run of the same day writes the
 * same RISK items and snapshots.
 */
export class ScaleOut extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: ScaleOutProps) {
    super(scope, id);
    const segments = Array.from({ length: props.segments }, (_, index) => index);

    const plan = new sfn.Pass(this, 'PlanSegments', {
      comment: 'Fix runId and the segment list for this run',
      parameters: {
        'asOf.$': '$.asOf',
        // score-<YYYY-MM-DD of asOf>: the runId the job itself derives for a daily score run.
        'runId.$': RUN_ID_FROM_AS_OF,
        segments,
      },
    });
    const scoreSegment = new tasks.LambdaInvoke(this, 'ScoreSegment', {
      lambdaFunction: props.job,
      payloadResponseOnly: true,
      resultPath: sfn.JsonPath.DISCARD,
      retryOnServiceExceptions: true,
    });
    // A segment is idempotent (RISK items are overwritten, snapshots keyed by runId and segment): retry it once.
    scoreSegment.addRetry({ errors: ['States.TaskFailed'], maxAttempts: 1, interval: Duration.seconds(30), backoffRate: 2 });
    const fanOut = new sfn.DistributedMap(this, 'ScoreSegments', {
      itemsPath: '$.segments',
      itemSelector: {
        mode: 'score-segment',
        'segment.$': '$$.Map.Item.Value',
        totalSegments: props.segments,
        'runId.$': '$.runId',
        'asOf.$': '$.asOf',
      },
      maxConcurrency: Math.min(props.segments, MAX_PARALLEL_SEGMENTS),
      // The job runs up to 15 minutes: longer than an Express child workflow may live.
      mapExecutionType: sfn.StateMachineType.STANDARD,
      toleratedFailurePercentage: 0,
      resultPath: sfn.JsonPath.DISCARD,
    });
    fanOut.itemProcessor(scoreSegment);

    // The map's result is discarded, so its output is still { asOf, runId, segments }.
    const send = new tasks.LambdaInvoke(this, 'SendOutreach', {
      comment: 'Select from the RISK items of this run and queue outreach (claims make a retry send nothing twice)',
      lambdaFunction: props.job,
      payload: sfn.TaskInput.fromObject({ mode: 'send', 'runId.$': '$.runId', 'asOf.$': '$.asOf' }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    send.addRetry({ errors: ['States.TaskFailed'], maxAttempts: 1, interval: Duration.seconds(30), backoffRate: 2 });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: retentionFor(props.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'churnguard scale-out scoring: one job invocation per DynamoDB Scan segment, then one that sends the outreach',
      definitionBody: sfn.DefinitionBody.fromChainable(plan.next(fanOut).next(send)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: Duration.hours(3),
      tracingEnabled: true,
      // Execution data would carry risk scores into the logs: keep them out.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.acknowledgeGeneratedGrants(props.job);
  }

  /** The grants CDK writes for a traced, logged state machine with a Distributed Map; each reviewed here. */
  private acknowledgeGeneratedGrants(job: lambda.IFunction): void {
    const role = this.stateMachine.role;
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::${arnInFinding(job)}:*]`,
      'Written by the LambdaInvoke task grant: lambda:InvokeFunction on the job function and its versions and aliases (<function ARN>:*). Scoped to the one job function.',
    );
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'Only actions that do not support resource-level permissions: X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* (tracing) and the CloudWatch Logs delivery actions (logs:CreateLogDelivery, ListLogDeliveries, ...) that vended logging requires on "*".',
    );
    // The Distributed Map starts, describes and stops child executions of this state machine; their names are made per run.
    const executions = `arn:<AWS::Partition>:states:${regionAndAccountInFinding(this)}:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalIdOf(this.stateMachine)}"}]}]}`;
    for (const suffix of [':*', '/*:*']) {
      acknowledge(
        this.stateMachine,
        `AwsSolutions-IAM5[Resource::${executions}${suffix}]`,
        'Written by CDK for the Distributed Map: start/describe/stop its own child executions, whose names are generated per run. Limited to executions of this one state machine.',
      );
    }
  }
}
