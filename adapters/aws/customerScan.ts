import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { type CustomerHistory, sortedEvents } from '../../model/features/history.ts';
import { parseOptions } from '../../model/validation.ts';
import { eventFromItem } from './eventStore.ts';
import { customerIdFromPk, EVENT_SK_PREFIX } from './keys.ts';

/** A stored item that is not a valid event: skipped, and reported through `onInvalidItem`. */
export interface InvalidItem {
  pk: string;
  sk: string;
  message: string;
}

/** Counters a caller can pass in to watch a scan (the benchmark splits reading from computing with them). */
export interface ScanStats {
  pages: number;
  items: number;
  customers: number;
  /** Milliseconds spent waiting for Scan pages (summed over workers, so it can exceed wall time). */
  readMs: number;
}

export const ScanOptions = z
  .object({
    tableName: z.string().min(1, 'tableName must not be empty'),
    /** Segments the table is split into (DynamoDB's TotalSegments). */
    totalSegments: z
      .number()
      .int()
      .min(1, 'totalSegments must be at least 1')
      .max(1_000_000, 'totalSegments must be at most 1,000,000')
      .default(4),
    /** Segments scanned at once; default: all of them, up to 8. */
    concurrency: z.number().int().min(1, 'concurrency must be at least 1').optional(),
    /** Only these segments: one worker of a fan-out (Step Functions Distributed Map). Default: all. */
    segments: z.array(z.number().int().min(0)).optional(),
    /** Items per Scan page; default: DynamoDB's 1 MB pages. */
    pageSize: z.number().int().positive().optional(),
  })
  .superRefine((o, ctx) => {
    for (const s of o.segments ?? []) {
      if (s >= o.totalSegments)
        ctx.addIssue({
          code: 'custom',
          path: ['segments'],
          message: `segment ${s} is out of range: totalSegments is ${o.totalSegments} (segments 0 to ${o.totalSegments - 1})`,
        });
    }
  });
export type ScanOptions = z.input<typeof ScanOptions> & {
  onInvalidItem?: (item: InvalidItem) => void;
  stats?: ScanStats;
};

/**
 * Streams every customer's events from one Scan segment. A segment splits the table by partition
 * key, and a customer is one partition (`C#<id>`), so a segment holds whole customers and their
 * items arrive together, in sort-key order: a customer is complete when the partition key changes.
 * Memory holds one customer (plus one page), however large the table.
 */
async function* scanSegment(
  documents: DynamoDBDocumentClient,
  options: z.output<typeof ScanOptions>,
  segment: number,
  extra: Pick<ScanOptions, 'onInvalidItem' | 'stats'>,
): AsyncGenerator<CustomerHistory> {
  let current: { pk: string; events: ChurnEvent[] } | undefined;
  const finished = new Set<string>();
  const finish = (): CustomerHistory | undefined => {
    if (!current) return undefined;
    finished.add(current.pk);
    if (extra.stats) extra.stats.customers++;
    const history = { customerId: customerIdFromPk(current.pk), events: sortedEvents(current.events) };
    current = undefined;
    return history;
  };
  let startKey: Record<string, unknown> | undefined;
  do {
    const started = performance.now();
    const page = await documents.send(
      new ScanCommand({
        TableName: options.tableName,
        Segment: segment,
        TotalSegments: options.totalSegments,
        // Only event items travel: profile, risk and outreach items are filtered out server side.
        FilterExpression: 'begins_with(#sk, :events)',
        ExpressionAttributeNames: { '#sk': 'SK' },
        ExpressionAttributeValues: { ':events': EVENT_SK_PREFIX },
        ExclusiveStartKey: startKey,
        ...(options.pageSize === undefined ? {} : { Limit: options.pageSize }),
      }),
    );
    if (extra.stats) {
      extra.stats.readMs += performance.now() - started;
      extra.stats.pages++;
      extra.stats.items += page.Items?.length ?? 0;
    }
    for (const item of page.Items ?? []) {
      const pk = String(item.PK);
      if (current && current.pk !== pk) {
        const done = finish();
        if (done) yield done;
      }
      if (!current) {
        if (finished.has(pk)) {
          throw new Error(
            `Scan segment ${segment} returned items of ${pk} after another partition: a customer's items must arrive together`,
          );
        }
        current = { pk, events: [] };
      }
      try {
        current.events.push(eventFromItem(item));
      } catch (error) {
        extra.onInvalidItem?.({ pk, sk: String(item.SK), message: (error as Error).message });
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  const last = finish();
  if (last) yield last;
}

/**
 * Merges async iterators, at most `concurrency` running at once; each holds at most one pending
 * item, so a slow consumer slows the readers instead of filling memory.
 */
async function* merge<T>(sources: ReadonlyArray<() => AsyncIterator<T>>, concurrency: number): AsyncGenerator<T> {
  const waiting = [...sources];
  const running = new Map<number, { iterator: AsyncIterator<T>; next: Promise<{ id: number; result: IteratorResult<T> }> }>();
  let nextId = 0;
  const start = () => {
    const source = waiting.shift();
    if (!source) return;
    const id = nextId++;
    const iterator = source();
    running.set(id, { iterator, next: iterator.next().then((result) => ({ id, result })) });
  };
  while (running.size < concurrency && waiting.length > 0) start();
  try {
    while (running.size > 0) {
      const { id, result } = await Promise.race([...running.values()].map((r) => r.next));
      const entry = running.get(id);
      if (!entry) continue;
      if (result.done) {
        running.delete(id);
        start();
        continue;
      }
      entry.next = entry.iterator.next().then((r) => ({ id, result: r }));
      yield result.value;
    }
  } finally {
    // Stop the other readers when the consumer stops early or one reader failed.
    for (const r of running.values()) r.next.catch(() => undefined);
    await Promise.allSettled([...running.values()].map((r) => r.iterator.return?.()));
  }
}

/**
 * Every customer's history from the events table, by a parallel Scan over `totalSegments`
 * segments (or only `segments`, for one worker of a fan-out). Customers arrive in no particular
 * order; each customer's events are complete and sorted. Items that are not valid events are
 * skipped and reported through `onInvalidItem`.
 *
 * @example
 * for await (const history of scanCustomerHistories(awsClients().documents, { tableName: 'churnguard', totalSegments: 8 })) {
 *   console.log(history.customerId, history.events.length);
 * }
 */
export function scanCustomerHistories(client: DynamoDBDocumentClient, options: ScanOptions): AsyncIterable<CustomerHistory> {
  const o = parseOptions(ScanOptions, options, 'scan options');
  const segments = [...new Set(o.segments ?? Array.from({ length: o.totalSegments }, (_, i) => i))].sort((a, b) => a - b);
  const concurrency = o.concurrency ?? Math.min(segments.length, 8);
  const extra = { onInvalidItem: options.onInvalidItem, stats: options.stats };
  return {
    [Symbol.asyncIterator]: () =>
      merge(
        segments.map((segment) => () => scanSegment(client, o, segment, extra)[Symbol.asyncIterator]()),
        concurrency,
      ),
  };
}
