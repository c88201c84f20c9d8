import type { ChurnEvent } from '../events/schemas.ts';
import type { FeatureMatrix } from '../features/matrix.ts';
import type { RiskBand } from '../scoring.ts';

/** The customer stream the analytics read: structurally `CustomerHistory` (events sorted by time). */
export interface HistoryLike {
  customerId: string;
  events: readonly ChurnEvent[];
}

/** One month of churn, split by kind. Matches `MonthlyChurn` of model/runSummary.ts. */
export interface MonthlyChurnRow {
  month: string;
  customersAtStart: number;
  voluntary: number;
  involuntary: number;
  passive: number;
  churnRate: number;
}

export type ChurnKind = 'voluntary' | 'involuntary' | 'passive';

const DAY_MS = 86_400_000;
/** Events that show a customer is still a customer (as the features' activity): a payment counts. */
const ACTIVITY_TYPES = new Set<ChurnEvent['type']>(['session_started', 'feature_used', 'custom', 'payment_succeeded']);
/**
 * Events that show a customer is still *using* the product. A renewal payment is not use: someone
 * who stopped using the product but is still billed is exactly the customer who cancels passively.
 */
const USAGE_TYPES = new Set<ChurnEvent['type']>(['session_started', 'feature_used', 'custom']);

/**
 * Default quiet period before a cancellation that makes it passive churn: two weeks. Two full
 * weekly cycles without a session is beyond the ordinary lulls of a weekly user (a holiday week,
 * a quiet sprint) and short enough that someone who drifted away and then cancelled is called
 * passive; 30 days (the usual threshold for "gone" without a cancel) would call most of them
 * voluntary. On the simulated business (model/simulate, seed 11, 3,000 customers, 180 days) a
 * voluntary cancellation came a median 2.1 days (90th percentile 7.3) after the last session and
 * 2% of them after ≥ 14 days; passive churners were quiet a median 36 days, and 30% of them for
 * less than 30.
 */
export const DEFAULT_PASSIVE_INACTIVITY_DAYS = 14;

const monthOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7);
const nextMonth = (month: string): string => {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
};

/** One stretch of a customer's life: from their first event (or a reactivation) to churn, if any. */
export interface Tenure {
  startMs: number;
  end?: { ms: number; kind: ChurnKind };
}

/** Thresholds of the churn kinds, in days. */
export interface ChurnKindRules {
  /** Days without activity (a payment counts) after which a customer who never cancelled is gone. */
  inactivityDays: number;
  /**
   * Days without product use (sessions, feature use, custom events; not payments) before a
   * cancellation that make it passive churn. Default: the smaller of 14 and `inactivityDays`, so
   * that a customer quiet long enough to count as gone never counts as voluntary for cancelling.
   */
  passiveInactivityDays?: number;
}

/**
 * Splits one history into tenures. Rules (stated once, tested), in this order:
 * - a customer exists from their first event;
 * - `subscription_cancelled` ends the tenure at that instant:
 *   1. **involuntary** when a failed payment was still unrecovered (no later `payment_succeeded`);
 *   2. else **passive** when their last use of the product (or the tenure's start, if they never
 *      used it) was at least `passiveInactivityDays` before the cancel: they had already left;
 *   3. else **voluntary**;
 *   `subscription_reactivated` (or any activity) after a cancel starts a new tenure;
 * - with no cancel, a customer whose last activity is ≥ `inactivityDays` before `asOf` churned
 *   **passively**, dated when it became visible (last activity + inactivityDays); it is
 *   **involuntary** instead when they left with an unrecovered failed payment ("gone after
 *   unrecovered failed payments").
 * Only events before `asOf` count.
 */
