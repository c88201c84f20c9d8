import { z } from 'zod';
import { MonthlyChurnByReason } from './analytics/churnByReason.ts';
import { ChurnBySegment } from './analytics/churnBySegment.ts';
import { OutreachEffectReport } from './analytics/outreachEffect.ts';
import { CalibrationBin, GainsPoint, ModelMetrics } from './nn/metricSchemas.ts';
import { AfterExitSummary } from './outreach/afterExitSummary.ts';

/**
 * The summary of one train-and-score run, written to `runs/<runId>/summary.json`.
 * The job produces it; the report and the retention team read it. Versioned: add fields, never
 * change the meaning of one.
 */
export const SUMMARY_VERSION = 1;

export const MonthlyChurn = z.object({
  /** `YYYY-MM` */
  month: z.string(),
  customersAtStart: z.number().int(),
  voluntary: z.number().int(),
  involuntary: z.number().int(),
  passive: z.number().int(),
  /** (voluntary + involuntary + passive) ÷ customersAtStart */
  churnRate: z.number(),
});

export const FeatureDrift = z.object({ feature: z.string(), psi: z.number(), flagged: z.boolean() });

export const AtRiskCustomer = z.object({
  customerId: z.string(),
  risk: z.number(),
  band: z.enum(['high', 'medium', 'low']),
  mrrAtRisk: z.number(),
  drivers: z.array(z.string()),
  playbook: z.string(),
  /** Why the customer is in their band (model/outreach/bands.ts), e.g. "risk 62.0% ≥ the cost threshold 25.4%, and rank 3 …". */
  bandReason: z.string().optional(),
});

/** One risk band of a run: how many customers, what the band means, the churn rate the model expects in it and its lift. */
export const BandGuide = z.object({
  band: z.enum(['high', 'medium', 'low']),
  customers: z.number().int(),
  meaning: z.string(),
  meanRisk: z.number(),
  lift: z.number(),
});

export const RunSummary = z.object({
  summaryVersion: z.literal(SUMMARY_VERSION),
  runId: z.string(),
  /**
   * `send` is the last step of a scale-out (fan-out) run: its summary counts the scores from the
   * RISK items its segment workers wrote and has no churnByMonth or drift (empty arrays): those are
   * in each worker's `score-segment` summary (runs/<runId>/segment-<i>-of-<n>/summary.json).
   */
  mode: z.enum(['train', 'score', 'train-and-score', 'score-segment', 'send', 'after-exit']),
  asOf: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  modelVersion: z.string().nullable(),
  /** The training decision of this run, when it trained. */
  training: z
    .object({
      candidateVersion: z.string(),
      promoted: z.boolean(),
      reason: z.string(),
      /** What candidateVersion is: the MLP, or its logistic baseline promoted in its place. */
      kind: z.enum(['mlp', 'logistic']).optional(),
      /** When the baseline was promoted: the MLP of the same run, kept as a rejected challenger. */
      challengerVersion: z.string().optional(),
      /**
       * Why this run trained: its mode asked for it (`requested`), or it is a score run that found no
       * champion and trained the first model of a fresh stack (`no-champion`).
       */
      trainedBecause: z.enum(['requested', 'no-champion']).optional(),
      /** The training run's fingerprint (data and settings): a resumed run with the same one reuses this decision. */
      dataFingerprint: z.string().optional(),
      trainingMs: z.number().optional(),
      /** Where the training run's time went (ms): scan, features, fit, calibration, registry. */
      timings: z
        .object({ scanMs: z.number(), featuresMs: z.number(), fitMs: z.number(), calibrationMs: z.number(), registryMs: z.number() })
        .optional(),
      /** The cutoffs of the training rows and of validation. */
      cutoffs: z.object({ training: z.array(z.string()), validation: z.string() }).optional(),
      backend: z.string(),
      model: ModelMetrics,
      baseline: ModelMetrics,
      /** Validation-set curves of the model that scored this run. */
      gains: z.array(GainsPoint),
      calibration: z.array(CalibrationBin),
    })
    .nullable(),
  scoring: z.object({
    customersScored: z.number().int(),
    bands: z.object({ high: z.number().int(), medium: z.number().int(), low: z.number().int() }),
    /** Sum over scored customers of risk × MRR, in cents per month. */
    expectedMrrAtRiskCents: z.number(),
    /** Histogram of calibrated risk in 20 equal bins over [0, 1]. */
    riskHistogram: z.array(z.object({ from: z.number(), to: z.number(), count: z.number().int() })),
    /** What each band means in this run, with its expected churn rate and lift (older summaries lack it). */
    bandGuide: z.array(BandGuide).optional(),
  }),
  outreach: z.object({
    selected: z.number().int(),
    sent: z.number().int(),
    skippedCooldown: z.number().int(),
    skippedBudget: z.number().int(),
    /** payment_recovery candidates held while their payment processor's dunning runs (older summaries lack it). */
    heldForDunning: z.number().int().optional(),
    failed: z.number().int(),
    byPlaybook: z.record(z.string(), z.number().int()),
    /** Held out as the control group (recorded, never sent, no budget), in all and per playbook (older summaries lack them). */
    control: z.number().int().optional(),
    controlByPlaybook: z.record(z.string(), z.number().int()).optional(),
  }),
  churnByMonth: z.array(MonthlyChurn),
  drift: z.array(FeatureDrift),
  topAtRisk: z.array(AtRiskCustomer),
  /** Monthly churn split into avoidable, unavoidable and unknown, and by exit reason (older summaries lack it). */
  churnByReason: z.array(MonthlyChurnByReason).optional(),
  /** Churn by segment over the last quarter, with 95% intervals (older summaries lack it). */
  churnBySegment: ChurnBySegment.optional(),
  /** The after-exit step: exit surveys, win-back and its funnel (an `after-exit` run, or merged in by the demo). */
  afterExit: AfterExitSummary.optional(),
  /**
   * Did contacting them help? Earlier runs' selections whose horizon has passed, treated against
   * control, per playbook and overall (runs that send; older summaries lack it).
   */
  outreachEffect: OutreachEffectReport.optional(),
});
export type RunSummary = z.output<typeof RunSummary>;
