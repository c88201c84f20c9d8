import { createAwsClients } from '../adapters/aws/clients.ts';
import type { JobConfig } from '../app/jobConfig.ts';
import type { JobDependencies } from '../app/ports.ts';
import { jobSettingsFromEnv } from '../lambdas/train-score/config.ts';
import { withLocalStack } from './options.ts';

/** The CLI's log: progress and notes go to stderr, so stdout stays the command's answer. */
export const say = (message: string, fields?: Record<string, unknown>) =>
  console.error(`churnguard: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);

/**
 * Runs `fn` with the job's real dependencies on the local stack of `dataDir`: the same wiring as
 * the Lambda handler (createJobDependencies), with the job's environment settings and the
 * command's flags (`overrides`) on top. `train`, `score`, `features`, `run` and the demo use it.
 */
export async function withLocalJob<T>(
  dataDir: string,
  overrides: Partial<JobConfig>,
  fn: (deps: JobDependencies) => Promise<T>,
  log: JobDependencies['log'] = say,
): Promise<T> {
  // Loaded on use: TF.js and the model code load only for the commands that need them.
  const { createJobDependencies } = await import('../adapters/aws/jobDependencies.ts');
  return withLocalStack(dataDir, async () => {
    const { resources, config } = jobSettingsFromEnv(process.env, withoutUndefined(overrides));
    return fn(createJobDependencies(createAwsClients(), resources, config, log));
  });
}

/** Flags the user did not give must not override the environment's settings. */
const withoutUndefined = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
