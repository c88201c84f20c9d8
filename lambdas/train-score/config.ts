import { z } from 'zod';
import { parseChurnOption, type ChurnDefinition } from '../../model/features/churnDefinition.ts';
import { BaseEnv, parseEnv } from '../../adapters/aws/env.ts';
import { DEFAULT_JOB_CONFIG, type JobConfig } from '../../app/job.ts';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const positiveNumber = (fallback: number) => z.coerce.number().positive().default(fallback);

/** Environment of the train-and-score job (names shared with the CDK stack). */
export const JobEnv = BaseEnv.extend({
  OUTREACH_QUEUE_URL: z.url(),
  BUDGET_MAX_MESSAGES: z.coerce.number().int().nonnegative().default(DEFAULT_JOB_CONFIG.maxMessages),
  COOLDOWN_DAYS: z.coerce.number().int().nonnegative().default(DEFAULT_JOB_CONFIG.cooldownDays),
  COST_LOST_CUSTOMER: positiveNumber(DEFAULT_JOB_CONFIG.costLostCustomer),
  COST_INTERVENTION: positiveNumber(DEFAULT_JOB_CONFIG.costIntervention),
  HORIZON_DAYS: positiveInt(30),
  /** `cancelled` or `inactive:30d`. */
  CHURN_DEFINITION: z.string().default('cancelled'),
  UNKNOWN_MRR_VALUE_CENTS: z.coerce.number().nonnegative().default(DEFAULT_JOB_CONFIG.unknownMrrValueCents),
  PASSIVE_INACTIVITY_DAYS: positiveInt(DEFAULT_JOB_CONFIG.passiveInactivityDays),
  SCAN_SEGMENTS: positiveInt(DEFAULT_JOB_CONFIG.totalSegments),
});
export type JobEnv = z.output<typeof JobEnv>;

export interface JobSettings {
  env: JobEnv;
  config: JobConfig;
  horizonDays: number;
  churn: ChurnDefinition;
}

/** Parses the job's environment; a bad value names the variable. */
export function jobSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<JobConfig> = {}): JobSettings {
  const parsed = parseEnv(JobEnv, env);
  let churn: ChurnDefinition;
  try {
    churn = parseChurnOption(parsed.CHURN_DEFINITION);
  } catch (error) {
    throw new Error(`Invalid configuration: CHURN_DEFINITION: ${(error as Error).message}`);
  }
  return {
    env: parsed,
    horizonDays: parsed.HORIZON_DAYS,
    churn,
    config: {
      ...DEFAULT_JOB_CONFIG,
      maxMessages: parsed.BUDGET_MAX_MESSAGES,
      cooldownDays: parsed.COOLDOWN_DAYS,
      costLostCustomer: parsed.COST_LOST_CUSTOMER,
      costIntervention: parsed.COST_INTERVENTION,
      unknownMrrValueCents: parsed.UNKNOWN_MRR_VALUE_CENTS,
      // Non-contractual churn: the analytics' passive churn uses the same N days.
      passiveInactivityDays: churn.kind === 'inactive' ? churn.days : parsed.PASSIVE_INACTIVITY_DAYS,
      totalSegments: parsed.SCAN_SEGMENTS,
      ...overrides,
    },
  };
}
