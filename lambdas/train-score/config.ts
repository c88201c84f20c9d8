import { z } from 'zod';
import { BaseEnv, parseEnv } from '../../adapters/aws/env.ts';
import type { JobResources } from '../../adapters/aws/jobDependencies.ts';
import { DEFAULT_JOB_CONFIG, type JobConfig } from '../../app/jobConfig.ts';
import { type ChurnDefinition, parseChurnOption } from '../../model/features/churnDefinition.ts';
import { DEFAULT_CONTROL_SHARE } from '../../model/outreach/controlGroup.ts';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const positiveNumber = (fallback: number) => z.coerce.number().positive().default(fallback);

/** `cancelled` or `inactive:30d`, read into a churn definition; a bad value names the rule. */
const ChurnSetting = z.string().transform((value, ctx): ChurnDefinition => {
  try {
    return parseChurnOption(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** Environment of the train-and-score job (names shared with the CDK stack: cdk/functionEnvironment.ts). */
export const JobEnv = BaseEnv.extend({
  OUTREACH_QUEUE_URL: z.url(),
  BUDGET_MAX_MESSAGES: z.coerce.number().int().nonnegative().default(DEFAULT_JOB_CONFIG.maxMessages),
  COOLDOWN_DAYS: z.coerce.number().int().nonnegative().default(DEFAULT_JOB_CONFIG.cooldownDays),
  /** Share of selected customers held out as the control group (0 ≤ share < 1; 0 turns it off). */
  OUTREACH_CONTROL_SHARE: z.coerce.number().min(0).lt(1).default(DEFAULT_CONTROL_SHARE),
  COST_LOST_CUSTOMER: positiveNumber(DEFAULT_JOB_CONFIG.costLostCustomer),
  COST_INTERVENTION: positiveNumber(DEFAULT_JOB_CONFIG.costIntervention),
  HORIZON_DAYS: positiveInt(DEFAULT_JOB_CONFIG.horizonDays),
  CHURN_DEFINITION: ChurnSetting.default(DEFAULT_JOB_CONFIG.churn),
  UNKNOWN_MRR_VALUE_CENTS: z.coerce.number().nonnegative().default(DEFAULT_JOB_CONFIG.unknownMrrValueCents),
  PASSIVE_INACTIVITY_DAYS: positiveInt(DEFAULT_JOB_CONFIG.passiveInactivityDays),
  SCAN_SEGMENTS: positiveInt(DEFAULT_JOB_CONFIG.totalSegments),
  /** Reconcile: an open outreach is sent again this long after its last send, at most OUTREACH_MAX_SENDS times in all. */
  OUTREACH_RESEND_AFTER_SECONDS: z.coerce
    .number()
    .nonnegative()
    .default(DEFAULT_JOB_CONFIG.resendAfterMs / 1000),
  OUTREACH_MAX_SENDS: positiveInt(DEFAULT_JOB_CONFIG.maxSends),
  /** payment_recovery waits this many hours after a failed payment, besides the processor's announced retry. */
  PAYMENT_RECOVERY_DELAY_HOURS: z.coerce.number().nonnegative().max(2160).default(DEFAULT_JOB_CONFIG.paymentRecoveryDelayHours),
});
export type JobEnv = z.output<typeof JobEnv>;

export interface JobSettings {
  resources: JobResources;
  config: JobConfig;
}

/**
 * The job's settings from its environment (`overrides` are the CLI's flags); a bad value names
 * the variable.
 *
 * @example const { resources, config } = jobSettingsFromEnv(process.env, { maxMessages: 25 });
 */
export function jobSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<JobConfig> = {}): JobSettings {
  const parsed = parseEnv(JobEnv, env);
  const churn = overrides.churn ?? parsed.CHURN_DEFINITION;
  return {
    resources: { tableName: parsed.TABLE_NAME, bucketName: parsed.BUCKET_NAME, outreachQueueUrl: parsed.OUTREACH_QUEUE_URL },
    config: {
      ...DEFAULT_JOB_CONFIG,
      maxMessages: parsed.BUDGET_MAX_MESSAGES,
      cooldownDays: parsed.COOLDOWN_DAYS,
      controlShare: parsed.OUTREACH_CONTROL_SHARE,
      costLostCustomer: parsed.COST_LOST_CUSTOMER,
      costIntervention: parsed.COST_INTERVENTION,
      unknownMrrValueCents: parsed.UNKNOWN_MRR_VALUE_CENTS,
      horizonDays: parsed.HORIZON_DAYS,
      churn,
      // Non-contractual churn: the analytics' passive churn uses the same N days.
      passiveInactivityDays: churn.kind === 'inactive' ? churn.days : parsed.PASSIVE_INACTIVITY_DAYS,
      totalSegments: parsed.SCAN_SEGMENTS,
      resendAfterMs: parsed.OUTREACH_RESEND_AFTER_SECONDS * 1000,
      maxSends: parsed.OUTREACH_MAX_SENDS,
      paymentRecoveryDelayHours: parsed.PAYMENT_RECOVERY_DELAY_HOURS,
      ...overrides,
    },
  };
}
