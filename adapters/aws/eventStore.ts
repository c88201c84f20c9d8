import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type DynamoDBDocumentClient, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventStore, EventWatermark } from '../../app/ports.ts';
import type { EventWriteFailure } from '../../model/events/ingest.ts';
import { ChurnEvent, EVENT_SCHEMA_VERSION } from '../../model/events/schemas.ts';
import { formatIssues } from '../../model/validation.ts';
import { type BatchWriteOptions, batchWriteAll, type KeyedPut } from './batchWrite.ts';
import { customerPk, EVENT_SK_PREFIX, eventSk, TTL_ATTRIBUTE, WATERMARK_SHARDS, WATERMARK_SK, watermarkPk } from './keys.ts';

/** An event as stored in the table. */
export type EventItem = {
  PK: string;
  SK: string;
  eventId: string;
  customerId: string;
  type: ChurnEvent['type'];
  occurredAt: string;
  properties: Record<string, unknown>;
  /** When ingest wrote it (ISO); a re-send overwrites it. */
  ingestedAt: string;
  schemaVersion: number;
  /** Expiry, epoch seconds: ingestion + EVENT_TTL_DAYS, when configured. */
  ttl?: number;
};

export interface EventItemOptions {
  ingestedAt: Date;
  ttlDays?: number | undefined;
}

/** The table item for an event; its key is deterministic, so a re-sent event overwrites itself. */
export function eventToItem(event: ChurnEvent, options: EventItemOptions): EventItem {
  const item: EventItem = {
    PK: customerPk(event.customerId),
    SK: eventSk(event.occurredAt, event.eventId),
    eventId: event.eventId,
    customerId: event.customerId,
    type: event.type,
    occurredAt: event.occurredAt,
    properties: event.properties,
    ingestedAt: options.ingestedAt.toISOString(),
    schemaVersion: EVENT_SCHEMA_VERSION,
  };
  // Counted from ingestion, not from occurredAt: a backfill of events older than the retention would
  // otherwise be answered 200 and then deleted by DynamoDB TTL within days. For live events the two agree.
  if (options.ttlDays !== undefined)
    item[TTL_ATTRIBUTE] = Math.floor(options.ingestedAt.getTime() / 1000) + Math.round(options.ttlDays * 86_400);
  return item;
}

/**
 * The event held by a table item (as lib-dynamodb unmarshalls it), checked against the event
 * contract. Use it in any code that reads events (Query or Scan) so that all readers agree.
 * Storage fields (keys, ingestedAt, schemaVersion, ttl) are not part of the event.
 *
 * @throws Error naming the item's key when the item is not a valid event
 */
export function eventFromItem(item: Record<string, unknown>): ChurnEvent {
  const { eventId, customerId, type, occurredAt, properties } = item;
  const parsed = ChurnEvent.safeParse({ eventId, customerId, type, occurredAt, properties });
  if (!parsed.success) {
    throw new Error(`item ${String(item.PK)} / ${String(item.SK)} is not a valid event: ${formatIssues(parsed.error, '(item)')}`);
  }
  return parsed.data;
}

/** occurredAt as a UTC ISO instant (comparable as a string), or undefined when it is not one. */
const normalisedInstant = (value: unknown): string | undefined => {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
};

/** The newest occurredAt among the events that were stored (not in `failed`). */
function latestStored(events: readonly ChurnEvent[], failed: readonly EventWriteFailure[]): string | undefined {
  const unstored = new Set(failed.map((f) => f.event));
  let latest: string | undefined;
  for (const event of events) {
    if (unstored.has(event)) continue;
    const at = normalisedInstant(event.occurredAt);
    if (at !== undefined && (latest === undefined || at > latest)) latest = at;
  }
  return latest;
}

const itemKey = (item: Record<string, unknown>): string => `${String(item.PK)}\u0000${String(item.SK)}`;

export interface DynamoEventStoreOptions {
  tableName: string;
  /** Expire events this many days after they were ingested (sets `ttl`). */
  ttlDays?: number | undefined;
  now?: () => Date;
  batchWrite?: Partial<BatchWriteOptions>;
  /** Items per Query page (DynamoDB's own 1 MB page when unset). */
  queryPageSize?: number;
}

