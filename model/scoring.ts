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
  /** A failed payment since the last success, and the retry the processor announced (ISO instants): see model/outreach/dunning.ts. */
  dunning?: PaymentDunning;
}

/** The payment processor's dunning of a customer at a cutoff. */
export interface PaymentDunning {
  /** The latest failed payment since the last successful one. */
  lastFailureAt: string;
  /** The processor's next retry of the charge (Stripe's next_payment_attempt), when it announced one. */
  nextRetryAt?: string;
}

/** The dunning of row `r` of a matrix's `paymentDunning`, or undefined without a failed payment. */
export function dunningOfRow(
  dunning: { nextRetryMs: Float64Array; lastFailureMs: Float64Array } | undefined,
  r: number,
): PaymentDunning | undefined {
  const lastFailureMs = dunning?.lastFailureMs[r];
  if (lastFailureMs === undefined || !Number.isFinite(lastFailureMs)) return undefined;
  const nextRetryMs = dunning?.nextRetryMs[r] as number;
  return {
    lastFailureAt: new Date(lastFailureMs).toISOString(),
    ...(Number.isFinite(nextRetryMs) ? { nextRetryAt: new Date(nextRetryMs).toISOString() } : {}),
  };
}
