import type { StackProps } from 'aws-cdk-lib';
import { CfnOutput, Duration, Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ChurnguardConfig } from './config.ts';
import { Alarms } from './constructs/alarms.ts';
import { IngestApi } from './constructs/ingestApi.ts';
import { JobSchedules } from './constructs/jobSchedules.ts';
import { Outreach } from './constructs/outreach.ts';
import { OutreachEvents } from './constructs/outreachEvents.ts';
import { ScaleOut } from './constructs/scaleOut.ts';
import { Storage } from './constructs/storage.ts';
import { STRIPE_ROUTE_PATH, StripeIntegration } from './constructs/stripeIntegration.ts';
import { TrainScoreJob } from './constructs/trainScoreJob.ts';

export interface ChurnguardStackProps extends StackProps {
  /** Validated settings (see cdk/config.ts; app.ts reads them from CDK context). */
  readonly config: ChurnguardConfig;
}

/** Powertools metrics namespace shared by all functions. */
export const METRICS_NAMESPACE = 'Churnguard';
/** The ingest function's Powertools service name: the `service` dimension of its metrics. */
export const INGEST_SERVICE_NAME = 'churnguard-ingest';

/**
 * churnguard on AWS: ingest API → table; scheduled train/score job → bucket, table, outreach queue;
 * outreach consumer → webhook; alarms on everything that needs a person. Scale-out (Step Functions
 * Distributed Map over Scan segments) when `config.scaleOutSegments` is set.
 */