/** `EventStore` on the single DynamoDB table (keys in keys.ts), with the events' watermark. */
export class DynamoEventStore implements EventStore, EventWatermark {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly options: DynamoEventStoreOptions,
  ) {}

  /**
   * Writes the events with BatchWriteItem. Events with the same key are written once: the last
   * one wins, as if they had been sent one after the other. Reports, by event, what is not stored.
   */
  async putEvents(events: readonly ChurnEvent[]): Promise<{ failed: EventWriteFailure[] }> {
    const ingestedAt = (this.options.now ?? (() => new Date()))();
    const byKey = new Map<string, KeyedPut<ChurnEvent>>();
    for (const event of events) {
      const item = eventToItem(event, { ingestedAt, ttlDays: this.options.ttlDays });
      const key = itemKey(item);
      const earlier = byKey.get(key);
      // Delete first so the surviving item takes the position of the last occurrence.
      byKey.delete(key);
      byKey.set(key, { key, item, sources: [...(earlier?.sources ?? []), event] });
    }
    const failures = await batchWriteAll(this.documents, this.options.tableName, [...byKey.values()], itemKey, this.options.batchWrite);
    const failed = failures.flatMap(({ sources, reason }) => sources.map((event) => ({ event, reason })));
    await this.#raiseWatermark(latestStored(events, failed));
    return { failed };
  }

  /**
   * The newest occurredAt of any stored event: the maximum of the watermark shards, or, for a
   * table written before the watermark existed, found once by a Scan and recorded.
   */
  async latestEventAt(): Promise<string | undefined> {
    const keys = Array.from({ length: WATERMARK_SHARDS }, (_, shard) => ({ PK: watermarkPk(shard), SK: WATERMARK_SK }));
    const result = await this.documents.send(
      new BatchGetCommand({ RequestItems: { [this.options.tableName]: { Keys: keys, ConsistentRead: true } } }),
    );
    const marks = (result.Responses?.[this.options.tableName] ?? [])
      .map((item) => item.latestEventAt)
      .filter((v): v is string => typeof v === 'string');
    if (marks.length > 0) return marks.sort().at(-1);
    const scanned = await this.#scanLatestEvent();
    if (scanned) await this.#raiseWatermark(scanned);
    return scanned;
  }

  /** Moves one shard of the watermark forward (never back): a conditional update, idempotent. */
  async #raiseWatermark(occurredAt: string | undefined): Promise<void> {
    if (occurredAt === undefined) return;
    const shard = Math.floor(Math.random() * WATERMARK_SHARDS);
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { PK: watermarkPk(shard), SK: WATERMARK_SK },
          UpdateExpression: 'SET latestEventAt = :t',
          ConditionExpression: 'attribute_not_exists(latestEventAt) OR latestEventAt < :t',
          ExpressionAttributeValues: { ':t': occurredAt },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) && (error as { name?: string }).name !== 'ConditionalCheckFailedException')
        throw error;
    }
  }

  async #scanLatestEvent(): Promise<string | undefined> {
    let latest: string | undefined;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.options.tableName,
          ProjectionExpression: 'occurredAt',
          FilterExpression: 'begins_with(#sk, :events)',
          ExpressionAttributeNames: { '#sk': 'SK' },
          ExpressionAttributeValues: { ':events': EVENT_SK_PREFIX },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const at = normalisedInstant(item.occurredAt);
        if (at !== undefined && (latest === undefined || at > latest)) latest = at;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return latest;
  }

  async listCustomerEvents(customerId: string, options: { limit?: number } = {}): Promise<ChurnEvent[]> {
    const events: ChurnEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': 'PK', '#sk': 'SK' },
          ExpressionAttributeValues: { ':pk': customerPk(customerId), ':prefix': EVENT_SK_PREFIX },
          ExclusiveStartKey: startKey,
          ...(this.options.queryPageSize === undefined ? {} : { Limit: this.options.queryPageSize }),
        }),
      );
      for (const item of page.Items ?? []) events.push(eventFromItem(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && (options.limit === undefined || events.length < options.limit));
    return options.limit === undefined ? events : events.slice(0, options.limit);
  }
}
