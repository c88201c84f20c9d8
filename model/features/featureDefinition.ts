import type { FeatureFamily } from './matrix.ts';
import type { CustomerSnapshot } from './snapshot.ts';

/**
 * How a value is turned into a sentence: the first case whose condition holds wins.
 * Placeholders: `{value}` (formatted number), `{abs}` (absolute value), `{duration}` and
 * `{absDuration}` (days as "3 days", "2 months"), `{money}` (currency units, 2 decimals),
 * `{percentDown}` / `{percentUp}` (a ratio as a % change), `{name}` (attribute or event name).
 */
export type SentenceCase =
  | 'missing' // NaN or null
  | 'zero'
  | 'one'
  | 'negative'
  | 'steady' // a ratio within 0.5% of 1
  | 'below1'
  | 'above1'
  | 'any';

export interface SentenceTemplate {
  cases: ReadonlyArray<readonly [SentenceCase, string]>;
}

/** How a feature aggregates the events in its window. */
export type Aggregation =
  | 'count'
  | 'distinct_count'
  | 'sum'
  | 'days_since'
  | 'days_until'
  | 'ratio'
  | 'flag'
  | 'latest'
  | 'mean'
  | 'percent_change';

/** A feature as data: what it is, how it is computed, and how to say it to a person. */
export interface FeatureDefinition {
  name: string;
  family: FeatureFamily;
  description: string;
  /** Days before the cutoff the feature looks at; null: the whole history. */
  windowDays: number | null;
  aggregation: Aggregation;
  sentence: SentenceTemplate;
  /** The value from a customer's snapshot; NaN means missing. */
  value(s: CustomerSnapshot): number;
}
