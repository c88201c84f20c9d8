import type { FeatureFamily } from './features/matrix.ts';

/** Risk bands shown to the retention team. */
export type RiskBand = 'high' | 'medium' | 'low';

/** One reason a customer is at risk: a feature, explained in a sentence, and its share of the risk. */
export interface RiskDriver {
  feature: string;
  family: FeatureFamily;
  /** The customer's value of the feature (numeric value or category). */
  value: number | string | null;
  /** e.g. "2 failed payments in the last 14 days". */
  sentence: string;
  /** Attribution towards risk (integrated gradients, logit scale); positive raises risk. */
  contribution: number;
}

/** The model's verdict on one customer at one cutoff. */
export interface ScoredCustomer {
  customerId: string;
  /** Calibrated probability of churn within the horizon. */
  risk: number;
  band: RiskBand;
  /** Top drivers of risk, strongest first (at most 3); empty when `driversNote` says why. */
  drivers: RiskDriver[];
  /** Why `drivers` is empty by design, e.g. a low-risk customer whose drivers were not computed. */
  driversNote?: string;
  modelVersion: string;
  /** MRR in cents, null when unknown. */
  mrrCents: number | null;
  /** Days as a customer at the cutoff, null when unknown. */
  tenureDays: number | null;
}