export function churnTenures(events: readonly ChurnEvent[], asOfMs: number, rules: ChurnKindRules): Tenure[] {
  const passiveMs = (rules.passiveInactivityDays ?? Math.min(DEFAULT_PASSIVE_INACTIVITY_DAYS, rules.inactivityDays)) * DAY_MS;
  const tenures: Tenure[] = [];
  let current: Tenure | undefined;
  let unrecoveredFailure = false;
  let lastActivityMs: number | undefined;
  let lastUsageMs: number | undefined;
  for (const event of events) {
    const ms = Date.parse(event.occurredAt);
    if (!(ms < asOfMs)) break;
    if (current === undefined) {
      if (event.type === 'subscription_cancelled') continue; // a cancel of someone already gone changes nothing
      current = { startMs: ms };
      lastActivityMs = ms;
      lastUsageMs = ms;
    }
    if (event.type === 'payment_failed') unrecoveredFailure = true;
    if (event.type === 'payment_succeeded') unrecoveredFailure = false;
    if (ACTIVITY_TYPES.has(event.type) || event.type === 'subscription_started' || event.type === 'subscription_reactivated') lastActivityMs = ms;
    if (USAGE_TYPES.has(event.type) || event.type === 'subscription_reactivated') lastUsageMs = ms;
    if (event.type === 'subscription_cancelled') {
      const quietMs = ms - (lastUsageMs ?? current.startMs);
      current.end = { ms, kind: unrecoveredFailure ? 'involuntary' : quietMs >= passiveMs ? 'passive' : 'voluntary' };
      tenures.push(current);
      current = undefined;
      unrecoveredFailure = false;
    }
  }
  if (current !== undefined) {
    const goneAtMs = (lastActivityMs ?? current.startMs) + rules.inactivityDays * DAY_MS;
    if (goneAtMs <= asOfMs) current.end = { ms: goneAtMs, kind: unrecoveredFailure ? 'involuntary' : 'passive' };
    tenures.push(current);
  }
  return tenures;
}

/**
 * Monthly churn from the same customer stream the features read, in one pass with memory
 * proportional to the number of months (not customers): per month it counts tenures that started
 * and ended, and customers at a month's start are the running difference.
 *
 * @example
 * const churn = new MonthlyChurnAccumulator({ asOf: '2026-11-23T00:00:00Z', inactivityDays: 30, passiveInactivityDays: 14 });
 * for await (const history of histories) churn.add(history);
 * churn.result(); // [{ month: '2026-01', customersAtStart: 0, voluntary: 0, ... }, ...]
 */
export class MonthlyChurnAccumulator {
  readonly #asOfMs: number;
  readonly #rules: ChurnKindRules;
  readonly #starts = new Map<string, number>();
  readonly #ends = new Map<string, Record<ChurnKind, number>>();
  #firstMonth: string | undefined;

