import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchWriteOptions } from '../../adapters/aws/batchWrite.ts';
import { DynamoEventStore, eventFromItem } from '../../adapters/aws/eventStore.ts';
import { customerPk, eventSk } from '../../adapters/aws/keys.ts';
import { type HttpApi, startHttpApi } from '../../cli/local/httpApi.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import { createIngestHandler } from '../../lambdas/ingest/handler.ts';
import type { IngestResponseBody } from '../../lambdas/ingest/responses.ts';
import { ChurnEvent } from '../../model/events/schemas.ts';
import { type BatchWriteFaults, injectBatchWriteFaults } from '../helpers/dynamoFaults.ts';
import { makeEvent } from '../helpers/eventFactories.ts';

const TABLE = 'churnguard';
let dir: string;
let stack: LocalStack;
const apis: HttpApi[] = [];

/** A client of its own, so faults injected for one test stay in that test. */
const freshDocuments = () => DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const fastRetries = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 };

/** The ingest handler on a real HTTP port, writing to dynalite through the real SDK. */
async function serveIngest(options: { faults?: BatchWriteFaults; ttlDays?: number; retries?: Partial<BatchWriteOptions> } = {}) {
  const documents = freshDocuments();
  const faults = options.faults ? injectBatchWriteFaults(documents, options.faults) : undefined;
  const store = new DynamoEventStore(documents, {
    tableName: TABLE,
    ttlDays: options.ttlDays,
    batchWrite: { ...fastRetries, ...options.retries },
  });
  const handler = createIngestHandler({
    store: () => store,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'test' }),
  });
  const api = await startHttpApi({ port: 0, handler });
  apis.push(api);
  const post = async (body: unknown, contentType = 'application/json') => {
    const response = await fetch(`${api.url}/events`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as IngestResponseBody };
  };
  return { post, store, documents, faults, api };
}

const storedEvents = (customerId: string) => new DynamoEventStore(freshDocuments(), { tableName: TABLE }).listCustomerEvents(customerId);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-ingest-'));
  stack = await openLocalStack(dir);
});

