import { IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError } from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, type IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../adapters/aws/env.ts';
import { createOutreachConsumer, idempotencyExpirySeconds } from '../../app/deliverOutreach.ts';
import { localContext } from '../../cli/local/sqsPoller.ts';
import { OutreachConsumerEnv } from '../../lambdas/outreach/config.ts';
import { jobSettingsFromEnv } from '../../lambdas/train-score/config.ts';
import { buildOutreachMessage } from '../../model/outreach/message.ts';
import { scoredCustomer } from './outreachFactories.ts';

const DAY = 86_400;

/** Idempotency records in memory: enough of a persistence layer to see what the consumer stores. */
class MemoryPersistence extends BasePersistenceLayer {
  readonly records = new Map<string, IdempotencyRecord>();

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const record = this.records.get(idempotencyKey);
    if (!record) throw new IdempotencyItemNotFoundError(idempotencyKey);
    return record;
  }
  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const existing = this.records.get(record.idempotencyKey);
    if (existing && !existing.isExpired()) throw new IdempotencyItemAlreadyExistsError(`exists: ${record.idempotencyKey}`, existing);
    this.records.set(record.idempotencyKey, record);
  }
  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    this.records.set(record.idempotencyKey, record);
  }
  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    this.records.delete(record.idempotencyKey);
  }
}

const message = buildOutreachMessage({
  customer: scoredCustomer({ customerId: 'idem-1' }),
  playbook: 'payment_recovery',
  runId: 'score-2026-11-23',
  createdAt: '2026-11-23T00:00:00.000Z',
});
const event: SQSEvent = {
  Records: [
    {
      messageId: 'm-1',
      receiptHandle: 'r-1',
      body: JSON.stringify(message),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'test', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:churnguard-outreach',
      awsRegion: 'us-east-1',
    },
  ],
};

/** Delivers the one message through a consumer and returns the stored record's lifetime in seconds. */
async function storedLifetime(cooldownDays: number | undefined): Promise<number> {
  const persistenceStore = new MemoryPersistence();
  let delivered = 0;
  const consumer = createOutreachConsumer({
    sink: {
      kind: 'dry-run',
      deliver: async () => {
        delivered++;
        return {};
      },
    },
    deliveries: { recordAttempt: async () => {}, get: async () => undefined },
    persistenceStore,
    ...(cooldownDays === undefined ? {} : { cooldownDays }),
  });
  const before = Math.floor(Date.now() / 1000);
  const response = await consumer(event, localContext('idempotency-test'));
  expect(response.batchItemFailures).toEqual([]);
  expect(delivered).toBe(1);
  const [record] = [...persistenceStore.records.values()];
  expect(record?.getStatus()).toBe('COMPLETED');
  return (record?.expiryTimestamp ?? 0) - before;
}

describe('the consumer remembers a delivered dedupId for the cooldown plus one day', () => {
  it('computes the expiry from the cooldown', () => {
    expect(idempotencyExpirySeconds(14)).toBe(15 * DAY);
    expect(idempotencyExpirySeconds(30)).toBe(31 * DAY);
    expect(idempotencyExpirySeconds(0)).toBe(DAY);
  });

  it('stores delivered records that outlive the configured cooldown', async () => {
    const lifetime = await storedLifetime(30);
    expect(lifetime).toBeGreaterThanOrEqual(31 * DAY - 1);
    expect(lifetime).toBeLessThanOrEqual(31 * DAY + 1);
  });

  it('defaults to the job’s default cooldown (14 days) plus one', async () => {
    const lifetime = await storedLifetime(undefined);
    expect(lifetime).toBeGreaterThanOrEqual(15 * DAY - 1);
    expect(lifetime).toBeLessThanOrEqual(15 * DAY + 1);
  });

  it('reads the cooldown from COOLDOWN_DAYS, the variable and default the job uses', () => {
    const queue = { OUTREACH_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/churnguard-outreach' };
    expect(parseEnv(OutreachConsumerEnv, {}).COOLDOWN_DAYS).toBe(jobSettingsFromEnv(queue).config.cooldownDays);
    expect(parseEnv(OutreachConsumerEnv, { COOLDOWN_DAYS: '21' }).COOLDOWN_DAYS).toBe(
      jobSettingsFromEnv({ ...queue, COOLDOWN_DAYS: '21' }).config.cooldownDays,
    );
    expect(() => parseEnv(OutreachConsumerEnv, { COOLDOWN_DAYS: 'two weeks' })).toThrow(/COOLDOWN_DAYS/);
  });
});
