import path from 'node:path';
import { Option } from 'commander';
import { openLocalStack, type LocalStack } from './local/localStack.ts';

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

/** `--horizon`: how far ahead churn is predicted (`30d`). */
export const horizonOption = (description = 'churn horizon of the label') => new Option('--horizon <duration>', description).default('30d');

/** `--churn`: what counts as churn (`cancelled` or `inactive:<days>d`). */
export const churnOption = (description = 'cancelled | inactive:<days>d') => new Option('--churn <definition>', description).default('cancelled');

/** `--segments`: parallel Scan segments when reading the events table. */
export const segmentsOption = () => new Option('--segments <n>', 'parallel Scan segments').default('4');
