import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledge, arnInFinding } from '../nag.ts';

export interface JobSchedulesProps {
  readonly job: lambda.IFunction;
  /** With scale-out, the daily scoring runs through this state machine instead of one invocation. */
  readonly scaleOut: sfn.IStateMachine | undefined;
  readonly failures: sqs.IQueue;
  readonly dailyScore: string;
  readonly weeklyTrain: string;
  readonly timeZone: string;
}

/** Scheduler retries before a delivery goes to the failure queue. */
const SCHEDULE_RETRIES = 2;

/**
 * EventBridge Scheduler: a daily scoring run and a weekly retraining run. `asOf` is the scheduled
 * time, so a retried delivery of the same run computes the same runId and does not send twice.
 */
export class JobSchedules extends Construct {
  readonly dailyScore: scheduler.Schedule;
  readonly weeklyTrain: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: JobSchedulesProps) {
    super(scope, id);
    const timeZone = TimeZone.of(props.timeZone);
    const asOf = scheduler.ContextAttribute.scheduledTime;
    // One role for both schedules, owned here so its grants are reviewed here.
    const role = new iam.Role(this, 'Role', {
      description: 'churnguard schedules: start the train/score job',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    const delivery = { role, deadLetterQueue: props.failures, retryAttempts: SCHEDULE_RETRIES, maxEventAge: Duration.hours(2) };

    this.dailyScore = new scheduler.Schedule(this, 'DailyScore', {
      description: 'churnguard: score every active customer and queue outreach',
      schedule: scheduler.ScheduleExpression.expression(props.dailyScore, timeZone),
      target: props.scaleOut
        ? new targets.StepFunctionsStartExecution(props.scaleOut, {
            ...delivery,
            input: scheduler.ScheduleTargetInput.fromObject({ asOf }),
          })
        : new targets.LambdaInvoke(props.job, {
            ...delivery,
            input: scheduler.ScheduleTargetInput.fromObject({ mode: 'score', asOf }),
          }),
    });
    this.weeklyTrain = new scheduler.Schedule(this, 'WeeklyTrain', {
      description: 'churnguard: retrain (challenger vs champion), then score',
      schedule: scheduler.ScheduleExpression.expression(props.weeklyTrain, timeZone),
      target: new targets.LambdaInvoke(props.job, {
        ...delivery,
        // With scale-out the daily fan-out scores; the weekly run only trains and promotes.
        input: scheduler.ScheduleTargetInput.fromObject({ mode: props.scaleOut ? 'train' : 'train-and-score', asOf }),
      }),
    });
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::${arnInFinding(props.job)}:*]`,
      'Written by the aws-scheduler-targets grant: lambda:InvokeFunction on the job function and on its versions and aliases (<function ARN>:*). Scoped to the one job function; invoking a version is not broader than invoking the function.',
    );
  }
}
