import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

type PutRequests = Array<{ PutRequest?: { Item?: Record<string, unknown> } }>;

export interface BatchWriteFaults {
  /** For the n-th BatchWriteItem call (1-based): how many of its items to hold back and return as UnprocessedItems. */
  holdBack?: (call: number, items: number) => number;
  /** For the n-th call: an error to throw instead of writing anything. */
  throwError?: (call: number, items: PutRequests) => Error | undefined;
}

/**
 * Makes a real SDK client misbehave the way DynamoDB does under load: a middleware on the client
 * (document form, before marshalling) withholds items of BatchWriteItem calls and hands them back
 * as UnprocessedItems, or fails calls, while the rest really reaches the emulator. Use a client made
 * for the test: the middleware stays on it.
 *
 * @returns counters of what the fault did
 */
export function injectBatchWriteFaults(
  documents: DynamoDBDocumentClient,
  faults: BatchWriteFaults,
): { calls: number; heldBack: number; thrown: number } {
  const stats = { calls: 0, heldBack: 0, thrown: 0 };
  documents.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { RequestItems?: Record<string, PutRequests> };
      const tables = Object.keys(input.RequestItems ?? {});
      const table = tables[0];
      if (table === undefined || tables.length !== 1) return next(args);
      const requests = input.RequestItems?.[table] ?? [];
      const call = ++stats.calls;
      const error = faults.throwError?.(call, requests);
      if (error) {
        stats.thrown++;
        throw error;
      }
      const hold = Math.min(requests.length, faults.holdBack?.(call, requests.length) ?? 0);
      if (hold === 0) return next(args);
      stats.heldBack += hold;
      const held = requests.slice(0, hold);
      const sent = requests.slice(hold);
      if (sent.length === 0)
        return { output: { UnprocessedItems: { [table]: held }, $metadata: {} }, response: {} } as unknown as Awaited<
          ReturnType<typeof next>
        >;
      const result = await next({ ...args, input: { ...input, RequestItems: { [table]: sent } } });
      const output = result.output as { UnprocessedItems?: Record<string, PutRequests> };
      output.UnprocessedItems = { [table]: [...(output.UnprocessedItems?.[table] ?? []), ...held] };
      return result;
    },
    { step: 'initialize', name: 'injectBatchWriteFaults' },
  );
  return stats;
}
