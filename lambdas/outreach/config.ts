import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { awsClients } from '../../adapters/aws/clients.ts';
import { BaseEnv, parseEnv } from '../../adapters/aws/env.ts';
import { EventBridgeSink } from '../../adapters/aws/eventBridgeSink.ts';
import { TTL_ATTRIBUTE } from '../../adapters/aws/keys.ts';
import { DynamoOutreachStore } from '../../adapters/aws/outreachStore.ts';
import { SecretsManagerSecret, staticSecret, type WebhookSecretSource } from '../../adapters/aws/webhookSecret.ts';
import { DEFAULT_WEBHOOK_TIMEOUT_MS, DryRunSink, WebhookSink } from '../../adapters/webhook/webhookSink.ts';
import { createOutreachConsumer } from '../../app/deliverOutreach.ts';
import type { OutreachSink } from '../../app/ports.ts';
import { DEFAULT_COOLDOWN_DAYS } from '../../model/outreach/selection.ts';

/** Configuration of the outreach consumer. */
export const OutreachConsumerEnv = BaseEnv.extend({
  /** The CRM webhook; without it (and without an event bus) the consumer is a log-only dry run. */
  OUTREACH_WEBHOOK_URL: z.url().optional(),
  /** The EventBridge bus (name or ARN) each message is put on instead of a webhook. */
  OUTREACH_EVENT_BUS_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._\-/:]{1,1600}$/, 'must be an event bus name or ARN')
    .optional(),
  /** In AWS: the Secrets Manager secret holding the signing secret. */
  OUTREACH_WEBHOOK_SECRET_ARN: z.string().min(1).optional(),
  /** Locally: the signing secret itself (whsec_…; two, space-separated, during a rotation). */
  OUTREACH_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** The queue's visibility timeout must be at least six times this (the stack and the local poller see to it). */
  OUTREACH_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().max(60_000).default(DEFAULT_WEBHOOK_TIMEOUT_MS),
  /** The job's outreach cooldown (same variable and default): delivered dedupIds are remembered one day longer. */
  COOLDOWN_DAYS: z.coerce.number().int().nonnegative().default(DEFAULT_COOLDOWN_DAYS),
});
export type OutreachConsumerEnv = z.output<typeof OutreachConsumerEnv>;

/**
 * Picks the sink from the configuration: an event bus, a webhook, or (neither) a dry run. Both at
 * once, or a webhook without a secret, is a configuration error.
 */
export function sinkFromEnv(env: OutreachConsumerEnv, log: (entry: Record<string, unknown>) => void): OutreachSink {
  if (env.OUTREACH_EVENT_BUS_NAME) {
    if (env.OUTREACH_WEBHOOK_URL)
      throw new Error('Invalid configuration: set OUTREACH_EVENT_BUS_NAME or OUTREACH_WEBHOOK_URL, not both (one sink per consumer)');
    return new EventBridgeSink({ eventBusName: env.OUTREACH_EVENT_BUS_NAME });
  }
  if (!env.OUTREACH_WEBHOOK_URL) return new DryRunSink(log);
  let secret: WebhookSecretSource;
  if (env.OUTREACH_WEBHOOK_SECRET_ARN) secret = new SecretsManagerSecret(env.OUTREACH_WEBHOOK_SECRET_ARN);
  else if (env.OUTREACH_WEBHOOK_SECRET) secret = staticSecret(env.OUTREACH_WEBHOOK_SECRET);
  else
    throw new Error(
      'Invalid configuration: OUTREACH_WEBHOOK_URL is set but neither OUTREACH_WEBHOOK_SECRET_ARN nor OUTREACH_WEBHOOK_SECRET is',
    );
  return new WebhookSink({ url: env.OUTREACH_WEBHOOK_URL, secrets: () => secret.get(), timeoutMs: env.OUTREACH_WEBHOOK_TIMEOUT_MS });
}

/** Builds a consumer from an environment: the Lambda's, or the local CLI's. */
export function consumerFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  logger = new Logger({ serviceName: 'churnguard-outreach' }),
  onDryRun: (entry: Record<string, unknown>) => void = (entry) => logger.info('dry run: outreach not sent anywhere', entry),
) {
  const config = parseEnv(OutreachConsumerEnv, env);
  const { dynamodb, documents } = awsClients();
  return createOutreachConsumer({
    sink: sinkFromEnv(config, onDryRun),
    deliveries: new DynamoOutreachStore(documents, config.TABLE_NAME),
    persistenceStore: idempotencyStore(config.TABLE_NAME, dynamodb),
    cooldownDays: config.COOLDOWN_DAYS,
    log: (level, message, fields) => logger[level](message, fields ?? {}),
  });
}

/**
 * Idempotency records in the single table: PK `IDEMPOTENCY#outreach` (static, never a `C#`
 * customer partition, so customer scans skip it), SK `outreach-delivery#<hash of dedupId>`.
 * Their expiry goes in `ttl`, the table's TTL attribute (Powertools' default is `expiration`,
 * which DynamoDB would never act on: the records would pile up forever).
 */
export const idempotencyStore = (tableName: string, client: DynamoDBClient) =>
  new DynamoDBPersistenceLayer({
    tableName,
    keyAttr: 'PK',
    sortKeyAttr: 'SK',
    staticPkValue: IDEMPOTENCY_PK,
    expiryAttr: TTL_ATTRIBUTE,
    awsSdkV3Client: client,
  });
export const IDEMPOTENCY_PK = 'IDEMPOTENCY#outreach';
