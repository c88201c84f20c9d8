import { z } from 'zod';

/**
 * What a trained model is measured by, on its validation rows: stored in every model's
 * metadata.json and repeated in the run summary of the run that trained it.
 */
export const ModelMetrics = z.object({
  rocAuc: z.number(),
  prAuc: z.number(),
  logLoss: z.number(),
  brier: z.number(),
  /** Expected calibration error (10 equal-width bins). */
  ece: z.number(),
  /** Churn rate in the top decile of risk ÷ overall churn rate. */
  topDecileLift: z.number(),
  /** Share of all churners found in the top decile of risk. */
  topDecileRecall: z.number(),
  threshold: z.number(),
  precisionAtThreshold: z.number(),
  recallAtThreshold: z.number(),
  rows: z.number().int(),
  positives: z.number().int(),
});
export type ModelMetrics = z.output<typeof ModelMetrics>;

export const GainsPoint = z.object({ populationShare: z.number(), churnersFound: z.number() });
export const CalibrationBin = z.object({ predicted: z.number(), observed: z.number(), count: z.number().int() });
