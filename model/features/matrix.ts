import type { GeneratedSource } from './generated.ts';

/**
 * The contract between the feature builder and the model: a compact, column-described matrix.
 * Row i describes customer `customerIds[i]` at `cutoff`, using only events strictly before it.
 */

/** Feature families: what kind of churn a feature speaks to. Playbooks are chosen by family. */
export type FeatureFamily =
  | 'activity' // recency, frequency, trend of sessions (passive churn)
  | 'adoption' // breadth and depth of feature use
  | 'payments' // failed/unresolved payments, expiring cards (involuntary churn)
  | 'support' // ticket load, open tickets, resolution time
  | 'survey' // survey scores
  | 'plan' // downgrades, plan changes, price (voluntary churn)
  | 'value' // MRR
  | 'tenure' // time as a customer (loyalty)
  | 'profile' // attributes of customer_profile events
  | 'custom'; // the user's custom events

export interface NumericColumn {
  kind: 'numeric';
  name: string;
  family: FeatureFamily;
  description: string;
  /** For a generated feature (generated.ts): its stream, number and stat, from which it is explained. */
  generated?: GeneratedSource;
}

export interface CategoricalColumn {
  kind: 'categorical';
  name: string;
  family: FeatureFamily;
  description: string;
  /** Category values seen in the data; codes in the matrix index this array. */
  categories: string[];
}

export type FeatureColumn = NumericColumn | CategoricalColumn;

export interface FeatureMatrix {
  /** ISO instant: features use events with occurredAt < cutoff. */
  cutoff: string;
  customerIds: string[];
  numericColumns: NumericColumn[];
  categoricalColumns: CategoricalColumn[];
  /** rows × numericColumns.length, row-major; NaN means missing. */
  numeric: Float64Array;
  /** rows × categoricalColumns.length, row-major; -1 means missing. */
  categorical: Int32Array;
  /** 1 churned in (cutoff, cutoff + horizon], 0 stayed, -1 unknown (not yet observable or unlabelled import). */
  labels: Int8Array;
  /** Current MRR in cents per row, NaN when unknown: the value at risk. */
  mrrCents: Float64Array;
  /**
   * Per row, the payment processor's dunning at the cutoff: the next retry it announced and the
   * latest failed payment since the last success (epoch ms, NaN when none). Not features: outreach
   * selection reads them. Absent on matrices built otherwise (a row subset, tests).
   */
  paymentDunning?: { nextRetryMs: Float64Array; lastFailureMs: Float64Array };
}
