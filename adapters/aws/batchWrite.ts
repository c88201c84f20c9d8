import { BatchWriteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';

/** DynamoDB's limit of requests in one BatchWriteItem. */
export const BATCH_WRITE_LIMIT = 25;

/** How `batchWriteAll` retries. The defaults bound one call to a few seconds of waiting. */
export interface BatchWriteOptions {
  /** Attempts per batch, the first included. */
  maxAttempts: number;
  /** First backoff ceiling; doubles each attempt. */
  baseDelayMs: number;
  /** Largest backoff ceiling. */
  maxDelayMs: number;
  /** Batches in flight at once. */
  concurrency: number;
  /**
   * Time budget of one `batchWriteAll` call: no retry starts after it, so a caller behind API
   * Gateway (30 s integration timeout) still answers, naming what is not stored.
   */
  budgetMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export const DEFAULT_BATCH_WRITE_OPTIONS: BatchWriteOptions = {
  maxAttempts: 8,
  baseDelayMs: 50,
  maxDelayMs: 2000,
  concurrency: 4,
  budgetMs: 20_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/** One item to put, under a key that identifies it, with whatever the caller wants back on failure. */
export interface KeyedPut<T> {
  key: string;
  item: Record<string, unknown>;
  sources: T[];
}

export interface FailedPut<T> {
  sources: T[];
  reason: string;
}

/**
 * Backoff before attempt `attempt + 1` (attempt ≥ 1): "full jitter", a random wait below a
 * ceiling that doubles per attempt up to `maxDelayMs`, so concurrent writers spread out.
 */
export function backoffDelay(attempt: number, options: Pick<BatchWriteOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(options.random() * ceiling);
}

/**
 * Puts every item with BatchWriteItem in batches of 25, retrying UnprocessedItems (which the
 * SDK does not retry) and failed calls with capped jittered backoff. Items must have unique
 * keys. Never throws for a failed write: it returns the puts that are not stored, so the caller
 * can say exactly what was and was not written. A batch DynamoDB refuses as invalid is split into
 * single puts, so one unstorable item cannot cost its 24 neighbours.
 *
 * @param keyOf reads the key back from an item DynamoDB returned unprocessed
 */
export async function batchWriteAll<T>(
  documents: DynamoDBDocumentClient,
  tableName: string,
  puts: readonly KeyedPut<T>[],
  keyOf: (item: Record<string, unknown>) => string,
  options: Partial<BatchWriteOptions> = {},
): Promise<FailedPut<T>[]> {
  const settings = { ...DEFAULT_BATCH_WRITE_OPTIONS, ...options };
  const deadline = Date.now() + settings.budgetMs;
  const batches: KeyedPut<T>[][] = [];
  for (let i = 0; i < puts.length; i += BATCH_WRITE_LIMIT) batches.push(puts.slice(i, i + BATCH_WRITE_LIMIT));
  const failed: FailedPut<T>[] = [];
  let next = 0;
  const worker = async () => {
    for (let batch = batches[next++]; batch !== undefined; batch = batches[next++]) {
      failed.push(...(await writeBatch(documents, tableName, batch, keyOf, settings, deadline)));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(settings.concurrency, batches.length)) }, worker));
  return failed;
}

async function writeBatch<T>(
  documents: DynamoDBDocumentClient,
  tableName: string,
  batch: KeyedPut<T>[],
  keyOf: (item: Record<string, unknown>) => string,
  settings: BatchWriteOptions,
  deadline: number,
): Promise<FailedPut<T>[]> {
  let pending = batch;
  let problem = '';
  let attempt = 1;
  for (; ; attempt++) {
    try {
      const { UnprocessedItems } = await documents.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: pending.map((p) => ({ PutRequest: { Item: p.item } })) } }),
      );
      const unprocessed = new Set((UnprocessedItems?.[tableName] ?? []).map((r) => (r.PutRequest?.Item ? keyOf(r.PutRequest.Item) : '')));
      pending = pending.filter((p) => unprocessed.has(p.key));
      if (pending.length === 0) return [];
      problem = `DynamoDB left ${pending.length} item(s) unprocessed (throttled)`;
    } catch (error) {
      if (isValidationError(error)) {
        if (pending.length > 1) return writeOneByOne(documents, tableName, pending, settings);
        return pending.map((p) => ({ sources: p.sources, reason: `DynamoDB refused the item: ${messageOf(error)}` }));
      }
      problem = `DynamoDB write failed: ${messageOf(error)}`;
    }
    if (attempt >= settings.maxAttempts) break;
    const delay = backoffDelay(attempt, settings);
    if (Date.now() + delay > deadline) {
      problem += `; the ${settings.budgetMs} ms time budget is spent`;
      break;
    }
    await settings.sleep(delay);
  }
  const reason = `${problem}; gave up after ${attempt} attempt(s)`;
  return pending.map((p) => ({ sources: p.sources, reason }));
}

/** Isolates the item(s) DynamoDB refuses: each one on its own, with the same retries. */
async function writeOneByOne<T>(
  documents: DynamoDBDocumentClient,
  tableName: string,
  puts: KeyedPut<T>[],
  settings: BatchWriteOptions,
): Promise<FailedPut<T>[]> {
  const failed: FailedPut<T>[] = [];
  for (const put of puts) {
    for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
      try {
        await documents.send(new PutCommand({ TableName: tableName, Item: put.item }));
        break;
      } catch (error) {
        const permanent = isValidationError(error);
        if (permanent || attempt === settings.maxAttempts) {
          failed.push({ sources: put.sources, reason: `DynamoDB ${permanent ? 'refused the item' : 'write failed'}: ${messageOf(error)}` });
          break;
        }
        await settings.sleep(backoffDelay(attempt, settings));
      }
    }
  }
  return failed;
}

const isValidationError = (error: unknown): boolean => error instanceof Error && error.name === 'ValidationException';
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
