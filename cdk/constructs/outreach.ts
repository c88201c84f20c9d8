import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { environmentFor } from '../functionEnvironment.ts';
import { acknowledge } from '../nag.ts';
import { createNodeFunction } from './nodeFunction.ts';

export interface OutreachProps {
  readonly table: dynamodb.ITableV2;
  /** Customer-managed data key, when the stack uses one. */
  readonly dataKey: kms.IKey | undefined;
  readonly webhookUrl: string | undefined;
  /** Existing secret with the webhook HMAC key; absent = a generated one. */
  readonly webhookSecretArn: string | undefined;
  /** Webhook request timeout (ms); absent = the consumer's default. */
  readonly webhookTimeoutMs?: number | undefined;
  /** The EventBridge sink's bus: the consumer puts each message there instead of calling a webhook. */
  readonly eventBus?: events.IEventBus | undefined;
  /** The outreach cooldown: the consumer remembers a delivered dedupId for this many days plus one. */
  readonly cooldownDays: number;
  readonly consumerTimeout: Duration;
  readonly queueRetention: Duration;
  readonly logRetentionDays: number;
  readonly metricsNamespace: string;
}

/** A message that failed this many deliveries moves to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
/** AWS guidance for SQS event sources: visibility timeout at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/**
 * The outreach queue, its dead-letter queue, the webhook secret and the consumer that delivers each
 * message once (idempotency records live in the same table) and reports partial batch failures.
 */
export class Outreach extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly webhookSecret: secretsmanager.ISecret;
  readonly consumer: NodejsFunction;

  constructor(scope: Construct, id: string, props: OutreachProps) {
    super(scope, id);
    const encryption = props.dataKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.dataKey, dataKeyReuse: Duration.hours(1) }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...encryption,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the outreach queue; it is watched by the OutreachDeadLetters alarm and redriven with the message-move API (runbook).',
    );
    this.queue = new sqs.Queue(this, 'Queue', {
      ...encryption,
      enforceSSL: true,
      retentionPeriod: props.queueRetention,
      // Six times the longest a delivery can take (the consumer's timeout bounds the webhook's), so a
      // message still being delivered is never handed to a second consumer.
      visibilityTimeout: Duration.seconds(
        Math.ceil(Math.max(props.consumerTimeout.toSeconds(), (props.webhookTimeoutMs ?? 0) / 1000) * VISIBILITY_TIMEOUT_FACTOR),
      ),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    this.webhookSecret = props.webhookSecretArn
      ? secretsmanager.Secret.fromSecretCompleteArn(this, 'WebhookSecret', props.webhookSecretArn)
      : this.createWebhookSecret(props.dataKey);

    this.consumer = createNodeFunction(this, 'Consumer', {
      entry: 'lambdas/outreach/handler.ts',
      description: 'churnguard: delivers outreach messages to the webhook, once per dedupId',
      timeout: props.consumerTimeout,
      memorySize: 512,
      logRetentionDays: props.logRetentionDays,
      environment: environmentFor('outreach', {
        tableName: props.table.tableName,
        webhookUrl: props.webhookUrl,
        webhookSecretArn: this.webhookSecret.secretArn,
        webhookTimeoutMs: props.webhookTimeoutMs,
        eventBusName: props.eventBus?.eventBusArn,
        cooldownDays: props.cooldownDays,
        serviceName: 'churnguard-outreach',
        metricsNamespace: props.metricsNamespace,
      }),
    });
    this.consumer.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(5),
        reportBatchItemFailures: true,
        // Bounds the load on the webhook receiver whatever the queue depth.
        maxConcurrency: 5,
      }),
    );
    // Idempotency records (Get/Put/Update/Delete) and the delivery stamp on OUT# items; no Scan, no Query.
    props.table.grant(this.consumer, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    props.dataKey?.grant(this.consumer, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
    this.webhookSecret.grantRead(this.consumer);
    props.eventBus?.grantPutEventsTo(this.consumer);
  }

  /**
   * What a redrive needs (the job's reconcile with `redrive: true`): SQS's message-move API on the
   * dead-letter queue (the move task reads and deletes there). The grantee must also be able to send
   * to the outreach queue and use the data key, as the job already can.
   */
  grantRedrive(grantee: iam.IGrantable): void {
    this.deadLetterQueue.grant(
      grantee,
      'sqs:StartMessageMoveTask',
      'sqs:ListMessageMoveTasks',
      'sqs:CancelMessageMoveTask',
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
    );
  }

  private createWebhookSecret(dataKey: kms.IKey | undefined): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'WebhookSecret', {
      description: 'churnguard: Standard Webhooks key signing outreach webhook deliveries (webhook-signature)',
      // 64 letters and digits: a valid base64 string, i.e. a Standard Webhooks secret of 48 bytes.
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      ...(dataKey ? { encryptionKey: dataKey } : {}),
    });
    acknowledge(
      secret,
      'AwsSolutions-SMG4',
      'A shared HMAC key with an external webhook receiver: rotating it needs the receiver to accept the new key at the same moment, which a rotation Lambda cannot coordinate. It is rotated by hand following the runbook (put a new value, update the receiver).',
    );
    return secret;
  }
}
