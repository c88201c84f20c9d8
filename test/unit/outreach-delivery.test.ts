import { IdempotencyRecordStatus } from '@aws-lambda-powertools/idempotency';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createOutreachConsumer, type OutreachConsumerDependencies } from '../../app/deliverOutreach.ts';
import type { DeliveryAttempt, OutreachRecord, OutreachSink } from '../../app/ports.ts';
import { localContext } from '../../cli/local/sqsPoller.ts';
import { buildOutreachMessage, type OutreachMessage } from '../../model/outreach/message.ts';
import { MemoryPersistence, sqsEvent, sqsRecord } from '../helpers/memoryIdempotency.ts';
import { scoredCustomer } from './outreachFactories.ts';

/**
 * The queue consumer's domain (app/deliverOutreach.ts) with an in-memory ledger and idempotency
 * store: what reaches the webhook, what the ledger records, and what SQS is told to retry.
 */

type Log = Array<{ level: string; message: string; fields: Record<string, unknown> | undefined }>;

/** The ledger's delivery part in memory, with the store's semantics: the first success counts. */
class MemoryDeliveries {
  readonly records = new Map<string, Partial<OutreachRecord> & { attempts: number }>();
  readonly writes: DeliveryAttempt[] = [];
  /** Successful attempts to refuse before writing (a store outage): Infinity = always. */
  failOkWrites = 0;
  failReads = false;
  failFailureWrites = false;

  async recordAttempt(customerId: string, runId: string, attempt: DeliveryAttempt): Promise<void> {
    this.writes.push(attempt);
    if (attempt.ok && this.failOkWrites > 0) {
      this.failOkWrites--;
      throw new Error('ProvisionedThroughputExceededException');
    }
    if (!attempt.ok && this.failFailureWrites) throw new Error('store down');
    const key = `${runId}|${customerId}`;
    const record = this.records.get(key) ?? { customerId, runId, attempts: 0, status: 'queued' };
    if (record.status === 'delivered') return;
    record.attempts++;
    record.lastAttemptAt = attempt.at;
    if (attempt.ok) {
      record.status = 'delivered';
      record.deliveredAt = attempt.at;
      if (attempt.httpStatus !== undefined) record.httpStatus = attempt.httpStatus;
    } else {
      record.lastError = attempt.error;
      if (attempt.httpStatus === undefined) delete record.lastHttpStatus;
      else record.lastHttpStatus = attempt.httpStatus;
    }
    this.records.set(key, record);
  }

  async get(customerId: string, runId: string): Promise<OutreachRecord | undefined> {
    if (this.failReads) throw new Error('store down');
    return this.records.get(`${runId}|${customerId}`) as OutreachRecord | undefined;
  }

  record(message: OutreachMessage) {
    return this.records.get(`${message.runId}|${message.customerId}`);
  }
}

/** A webhook that answers each call with the next of `answers` (a status, or an error to throw), then 200. */
function webhook(...answers: Array<number | Error>) {
  const calls: Array<{ message: OutreachMessage; rawBody: string }> = [];
  const sink: OutreachSink = {
    kind: 'webhook',
    deliver: async (message, rawBody) => {
      calls.push({ message, rawBody });
      const answer = answers.shift() ?? 200;
      if (answer instanceof Error) throw answer;
      return { status: answer };
    },
  };
  return { sink, calls };
}

function setup(customerId: string, overrides: Partial<OutreachConsumerDependencies> & { sink?: OutreachSink } = {}) {
  const deliveries = new MemoryDeliveries();
  const persistenceStore = (overrides.persistenceStore as MemoryPersistence | undefined) ?? new MemoryPersistence();
  const log: Log = [];
  const hook = webhook();
  const consumer = createOutreachConsumer({
    sink: hook.sink,
    deliveries,
    persistenceStore,
    log: (level, message, fields) => log.push({ level, message, fields }),
    recordRetry: { attempts: 3, backoffMs: 1 },
    ...overrides,
  });
  const message = buildOutreachMessage({
    customer: scoredCustomer({ customerId }),
    playbook: 'payment_recovery',
    runId: 'run-7',
    createdAt: '2026-11-23T00:00:00.000Z',
  });
  const receive = (messageId = 'm-1', body = JSON.stringify(message)) =>
    consumer(sqsEvent(sqsRecord(messageId, body)), localContext('delivery-test'));
  return { consumer, deliveries, persistenceStore, log, hook, message, receive };
}