afterAll(async () => {
  await Promise.all(apis.map((a) => a.close()));
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ingest API on dynalite', () => {
  it('serves GET /health and answers unknown routes with 404', async () => {
    const { api } = await serveIngest();
    expect(await (await fetch(`${api.url}/health`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${api.url}/nope`)).status).toBe(404);
  });

  it('stores a re-sent batch once: the deterministic key makes the write idempotent', async () => {
    const { post } = await serveIngest();
    const events = Array.from({ length: 30 }, (_, i) =>
      makeEvent('feature_used', { customerId: 'resend', eventId: `r-${i}`, occurredAt: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z` }),
    );
    const first = await post(events);
    const again = await post(events);
    expect([first.status, again.status]).toEqual([200, 200]);
    const stored = await storedEvents('resend');
    expect(stored).toHaveLength(30);
    expect(stored.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
  });

  it('writes duplicate keys within one batch once, the last one winning (the same instant in another offset is the same key)', async () => {
    const { post } = await serveIngest();
    const first = makeEvent('feature_used', {
      customerId: 'dups',
      eventId: 'd-1',
      occurredAt: '2026-02-01T10:00:00Z',
      properties: { feature: 'first', quantity: 1 },
    });
    const last = { ...first, occurredAt: '2026-02-01T11:00:00+01:00', properties: { feature: 'last', quantity: 2 } };
    const filler = Array.from({ length: 30 }, (_, i) => makeEvent('session_started', { customerId: 'dups', eventId: `f-${i}` }));
    const res = await post([first, ...filler, last]);
    expect(res).toEqual({ status: 200, body: { accepted: 32, rejected: [] } });
    const stored = await storedEvents('dups');
    expect(stored.filter((e) => e.eventId === 'd-1')).toEqual([expect.objectContaining({ properties: { feature: 'last', quantity: 2 } })]);
    expect(stored).toHaveLength(31);
  });

  it('retries UnprocessedItems with backoff until every event is stored', async () => {
    const { post, faults } = await serveIngest({ faults: { holdBack: (call, items) => (call <= 3 ? Math.ceil(items / 2) : 0) } });
    const events = Array.from({ length: 60 }, (_, i) => makeEvent('session_started', { customerId: 'throttled', eventId: `t-${i}` }));
    const res = await post(events);
    expect(res).toEqual({ status: 200, body: { accepted: 60, rejected: [] } });
    expect(faults?.heldBack).toBeGreaterThan(0);
    expect(await storedEvents('throttled')).toHaveLength(60);
  });

  it('answers 503 naming the events DynamoDB kept refusing, while their neighbours are stored', async () => {
    const down = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
      name: 'ProvisionedThroughputExceededException',
    });
    const holdsDown = (items: Array<{ PutRequest?: { Item?: Record<string, unknown> } }>) =>
      items.some((r) => r.PutRequest?.Item?.customerId === 'down');
    const { post } = await serveIngest({ faults: { throwError: (_call, items) => (holdsDown(items) ? down : undefined) } });
    // 25 events of `up` fill one batch; the 3 of `down` land in the next one, which keeps failing.
    const up = Array.from({ length: 25 }, (_, i) => makeEvent('session_started', { customerId: 'up', eventId: `u-${i}` }));
    const lost = Array.from({ length: 3 }, (_, i) => makeEvent('session_started', { customerId: 'down', eventId: `x-${i}` }));
    const res = await post([...up, ...lost]);
    expect(res.status).toBe(503);
    expect(res.body.accepted).toBe(25);
    expect(res.body.unstored?.map((u) => [u.index, u.eventId])).toEqual([
      [25, 'x-0'],
      [26, 'x-1'],
      [27, 'x-2'],
    ]);
    expect(res.body.unstored?.[0]?.reason).toBe(
      'DynamoDB write failed: Rate of requests exceeds the allowed throughput; gave up after 4 attempt(s)',
    );
    expect(await storedEvents('up')).toHaveLength(25);
    expect(await storedEvents('down')).toHaveLength(0);
  });

  it('gives up retrying when its time budget is spent, so the answer comes before API Gateway times out', async () => {
    const { post } = await serveIngest({
      faults: { holdBack: (_call, items) => items },
      retries: { maxAttempts: 100, baseDelayMs: 20, maxDelayMs: 20, budgetMs: 60 },
    });
    const started = Date.now();
    const res = await post([makeEvent('session_started', { customerId: 'budget' })]);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.status).toBe(503);
    expect(res.body.unstored?.[0]?.reason).toMatch(
      /^DynamoDB left 1 item\(s\) unprocessed \(throttled\); the 60 ms time budget is spent; gave up after \d+ attempt\(s\)$/,
    );
  });

  it('splits a batch DynamoDB refuses as invalid into single puts, so the neighbours are still stored', async () => {
    const invalid = Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException' });
    const { post, faults } = await serveIngest({ faults: { throwError: (_call, items) => (items.length > 1 ? invalid : undefined) } });
    const events = Array.from({ length: 5 }, (_, i) => makeEvent('session_started', { customerId: 'split', eventId: `s-${i}` }));
    expect((await post(events)).status).toBe(200);
    expect(faults?.thrown).toBe(1);
    expect(await storedEvents('split')).toHaveLength(5);
  });

  it('stores the item fields of the contract, with ttl = ingestion + EVENT_TTL_DAYS when set, so a backfill is kept', async () => {
    const { post, documents } = await serveIngest({ ttlDays: 30 });
    // Older than the retention: counted from occurredAt, DynamoDB TTL would delete it right after the 200.
    const event = makeEvent('payment_failed', { customerId: 'ttl', eventId: 'p-1', occurredAt: '2023-01-10T00:00:00Z' });
    const { status } = await post([event]);
    expect(status).toBe(200);
    const { Item } = await documents.send(
      new GetCommand({ TableName: TABLE, Key: { PK: customerPk('ttl'), SK: eventSk('2023-01-10T00:00:00.000Z', 'p-1') } }),
    );
    expect(Item).toEqual({
      PK: 'C#ttl',
      SK: 'E#2023-01-10T00:00:00.000Z#p-1',
      eventId: 'p-1',
      customerId: 'ttl',
      type: 'payment_failed',
      occurredAt: '2023-01-10T00:00:00.000Z',
      properties: event.properties,
      ingestedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      schemaVersion: 1,
      ttl: expect.any(Number),
    });
    expect(Item?.ttl).toBe(Math.floor(Date.parse(String(Item?.ingestedAt)) / 1000) + 30 * 86_400);
    expect(Item?.ttl).toBeGreaterThan(Date.now() / 1000 + 29 * 86_400);
    expect(eventFromItem(Item ?? {})).toEqual({ ...event, occurredAt: '2023-01-10T00:00:00.000Z' });
  });
});

describe('DynamoEventStore reads', () => {
  it('lists a customer’s events oldest first across Query pages, and honours a limit', async () => {
    const documents = freshDocuments();
    const store = new DynamoEventStore(documents, { tableName: TABLE, queryPageSize: 7 });
    const events = Array.from({ length: 20 }, (_, i) =>
      ChurnEvent.parse(
        makeEvent('custom', {
          customerId: 'pages',
          eventId: `p-${i}`,
          occurredAt: new Date(Date.UTC(2026, 0, 20 - i)).toISOString(),
          properties: { name: 'n', quantity: i },
        }),
      ),
    );
    expect((await store.putEvents(events)).failed).toEqual([]);
    const listed = await store.listCustomerEvents('pages');
    expect(listed.map((e) => e.eventId)).toEqual([...events].reverse().map((e) => e.eventId));
    expect((await store.listCustomerEvents('pages', { limit: 9 })).map((e) => e.eventId)).toEqual(listed.slice(0, 9).map((e) => e.eventId));
  });

  it('refuses to read an item that is not a valid event, naming its key', () => {
    expect(() =>
      eventFromItem({
        PK: 'C#x',
        SK: 'E#2026#e',
        eventId: 'e',
        customerId: 'x',
        type: 'feature_used',
        occurredAt: '2026-01-01T00:00:00.000Z',
        properties: {},
      }),
    ).toThrow(/item C#x \/ E#2026#e is not a valid event: properties.feature/);
  });
});
