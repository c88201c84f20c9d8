import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What a hook sees of one command: its document-client name (`PutCommand`, `UpdateCommand`, `QueryCommand`, …) and its input. */
export interface CommandCall {
  name: string;
  input: Record<string, unknown>;
}

/**
 * Runs `hook` before every command a (test-owned) document client sends: it may throw (a store
 * fault), change the input (e.g. a small `Limit` to force pagination), or do other writes first
 * (a concurrent run, interleaved at an exact point). The hook stays on the client.
 */
export function beforeEachCommand(documents: DynamoDBDocumentClient, hook: (call: CommandCall) => Promise<void> | void): void {
  documents.middlewareStack.add(
    (next, context) => async (args) => {
      // The context names the low-level command (PutItemCommand): name it as the document client does.
      await hook({ name: String(context.commandName).replace(/ItemCommand$/, 'Command'), input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'beforeEachCommand' },
  );
}

/** The sort key a command reads or writes (Key.SK, or Item.SK for a put). */
export const sortKeyOf = (call: CommandCall): string | undefined => {
  const sk = ((call.input.Key ?? call.input.Item) as { SK?: unknown } | undefined)?.SK;
  return typeof sk === 'string' ? sk : (sk as { S?: string } | undefined)?.S;
};
