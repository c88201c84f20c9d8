import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface AlarmsProps {
  /** One alarm per function on its Errors metric, named by the key. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly outreachDeadLetters: sqs.IQueue;
  readonly jobFailures: sqs.IQueue;
  readonly scaleOut: sfn.IStateMachine | undefined;
  readonly email: string | undefined;
  /** Where the ingest function publishes its Powertools metrics (namespace, and its service dimension). */
  readonly ingestMetrics: { namespace: string; service: string };
}

/** A feed that accepted no event for this many consecutive hours is silent. */
export const SILENT_FEED_HOURS = 24;

/**
 * Alarms that each mean "a person should look" (see the runbook), published to one encrypted SNS
 * topic with an optional e-mail subscription.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    // CloudWatch cannot publish to a topic under the AWS-managed aws/sns key: it needs a customer key that trusts it.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'churnguard alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'churnguard alarms', masterKey: key, enforceSSL: true });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));

    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(
        `${name}Errors`,
        `churnguard ${name}: the function reported errors`,
        fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      );
    }
    this.add(
      'OutreachDeadLetters',
      'churnguard: outreach messages failed 5 deliveries and wait in the dead-letter queue',
      props.outreachDeadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
    );
    this.add(
      'JobFailures',
      'churnguard: a train/score run failed after retries, or a schedule could not start it',
      props.jobFailures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
    );
    const ingest = (metricName: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: props.ingestMetrics.namespace,
        metricName,
        dimensionsMap: { service: props.ingestMetrics.service },
        statistic: 'Sum',
        period,
      });
    this.add(
      'IngestEventsUnstored',
      'churnguard ingest: valid events could not be stored (the producer got a 5xx and must re-send them)',
      ingest('EventsUnstored', Duration.minutes(5)),
    );
    this.add(
      'IngestRefused',
      'churnguard ingest: events were rejected as invalid, or whole requests refused, within the last hour',
      new cloudwatch.MathExpression({
        expression: 'rejected + refused',
        label: 'events rejected and requests refused',
        period: Duration.hours(1),
        usingMetrics: { rejected: ingest('EventsRejected', Duration.hours(1)), refused: ingest('RequestsRefused', Duration.hours(1)) },
      }),
    );
    this.add(
      'SilentFeed',
      `churnguard ingest: no event accepted for ${SILENT_FEED_HOURS} hours; producers may have stopped sending`,
      ingest('EventsAccepted', Duration.hours(1)),
      {
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: SILENT_FEED_HOURS,
        datapointsToAlarm: SILENT_FEED_HOURS,
        // No request at all publishes no data point: that is the silence this alarm is for.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      },
    );
    if (props.scaleOut) {
      this.add(
        'ScaleOutFailures',
        'churnguard: a scale-out scoring execution failed, timed out or was aborted',
        failedExecutions(props.scaleOut),
      );
    }
  }

  /** Alarms when the metric is above zero in one period (unless `options` say otherwise); no data means nothing happened. */
  private add(id: string, description: string, metric: cloudwatch.IMetric, options: Partial<cloudwatch.AlarmProps> = {}): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...options,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}

function failedExecutions(stateMachine: sfn.IStateMachine): cloudwatch.IMetric {
  const options = { period: Duration.minutes(5), statistic: 'Sum' };
  return new cloudwatch.MathExpression({
    expression: 'failed + timedOut + aborted',
    label: 'unsuccessful executions',
    period: Duration.minutes(5),
    usingMetrics: {
      failed: stateMachine.metricFailed(options),
      timedOut: stateMachine.metricTimedOut(options),
      aborted: stateMachine.metricAborted(options),
    },
  });
}