export class ChurnguardStack extends Stack {
  readonly storage: Storage;
  readonly ingest: IngestApi;
  readonly outreach: Outreach;
  readonly outreachEvents: OutreachEvents | undefined;
  readonly stripe: StripeIntegration | undefined;
  readonly job: TrainScoreJob;
  readonly scaleOut: ScaleOut | undefined;
  readonly schedules: JobSchedules;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: ChurnguardStackProps) {
    super(scope, id, props);
    // S3 server access logs delivered under a bucket policy, not the legacy LogDeliveryWrite ACL
    // (ACLs stay disabled everywhere). Set here so the stack behaves the same in any app or test.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const { config } = props;
    if (config.encryption === 'customer-managed' && Token.isUnresolved(this.region)) {
      // TableV2 writes the key per replica region, which an environment-agnostic stack cannot name.
      throw new Error(
        'encryption=customer-managed needs a concrete region: deploy with a configured AWS profile or AWS_REGION (the CDK CLI passes it as CDK_DEFAULT_REGION).',
      );
    }

    this.storage = new Storage(this, 'Storage', {
      encryption: config.encryption,
      deletionProtection: config.deletionProtection,
      runsRetentionDays: config.runsRetentionDays,
    });
    const { table, bucket, dataKey } = this.storage;

    this.ingest = new IngestApi(this, 'Ingest', {
      table,
      dataKey,
      eventTtlDays: config.eventTtlDays,
      jwt: config.jwtIssuer && config.jwtAudience ? { issuer: config.jwtIssuer, audience: config.jwtAudience } : undefined,
      rateLimit: config.ingestRateLimit,
      burstLimit: config.ingestBurstLimit,
      logRetentionDays: config.logRetentionDays,
      metricsNamespace: METRICS_NAMESPACE,
      serviceName: INGEST_SERVICE_NAME,
    });

    this.outreachEvents =
      config.outreachSink === 'eventbridge'
        ? new OutreachEvents(this, 'OutreachEvents', {
            eventBusName: config.outreachEventBusName,
            dataKey,
            apiDestination:
              config.outreachApiDestinationUrl && config.outreachApiDestinationSecretArn
                ? {
                    url: config.outreachApiDestinationUrl,
                    authorizationSecretArn: config.outreachApiDestinationSecretArn,
                    template: config.outreachApiDestinationTemplate,
                    rateLimitPerSecond: config.outreachApiDestinationRateLimit,
                  }
                : undefined,
          })
        : undefined;

    this.stripe = config.stripeIntegration
      ? new StripeIntegration(this, 'Stripe', {
          api: this.ingest.api,
          table,
          dataKey,
          eventTtlDays: config.eventTtlDays,
          secretArn: config.stripeWebhookSecretArn,
          customerMetadataKey: config.stripeCustomerMetadataKey,
          logRetentionDays: config.logRetentionDays,
          metricsNamespace: METRICS_NAMESPACE,
        })
      : undefined;

    this.outreach = new Outreach(this, 'Outreach', {
      table,
      dataKey,
      eventBus: this.outreachEvents?.bus,
      webhookUrl: config.webhookUrl,
      webhookSecretArn: config.webhookSecretArn,
      webhookTimeoutMs: config.webhookTimeoutMs,
      cooldownDays: config.cooldownDays,
      consumerTimeout: Duration.seconds(config.consumerTimeoutSeconds),
      queueRetention: Duration.days(config.queueRetentionDays),
      logRetentionDays: config.logRetentionDays,
      metricsNamespace: METRICS_NAMESPACE,
    });

    this.job = new TrainScoreJob(this, 'TrainScoreJob', {
      table,
      bucket,
      queue: this.outreach.queue,
      dataKey,
      logRetentionDays: config.logRetentionDays,
      packaging: config.jobPackaging,
      settings: {
        budgetMaxMessages: config.budgetMaxMessages,
        cooldownDays: config.cooldownDays,
        costLostCustomer: config.costLostCustomer,
        costIntervention: config.costIntervention,
        horizonDays: config.horizonDays,
        churnDefinition: config.churnDefinition,
        unknownMrrValueCents: config.unknownMrrValueCents,
        passiveInactivityDays: config.passiveInactivityDays,
        scanSegments: config.scanSegments,
        paymentRecoveryDelayHours: config.paymentRecoveryDelayHours,
        metricsNamespace: METRICS_NAMESPACE,
      },
    });

    // Reconcile at the start of each run reads the DLQ's depth; with `redrive: true` it moves it back.
    this.outreach.grantRedrive(this.job.function);

    this.scaleOut =
      config.scaleOutSegments === undefined
        ? undefined
        : new ScaleOut(this, 'ScaleOut', {
            job: this.job.function,
            segments: config.scaleOutSegments,
            logRetentionDays: config.logRetentionDays,
          });

    this.schedules = new JobSchedules(this, 'Schedules', {
      job: this.job.function,
      scaleOut: this.scaleOut?.stateMachine,
      failures: this.job.failures,
      dailyScore: config.dailyScoreSchedule,
      weeklyTrain: config.weeklyTrainSchedule,
      timeZone: config.scheduleTimeZone,
    });

    this.alarms = new Alarms(this, 'Alarms', {
      functions: {
        Ingest: this.ingest.handler,
        OutreachConsumer: this.outreach.consumer,
        TrainScoreJob: this.job.function,
        ...(this.stripe ? { StripeWebhook: this.stripe.handler } : {}),
      },
      outreachDeadLetters: this.outreach.deadLetterQueue,
      jobFailures: this.job.failures,
      scaleOut: this.scaleOut?.stateMachine,
      email: config.alarmEmail,
      ingestMetrics: { namespace: METRICS_NAMESPACE, service: INGEST_SERVICE_NAME },
    });

    new CfnOutput(this, 'EventsUrl', {
      value: this.ingest.eventsUrl,
      description: 'POST usage events here (SigV4-signed unless JWT is configured)',
    });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'OutreachQueueUrl', { value: this.outreach.queue.queueUrl });
    new CfnOutput(this, 'OutreachDeadLetterQueueArn', { value: this.outreach.deadLetterQueue.queueArn });
    new CfnOutput(this, 'JobFunctionName', { value: this.job.function.functionName });
    new CfnOutput(this, 'WebhookSecretArn', { value: this.outreach.webhookSecret.secretArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    if (this.scaleOut) new CfnOutput(this, 'ScaleOutStateMachineArn', { value: this.scaleOut.stateMachine.stateMachineArn });
    if (this.stripe) {
      new CfnOutput(this, 'StripeWebhookUrl', {
        value: `${this.ingest.stage.url}${STRIPE_ROUTE_PATH.slice(1)}`,
        description: 'the endpoint URL to add in Stripe (Dashboard → Developers → Webhooks)',
      });
      new CfnOutput(this, 'StripeWebhookSecretArn', { value: this.stripe.secret.secretArn });
    }
    if (this.outreachEvents) new CfnOutput(this, 'OutreachEventBusArn', { value: this.outreachEvents.bus.eventBusArn });
  }
}