  /** `inactivityDays` and `passiveInactivityDays`: see {@link ChurnKindRules}. */
  constructor(options: { asOf: string } & ChurnKindRules) {
    this.#asOfMs = Date.parse(options.asOf);
    if (Number.isNaN(this.#asOfMs)) throw new Error(`asOf must be an ISO timestamp, got "${options.asOf}"`);
    if (!(options.inactivityDays > 0)) throw new Error(`inactivityDays must be positive, got ${options.inactivityDays}`);
    if (options.passiveInactivityDays !== undefined && !(options.passiveInactivityDays > 0)) {
      throw new Error(`passiveInactivityDays must be positive, got ${options.passiveInactivityDays}`);
    }
    this.#rules = {
      inactivityDays: options.inactivityDays,
      ...(options.passiveInactivityDays === undefined ? {} : { passiveInactivityDays: options.passiveInactivityDays }),
    };
  }

  add(history: HistoryLike): void {
    for (const tenure of churnTenures(history.events, this.#asOfMs, this.#rules)) {
      const startMonth = monthOf(tenure.startMs);
      if (this.#firstMonth === undefined || startMonth < this.#firstMonth) this.#firstMonth = startMonth;
      this.#starts.set(startMonth, (this.#starts.get(startMonth) ?? 0) + 1);
      if (tenure.end) {
        const endMonth = monthOf(tenure.end.ms);
        const row = this.#ends.get(endMonth) ?? { voluntary: 0, involuntary: 0, passive: 0 };
        row[tenure.end.kind]++;
        this.#ends.set(endMonth, row);
      }
    }
  }

  /** One row per month from the first customer's month to the asOf month, oldest first. */
  result(): MonthlyChurnRow[] {
    if (this.#firstMonth === undefined) return [];
    const rows: MonthlyChurnRow[] = [];
    const lastMonth = monthOf(this.#asOfMs);
    let atStart = 0;
    for (let month = this.#firstMonth; month <= lastMonth; month = nextMonth(month)) {
      const ends = this.#ends.get(month) ?? { voluntary: 0, involuntary: 0, passive: 0 };
      const lost = ends.voluntary + ends.involuntary + ends.passive;
      rows.push({ month, customersAtStart: atStart, ...ends, churnRate: atStart > 0 ? lost / atStart : 0 });
      atStart += (this.#starts.get(month) ?? 0) - lost;
    }
    return rows;
  }
}

/** Passes each history through to the consumer while `observe` sees it: one Scan feeds features and analytics. */
export async function* tapHistories<H>(histories: AsyncIterable<H>, observe: (history: H) => void): AsyncGenerator<H> {
  for await (const history of histories) {
    observe(history);
    yield history;
  }
}

// ---------------------------------------------------------------- drift (PSI)

/** The training distribution of one feature: quantile cut points (numeric) or categories, and bin shares. */
export type ColumnDistribution =
  | { kind: 'numeric'; name: string; cuts: number[]; shares: number[] }
  | { kind: 'categorical'; name: string; categories: string[]; shares: number[] };

/** Stored beside a model so that a later score-only run can measure drift against its training data. */
export interface FeatureDistribution {
  columns: ColumnDistribution[];
}

/** PSI above this means the feature moved enough to look at (the usual rule of thumb). */
export const PSI_FLAG_THRESHOLD = 0.2;
/** Empty bins would make PSI infinite; they count as this share instead. */
const PSI_EPSILON = 1e-4;

/**
 * Cut points of up to `bins` quantile bins of the non-missing values (duplicates removed, so a
 * feature with few distinct values gets fewer bins). Bin i holds values ≤ cuts[i]; the last bin
 * the rest; one extra bin holds missing values.
 */
export function quantileCuts(values: readonly number[], bins = 10): number[] {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const cuts: number[] = [];
  for (let i = 1; i < bins; i++) {
    const cut = sorted[Math.min(sorted.length - 1, Math.ceil((i * sorted.length) / bins) - 1)] as number;
    if (cuts.length === 0 || cut > (cuts[cuts.length - 1] as number)) cuts.push(cut);
  }
  // A last cut at the training maximum leaves the top bin empty in training on purpose: values above
  // anything seen in training (e.g. a feature constant at 0 that starts moving) then show as drift.
  return cuts;
}

/** Shares of `values` in the bins of `cuts` (cuts.length + 1 value bins, then the missing bin). */
export function numericShares(values: readonly number[], cuts: readonly number[]): number[] {
  const counts = new Array<number>(cuts.length + 2).fill(0);
  for (const v of values) {
    if (Number.isNaN(v)) {
      counts[cuts.length + 1]!++;
      continue;
    }
    let bin = 0;
    while (bin < cuts.length && v > (cuts[bin] as number)) bin++;
    counts[bin]!++;
  }
  return toShares(counts, values.length);
}

/** Shares of category codes (-1 = missing, last bin) over `categories`. */
export function categoricalShares(codes: readonly number[], categories: readonly string[]): number[] {
  const counts = new Array<number>(categories.length + 1).fill(0);
  for (const code of codes) counts[code >= 0 && code < categories.length ? code : categories.length]!++;
  return toShares(counts, codes.length);
}

const toShares = (counts: number[], total: number): number[] => counts.map((c) => (total > 0 ? c / total : 0));

/** Population stability index Σ (actual − expected) · ln(actual / expected), empty bins floored at 1e-4. */
export function populationStabilityIndex(expected: readonly number[], actual: readonly number[]): number {
  if (expected.length !== actual.length) throw new Error(`PSI needs the same bins: ${expected.length} expected vs ${actual.length} actual`);
  let psi = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i] as number, PSI_EPSILON);
    const a = Math.max(actual[i] as number, PSI_EPSILON);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

const numericColumnValues = (matrix: FeatureMatrix, column: number): number[] => {
  const width = matrix.numericColumns.length;
  const values: number[] = [];
  for (let row = 0; row < matrix.customerIds.length; row++) values.push(matrix.numeric[row * width + column] as number);
  return values;
};

const categoricalColumnCodes = (matrix: FeatureMatrix, column: number): number[] => {
  const width = matrix.categoricalColumns.length;
  const codes: number[] = [];
  for (let row = 0; row < matrix.customerIds.length; row++) codes.push(matrix.categorical[row * width + column] as number);
  return codes;
};

/** The distribution of every feature of a (training) matrix: 10 quantile bins per numeric, one bin per category. */
export function featureDistribution(matrix: FeatureMatrix, bins = 10): FeatureDistribution {
  const columns: ColumnDistribution[] = [];
  matrix.numericColumns.forEach((column, i) => {
    const values = numericColumnValues(matrix, i);
    const cuts = quantileCuts(values, bins);
    columns.push({ kind: 'numeric', name: column.name, cuts, shares: numericShares(values, cuts) });
  });
  matrix.categoricalColumns.forEach((column, i) => {
    columns.push({ kind: 'categorical', name: column.name, categories: [...column.categories], shares: categoricalShares(categoricalColumnCodes(matrix, i), column.categories) });
  });
  return { columns };
}

export interface FeatureDriftRow {
  feature: string;
  psi: number;
  flagged: boolean;
}

/**
 * PSI of each feature between the training distribution and a scoring matrix, in the training
 * bins. Categories are matched by name (a category new at scoring falls in the missing/other bin).
 * Features absent from the scoring matrix are skipped.
 */
export function featureDrift(training: FeatureDistribution, scoring: FeatureMatrix, threshold = PSI_FLAG_THRESHOLD): FeatureDriftRow[] {
  const rows: FeatureDriftRow[] = [];
  for (const column of training.columns) {
    let actual: number[] | undefined;
    if (column.kind === 'numeric') {
      const index = scoring.numericColumns.findIndex((c) => c.name === column.name);
      if (index >= 0) actual = numericShares(numericColumnValues(scoring, index), column.cuts);
    } else {
      const index = scoring.categoricalColumns.findIndex((c) => c.name === column.name);
      if (index >= 0) {
        const scoringCategories = scoring.categoricalColumns[index]!.categories;
        const remap = scoringCategories.map((name) => column.categories.indexOf(name));
        const codes = categoricalColumnCodes(scoring, index).map((code) => (code >= 0 ? (remap[code] ?? -1) : -1));
        actual = categoricalShares(codes, column.categories);
      }
    }
    if (actual === undefined || scoring.customerIds.length === 0) continue;
    const psi = populationStabilityIndex(column.shares, actual);
    rows.push({ feature: column.name, psi, flagged: psi > threshold });
  }
  return rows;
}

// ---------------------------------------------------------------- scoring summary

export interface ScoringSummary {
  customersScored: number;
  bands: Record<RiskBand, number>;
  expectedMrrAtRiskCents: number;
  riskHistogram: Array<{ from: number; to: number; count: number }>;
}

/**
 * The scoring summary, one customer at a time (a fan-out run reads its scores back from the table
 * without holding them all): band counts, Σ risk × MRR (customers with unknown MRR add nothing),
 * and a risk histogram of `bins` equal bins over [0, 1].
 */
export class ScoringSummaryAccumulator {
  readonly #bands: Record<RiskBand, number> = { high: 0, medium: 0, low: 0 };
  readonly #counts: number[];
  #expected = 0;
  #customers = 0;

  constructor(private readonly bins = 20) {
    this.#counts = new Array<number>(bins).fill(0);
  }

  add(customer: { risk: number; band: RiskBand; mrrCents: number | null }): void {
    this.#customers++;
    this.#bands[customer.band]++;
    if (customer.mrrCents !== null && Number.isFinite(customer.mrrCents)) this.#expected += customer.risk * customer.mrrCents;
    this.#counts[Math.min(this.bins - 1, Math.max(0, Math.floor(customer.risk * this.bins)))]!++;
  }

  result(): ScoringSummary {
    return {
      customersScored: this.#customers,
      bands: { ...this.#bands },
      expectedMrrAtRiskCents: this.#expected,
      riskHistogram: this.#counts.map((count, i) => ({ from: i / this.bins, to: (i + 1) / this.bins, count })),
    };
  }
}

/** Band counts, Σ risk × MRR (customers with unknown MRR add nothing), and a 20-bin risk histogram. */
export function summariseScores(scored: ReadonlyArray<{ risk: number; band: RiskBand; mrrCents: number | null }>, bins = 20): ScoringSummary {
  const accumulator = new ScoringSummaryAccumulator(bins);
  for (const customer of scored) accumulator.add(customer);
  return accumulator.result();
}