const stored = (persistence: MemoryPersistence) => [...persistence.records.values()];

describe('a delivery the webhook accepts', () => {
  it('posts the message’s exact JSON once and records it delivered with its time and HTTP status', async () => {
    // Prepare
    const inProgress: Array<number | undefined> = [];
    const persistence = new MemoryPersistence();
    const hook = webhook(202);
    const sink: OutreachSink = {
      kind: 'webhook',
      deliver: async (m, raw) => {
        // While delivering, the idempotency record is in progress until the Lambda's deadline.
        inProgress.push(...[...persistence.records.values()].map((r) => r.inProgressExpiryTimestamp));
        return hook.sink.deliver(m, raw);
      },
    };
    const { deliveries, persistenceStore, log, message, receive } = setup('ok-1', { sink, persistenceStore: persistence });
    const before = new Date().toISOString();
    // Act
    const response = await receive();
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(hook.calls).toHaveLength(1);
    expect(hook.calls[0]?.rawBody).toBe(JSON.stringify(message));
    expect(hook.calls[0]?.message).toEqual(message);
    const record = deliveries.record(message);
    expect(record).toMatchObject({ status: 'delivered', httpStatus: 202, attempts: 1 });
    expect(Date.parse(record?.deliveredAt ?? '')).toBeGreaterThanOrEqual(Date.parse(before));
    expect([...persistenceStore.records.keys()]).toEqual([expect.stringMatching(/^outreach-delivery#/)]);
    expect(inProgress).toHaveLength(1);
    expect(inProgress[0]).toBeGreaterThan(Date.now() + 20_000); // localContext gives 30 s
    expect(inProgress[0]).toBeLessThanOrEqual(Date.now() + 30_000);
    const [idempotency] = stored(persistenceStore);
    expect(idempotency?.getStatus()).toBe(IdempotencyRecordStatus.COMPLETED);
    expect(idempotency?.getResponse()).toEqual({
      dedupId: message.dedupId,
      deliveredAt: record?.deliveredAt,
      sink: 'webhook',
      status: 202,
    });
    expect(log).toEqual([
      { level: 'info', message: 'outreach delivered', fields: { dedupId: message.dedupId, playbook: 'payment_recovery', sink: 'webhook' } },
    ]);
  });

  it('records a dry run (no HTTP status) as delivered without a status', async () => {
    const dryRun: OutreachSink = { kind: 'dry-run', deliver: async () => ({}) };
    const { deliveries, persistenceStore, message, receive } = setup('dry-1', { sink: dryRun });
    expect(await receive()).toEqual({ batchItemFailures: [] });
    const record = deliveries.record(message);
    expect(record).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(record).not.toHaveProperty('httpStatus');
    expect(deliveries.writes).toStrictEqual([{ ok: true, at: record?.deliveredAt }]);
    expect(stored(persistenceStore)[0]?.getResponse()).toStrictEqual({
      dedupId: message.dedupId,
      deliveredAt: record?.deliveredAt,
      sink: 'dry-run',
    });
  });

  it('acknowledges without sending a message the ledger already records as delivered (a duplicate, a redrive)', async () => {
    // Prepare: delivered by an earlier message of the same claim
    const { deliveries, hook, log, message, receive } = setup('dup-1');
    await deliveries.recordAttempt(message.customerId, message.runId, { ok: true, at: '2026-11-23T01:00:00.000Z', httpStatus: 200 });
    // Act
    const response = await receive('m-2');
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(hook.calls).toEqual([]);
    expect(deliveries.record(message)).toMatchObject({ attempts: 1, deliveredAt: '2026-11-23T01:00:00.000Z' });
    expect(log).toEqual([
      {
        level: 'info',
        message: 'outreach already delivered: acknowledged without sending',
        fields: { dedupId: message.dedupId, deliveredAt: '2026-11-23T01:00:00.000Z' },
      },
    ]);
  });

  it('sends a message the ledger has as queued or failed (a redrive after reconcile gave up still reaches the customer)', async () => {
    const { deliveries, hook, message, receive } = setup('failed-1');
    deliveries.records.set(`${message.runId}|${message.customerId}`, {
      customerId: message.customerId,
      runId: message.runId,
      attempts: 0,
      status: 'failed',
    });
    expect(await receive()).toEqual({ batchItemFailures: [] });
    expect(hook.calls).toHaveLength(1);
    expect(deliveries.record(message)?.status).toBe('delivered');
  });
});

describe('a delivery the webhook refuses', () => {
  it('records the failed attempt with the error and HTTP status, reports the record to SQS, and the retry delivers once', async () => {
    // Prepare: a 503 first (the sink throws an error carrying the status), then a 200
    const refused = Object.assign(new Error('webhook answered 503'), { status: 503 });
    const hook = webhook(refused, 200);
    const { deliveries, persistenceStore, message, receive } = setup('retry-1', { sink: hook.sink });
    // Act
    const first = await receive('m-1');
    const failedRecord = { ...deliveries.record(message) };
    const idempotencyAfterFailure = stored(persistenceStore);
    const second = await receive('m-1');
    // Assess
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(failedRecord).toMatchObject({ status: 'queued', attempts: 1, lastError: 'webhook answered 503', lastHttpStatus: 503 });
    expect(idempotencyAfterFailure).toEqual([]); // nothing remembered: the retry may deliver
    expect(second).toEqual({ batchItemFailures: [] });
    expect(hook.calls).toHaveLength(2);
    expect(deliveries.record(message)).toMatchObject({ status: 'delivered', attempts: 2, httpStatus: 200 });
  });

  it('records a network error without an HTTP status', async () => {
    const hook = webhook(new Error('ECONNREFUSED'));
    const { deliveries, message, receive } = setup('net-1', { sink: hook.sink });
    expect(await receive()).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    const [attempt] = deliveries.writes;
    expect(attempt).toStrictEqual({ ok: false, at: expect.any(String), error: 'ECONNREFUSED' });
    expect(Date.parse((attempt as { at: string }).at)).toBeGreaterThan(Date.now() - 60_000);
    expect(deliveries.record(message)).not.toHaveProperty('lastHttpStatus');
  });

  it('still reports the webhook’s failure to SQS when the ledger cannot record the attempt', async () => {
    const hook = webhook(new Error('ECONNRESET'));
    const { deliveries, receive } = setup('net-2', { sink: hook.sink });
    deliveries.failFailureWrites = true;
    expect(await receive()).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(deliveries.writes).toHaveLength(1);
  });
});

describe('a message that cannot be read', () => {
  it('fails that record only, with a log naming the SQS message and the receive count', async () => {
    const { hook, log, message, consumer } = setup('bad-1');
    const response = await consumer(
      sqsEvent(sqsRecord('m-bad', '{"messageVersion":1', 3), sqsRecord('m-good', JSON.stringify(message))),
      localContext('delivery-test'),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-bad' }] });
    expect(hook.calls.map((c) => c.message.dedupId)).toEqual([message.dedupId]);
    expect(log[0]).toMatchObject({
      level: 'error',
      message: 'malformed outreach message',
      fields: { messageId: 'm-bad', receiveCount: '3' },
    });
    expect(String(log[0]?.fields?.error)).toMatch(/^outreach message is not JSON/);
  });

  it('logs a malformed record without SQS attributes too', async () => {
    const { log, consumer } = setup('bad-2');
    const { attributes: _attributes, ...bare } = sqsRecord('m-bare', 'not json');
    const response = await consumer(sqsEvent(bare as SQSRecord), localContext('delivery-test'));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-bare' }] });
    expect(log).toEqual([
      {
        level: 'error',
        message: 'malformed outreach message',
        fields: { messageId: 'm-bare', receiveCount: undefined, error: expect.any(String) },
      },
    ]);
  });

  it('retries a record whose ledger cannot be read, without sending it', async () => {
    const { deliveries, hook, receive } = setup('read-1');
    deliveries.failReads = true;
    expect(await receive()).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(hook.calls).toEqual([]);
  });
});

describe('a delivery the webhook accepted but the ledger could not record', () => {
  it('retries the ledger write and records the delivery once it succeeds', async () => {
    // Prepare: the first write of the success is throttled
    const { deliveries, hook, log, message, receive } = setup('store-blip');
    deliveries.failOkWrites = 1;
    // Act
    const response = await receive();
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(hook.calls).toHaveLength(1);
    expect(deliveries.writes.map((w) => w.ok)).toEqual([true, true]);
    expect(deliveries.record(message)).toMatchObject({ status: 'delivered', attempts: 1, httpStatus: 200 });
    expect(log.filter((l) => l.level !== 'info')).toEqual([]);
  });

  it('by default tries three times, pausing 200 ms then 400 ms', async () => {
    const pauses: number[] = [];
    const { deliveries, receive } = setup('store-default', {
      recordRetry: { sleep: async (ms) => void pauses.push(ms) },
    });
    deliveries.failOkWrites = 5;
    expect(await receive()).toEqual({ batchItemFailures: [] });
    expect(pauses).toEqual([200, 400]);
    expect(deliveries.writes.map((w) => w.ok)).toEqual([true, true, true]);
  });

  it('really pauses between tries when not told how (called without a Lambda context, as a local poller may)', async () => {
    const { deliveries, message, consumer } = setup('store-real-pause', { recordRetry: { backoffMs: 100 } });
    deliveries.failOkWrites = 1;
    const started = performance.now();
    const response = await consumer(sqsEvent(sqsRecord('m-1', JSON.stringify(message))));
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(deliveries.record(message)?.status).toBe('delivered');
  });

  it('never sends the message again: SQS is told it succeeded and a redelivery is answered from memory', async () => {
    // Prepare: the store refuses every write of the success
    const { deliveries, persistenceStore, hook, log, message, receive } = setup('store-down');
    deliveries.failOkWrites = Number.POSITIVE_INFINITY;
    // Act: the message, then the same message again (an SQS redelivery, or reconcile's re-send)
    const first = await receive('m-1');
    const again = await receive('m-2', JSON.stringify({ ...message, createdAt: '2026-11-24T00:00:00.000Z' })); // a resumed run's copy
    // Assess: one contact
    expect(hook.calls).toHaveLength(1);
    expect(first).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    expect(stored(persistenceStore).map((r) => r.getStatus())).toEqual([IdempotencyRecordStatus.COMPLETED]);
    // Visible: the ledger still has it open (reconcile's work list), and an error says why
    expect(deliveries.record(message)).toBeUndefined();
    expect(deliveries.writes.filter((w) => w.ok).length).toBe(6); // 3 tries per receive
    const errors = log.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({
      message:
        'outreach delivered but not recorded on the ledger: reconcile will re-send it and the consumer will record it without delivering again',
      fields: { dedupId: message.dedupId, error: 'ProvisionedThroughputExceededException' },
    });
  });

  it('records the delivery when the message comes back after the store recovered, still without sending it again', async () => {
    // Prepare: delivered while the store was down
    const { deliveries, hook, message, receive } = setup('store-back');
    deliveries.failOkWrites = 3;
    await receive('m-1');
    const firstDeliveredAt = (deliveries.writes[0] as { at: string }).at;
    // Act: reconcile re-sends the same message
    const response = await receive('m-2');
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(hook.calls).toHaveLength(1);
    expect(deliveries.record(message)).toMatchObject({ status: 'delivered', attempts: 1, httpStatus: 200, deliveredAt: firstDeliveredAt });
  });
});
