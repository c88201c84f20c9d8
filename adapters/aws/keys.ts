/**
 * Keys of the single DynamoDB table. Everything of one customer shares the partition
 * `C#<customerId>`, so a Scan segment always holds whole customers.
 */
export const customerPk = (customerId: string) => `C#${customerId}`;
/** Events sort by time inside the partition; the eventId makes a re-sent event overwrite itself. */
export const eventSk = (occurredAt: string, eventId: string) => `E#${occurredAt}#${eventId}`;
export const EVENT_SK_PREFIX = 'E#';
export const PROFILE_SK = 'PROFILE';
export const RISK_SK = 'RISK';
export const outreachSk = (runId: string) => `OUT#${runId}`;
export const OUTREACH_SK_PREFIX = 'OUT#';

export const customerIdFromPk = (pk: string): string => {
  if (!pk.startsWith('C#')) throw new Error(`not a customer partition key: ${pk}`);
  return pk.slice(2);
};

/**
 * The newest occurredAt ingest has stored, kept in a few shards so that concurrent ingest requests
 * do not all write one partition: `WATERMARK#<n>` / `EVENTS`, n in 0..WATERMARK_SHARDS-1.
 * Readers take the maximum. Not a `C#` partition, so customer scans skip it.
 */
export const WATERMARK_SHARDS = 8;
export const watermarkPk = (shard: number) => `WATERMARK#${shard}`;
export const WATERMARK_SK = 'EVENTS';

/**
 * The table's TTL attribute (epoch seconds): DynamoDB deletes an item some time after it passes.
 * Events and the consumer's idempotency records both expire through it; the stack enables TTL on it.
 */
export const TTL_ATTRIBUTE = 'ttl';
