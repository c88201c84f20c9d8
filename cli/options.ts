import path from 'node:path';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { AS_OF_DEFAULT } from '../app/asOf.ts';
import type { JobConfig } from '../app/jobConfig.ts';
import { parseChurnOption, parseDuration } from '../model/features/churnDefinition.ts';
import { type LocalStack, openLocalStack } from './local/localStack.ts';

/** `--data-dir`: where the local stack keeps its state (also `CHURNGUARD_DATA_DIR`). */
export const dataDirOption = () =>
  new Option('--data-dir <dir>', 'directory of the local stack state').env('CHURNGUARD_DATA_DIR').default('.churnguard');

/** `--json`: machine-readable output on stdout; progress and logs go to stderr. */
export const jsonOption = () => new Option('--json', 'print the result as JSON on stdout');

/**
 * Runs `fn` with the local stack of `dataDir` open (joining a running `churnguard serve`
 * when there is one) and closes it afterwards, whatever happens.
 */
export async function withLocalStack<T>(dataDir: string, fn: (stack: LocalStack) => Promise<T>): Promise<T> {
  const stack = await openLocalStack(path.resolve(dataDir));
  try {
    return await fn(stack);
  } finally {
    await stack.close();
  }
}

/** `--as-of`: the present of a command; the same default everywhere (see app/asOf.ts). */
export const asOfOption = (what = 'the present') =>
  new Option('--as-of <date>', `${what} (YYYY-MM-DD or ISO 8601; default: ${AS_OF_DEFAULT})`);

/** `--horizon`: how far ahead churn is predicted (`30d`; env HORIZON_DAYS). */
export const horizonOption = (description = 'churn horizon of the label (default 30d, env HORIZON_DAYS)') =>
  new Option('--horizon <duration>', description);

/** `--churn`: what counts as churn (`cancelled` or `inactive:<days>d`; env CHURN_DEFINITION). */
export const churnOption = (description = 'cancelled | inactive:<days>d (default cancelled, env CHURN_DEFINITION)') =>
  new Option('--churn <definition>', description);

/** `--segments`: parallel Scan segments when reading the events table (env SCAN_SEGMENTS, default 4). */
export const segmentsOption = () => new Option('--segments <n>', 'parallel Scan segments (default 4, env SCAN_SEGMENTS)');

/** A flag read by `read`, whose error becomes a zod issue naming the flag. */
const flag = <T>(name: string, read: (text: string) => T) =>
  z.string().transform((text, ctx): T => {
    try {
      return read(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `${name}: ${(error as Error).message}` });
      return z.NEVER;
    }
  });

/** The flags of every command that reads the events at a point in time: train, score, features, run. */
export const PointInTimeFlags = z.object({
  asOf: z.string().optional(),
  horizon: flag('--horizon', parseDuration).optional(),
  churn: flag('--churn', parseChurnOption).optional(),
  segments: z.coerce
    .number({ error: '--segments must be a number' })
    .int()
    .min(1, '--segments must be at least 1')
    .max(1_000, '--segments must be at most 1000')
    .optional(),
  dataDir: z.string().min(1),
  json: z.boolean().default(false),
});
export type PointInTimeFlags = z.output<typeof PointInTimeFlags>;

/**
 * The job settings those flags override (unset flags leave the environment's settings alone).
 * `--horizon` and `--churn` are also recorded as requested: scoring follows the champion's own
 * and refuses a request that disagrees with it.
 */
export const pointInTimeOverrides = (o: Pick<PointInTimeFlags, 'horizon' | 'churn' | 'segments'>): Partial<JobConfig> => ({
  horizonDays: o.horizon,
  churn: o.churn,
  totalSegments: o.segments,
  ...(o.horizon !== undefined || o.churn !== undefined ? { requested: { horizonDays: o.horizon, churn: o.churn } } : {}),
});

/**
 * The options of every command that reads the events at a point in time (train, score, features):
 * `--as-of`, `--horizon`, `--churn`, `--segments`, `--data-dir`, `--json`, described for `what`.
 */
export function withPointInTimeOptions(command: Command, what: { asOf: string; horizon?: string; churn?: string }): Command {
  return command
    .addOption(asOfOption(what.asOf))
    .addOption(what.horizon ? horizonOption(what.horizon) : horizonOption())
    .addOption(what.churn ? churnOption(what.churn) : churnOption())
    .addOption(segmentsOption())
    .addOption(dataDirOption())
    .addOption(jsonOption());
}
