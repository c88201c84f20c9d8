import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../adapters/aws/clients.ts';
import { type InvalidItem, scanCustomerHistories } from '../../adapters/aws/customerScan.ts';
import { eventToItem } from '../../adapters/aws/eventStore.ts';
import { customerPk, PROFILE_SK, RISK_SK } from '../../adapters/aws/keys.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import { ChurnEvent } from '../../model/events/schemas.ts';
import { buildDatasets } from '../../model/features/datasets.ts';
import type { CustomerHistory } from '../../model/features/history.ts';

const TABLE = 'churnguard';
const CUSTOMERS = 60;
let stack: LocalStack;
let dir: string;
let clients: AwsClients;
const expected = new Map<string, string[]>();

/** Customer i has 1 + (i % 9) events, written in shuffled order, some at the same instant. */
function eventsOf(i: number): ChurnEvent[] {
  const customerId = `cust-${String(i).padStart(3, '0')}`;
  return Array.from({ length: 1 + (i % 9) }, (_, k) =>
    ChurnEvent.parse({
      eventId: `ev-${i}-${k}`,
      customerId,
      type: k === 0 ? 'subscription_started' : 'session_started',
      occurredAt: new Date(Date.UTC(2026, 0, 1 + Math.floor(k / 2), 9)).toISOString(),
      properties: k === 0 ? { plan: 'pro', mrrCents: 1000 + i } : {},
    }),
  );
}

async function batchWrite(items: Array<Record<string, unknown>>): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let pending: Record<string, unknown> | undefined = { [TABLE]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) };
    while (pending && Object.keys(pending).length > 0) {
      const out = await clients.documents.send(new BatchWriteCommand({ RequestItems: pending as never }));
      pending = out.UnprocessedItems as Record<string, unknown> | undefined;
    }
  }
}

async function collect(iterable: AsyncIterable<CustomerHistory>): Promise<CustomerHistory[]> {
  const out: CustomerHistory[] = [];
  for await (const h of iterable) out.push(h);
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-scan-'));
  stack = await openLocalStack(dir);
  clients = createAwsClients();
  const items: Array<Record<string, unknown>> = [];
  for (let i = 0; i < CUSTOMERS; i++) {
    const events = eventsOf(i);
    expected.set(
      events[0]!.customerId,
      events.map((e) => e.eventId),
    );
    for (const e of [...events].reverse()) items.push(eventToItem(e, { ingestedAt: new Date() }) as unknown as Record<string, unknown>);
    // Items of other kinds share the partition and must not become events.
    items.push({ PK: customerPk(events[0]!.customerId), SK: PROFILE_SK, attributes: { plan: 'pro' } });
    if (i % 3 === 0) items.push({ PK: customerPk(events[0]!.customerId), SK: RISK_SK, risk: 0.4 });
  }
  // A corrupt event item: reported, skipped, its customer's other events kept.
  items.push({
    PK: customerPk('cust-001'),
    SK: 'E#2026-02-01T00:00:00.000Z#broken',
    eventId: 'broken',
    customerId: 'cust-001',
    type: 'page_viewed',
    occurredAt: '2026-02-01T00:00:00.000Z',
    properties: {},
  });
  await batchWrite(items);
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('scanCustomerHistories on the local DynamoDB', () => {
  it('yields every customer exactly once with all of their events, sorted, over 4 parallel segments', async () => {
    const invalid: InvalidItem[] = [];
    const histories = await collect(
      scanCustomerHistories(clients.documents, { tableName: TABLE, totalSegments: 4, onInvalidItem: (i) => invalid.push(i) }),
    );
    expect(histories.length).toBe(CUSTOMERS);
    for (const h of histories) {
      expect(h.events.map((e) => e.eventId)).toEqual(expected.get(h.customerId));
      expect(h.events.every((e) => e.customerId === h.customerId)).toBe(true);
    }
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatchObject({ pk: 'C#cust-001', sk: 'E#2026-02-01T00:00:00.000Z#broken' });
    expect(invalid[0]?.message).toMatch(/type must be one of/);
  });

  it('keeps a customer whole when their items span several small pages', async () => {
    const stats = { pages: 0, items: 0, customers: 0, readMs: 0 };
    const histories = await collect(
      scanCustomerHistories(clients.documents, { tableName: TABLE, totalSegments: 3, pageSize: 4, stats, onInvalidItem: () => {} }),
    );
    expect(stats.pages).toBeGreaterThan(20);
    expect(histories.length).toBe(CUSTOMERS);
    for (const h of histories) expect(h.events.map((e) => e.eventId)).toEqual(expected.get(h.customerId));
  });

  it('splits customers between fan-out workers: each segment alone, together exactly everyone', async () => {
    const seen: string[] = [];
    let nonEmpty = 0;
    for (let segment = 0; segment < 5; segment++) {
      const part = await collect(
        scanCustomerHistories(clients.documents, { tableName: TABLE, totalSegments: 5, segments: [segment], onInvalidItem: () => {} }),
      );
      if (part.length > 0) nonEmpty++;
      seen.push(...part.map((h) => h.customerId));
    }
    expect(nonEmpty).toBeGreaterThan(1);
    expect(seen.length).toBe(CUSTOMERS);
    expect(new Set(seen)).toEqual(new Set(expected.keys()));
  });

  it('feeds buildDatasets straight from the store', async () => {
    const d = await buildDatasets(scanCustomerHistories(clients.documents, { tableName: TABLE, onInvalidItem: () => {} }), {
      asOf: '2026-03-01',
      horizonDays: 30,
      churn: { kind: 'cancelled' },
    });
    expect(d.scoring.customerIds.length).toBe(CUSTOMERS);
    expect(new Set(d.scoring.mrrCents)).toContain(1001);
  });

  it('rejects a segment outside totalSegments, naming it', () => {
    expect(() => scanCustomerHistories(clients.documents, { tableName: TABLE, totalSegments: 4, segments: [4] })).toThrow(
      /segment 4 is out of range: totalSegments is 4/,
    );
  });
});
