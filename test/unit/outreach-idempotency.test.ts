import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../adapters/aws/env.ts';
import { createOutreachConsumer, idempotencyExpirySeconds } from '../../app/deliverOutreach.ts';
import { localContext } from '../../cli/local/sqsPoller.ts';
import { OutreachConsumerEnv } from '../../lambdas/outreach/config.ts';
import { jobSettingsFromEnv } from '../../lambdas/train-score/config.ts';
import { buildOutreachMessage } from '../../model/outreach/message.ts';
import { MemoryPersistence, sqsEvent, sqsRecord } from '../helpers/memoryIdempotency.ts';
import { scoredCustomer } from './outreachFactories.ts';

const DAY = 86_400;

const message = buildOutreachMessage({
  customer: scoredCustomer({ customerId: 'idem-1' }),
  playbook: 'payment_recovery',
  runId: 'score-2026-11-23',
  createdAt: '2026-11-23T00:00:00.000Z',
});
const event = sqsEvent(sqsRecord('m-1', JSON.stringify(message)));

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
