/**
 * The peers of the event-log benchmark: classic RFM (recency, frequency, monetary) features of a
 * purchase log, computed straight from the purchases (not from churnguard's features), on the
 * same customers, cutoffs and labels as churnguard's rolling-origin datasets. Logistic regression
 * and XGBoost learn from them the same point-in-time way as the product: rows at past cutoffs,
 * labelled from events before the as-of only.
 */
import type { ChurnEvent } from '../model/events/schemas.ts';
import type { ChurnDefinition } from '../model/features/churnDefinition.ts';
import type { CustomerHistory } from '../model/features/history.ts';
import { isActiveAt, labelAt } from '../model/features/labels.ts';
import type { FeatureMatrix, NumericColumn } from '../model/features/matrix.ts';
import { cutoffIndex, eventTimes } from '../model/features/snapshot.ts';
import { DAY_MS } from '../model/features/time.ts';

/** The 14 RFM features, in column order. */
export const RFM_FEATURES = [
  'recency_days',
  'frequency_purchases',
  'frequency_days',
  'tenure_days',
  'monetary_total',
  'monetary_mean',
  'monetary_max',
  'cds_total',
  'cds_mean',
  'purchases_30d',
  'purchases_90d',
  'monetary_90d',
  'mean_gap_days',
  'repeat_buyer',
] as const;

const purchaseCds = (event: ChurnEvent): number =>
  event.type === 'payment_succeeded' ? (event.properties.measures?.cds ?? Number.NaN) : Number.NaN;

/** RFM features of one customer from the purchases in `events[0, end)` (all before `cutoffMs`). */
export function rfmRow(events: readonly ChurnEvent[], times: Float64Array, end: number, cutoffMs: number): number[] {
  let purchases = 0;
  let total = 0;
  let max = 0;
  let cds = 0;
  let last30 = 0;
  let last90 = 0;
  let money90 = 0;
  let first = Number.NaN;
  let last = Number.NaN;
  const days = new Set<number>();
  for (let i = 0; i < end; i++) {
    const event = events[i] as ChurnEvent;
    if (event.type !== 'payment_succeeded') continue;
    const t = times[i] as number;
    const dollars = event.properties.amountCents / 100;
    purchases++;
    total += dollars;
    max = Math.max(max, dollars);
    const c = purchaseCds(event);
    if (Number.isFinite(c)) cds += c;
    if (t >= cutoffMs - 30 * DAY_MS) last30++;
    if (t >= cutoffMs - 90 * DAY_MS) {
      last90++;
      money90 += dollars;
    }
    if (Number.isNaN(first)) first = t;
    last = t;
    days.add(Math.floor(t / DAY_MS));
  }
  const tenure = (cutoffMs - first) / DAY_MS;
  const span = (last - first) / DAY_MS;
  return [
    (cutoffMs - last) / DAY_MS,
    purchases,
    days.size,
    tenure,
    total,
    purchases > 0 ? total / purchases : 0,
    max,
    cds,
    purchases > 0 ? cds / purchases : 0,
    last30,
    last90,
    money90,
    days.size > 1 ? span / (days.size - 1) : tenure,
    days.size > 1 ? 1 : 0,
  ];
}

/**
 * RFM rows of every customer active at `cutoff` (churnguard's rule, `isActiveAt`), labelled with
 * churnguard's `labelAt` from the events before `knownUntil` (exclusive), or -1 when cutoff +
 * horizon is beyond it. Customers ordered by id, as churnguard's matrices are.
 */
export function rfmMatrix(
  histories: readonly CustomerHistory[],
  cutoff: string,
  options: { churn: ChurnDefinition; horizonDays: number; knownUntil: string },
): FeatureMatrix {
  const cutoffMs = Date.parse(cutoff);
  const knownMs = Date.parse(options.knownUntil);
  const labelKnown = cutoffMs + options.horizonDays * DAY_MS <= knownMs;
  const ids: string[] = [];
  const values: number[] = [];
  const labels: number[] = [];
  for (const history of [...histories].sort((a, b) => (a.customerId < b.customerId ? -1 : 1))) {
    const allTimes = eventTimes(history.events);
    const known = cutoffIndex(allTimes, knownMs);
    const events = history.events.slice(0, known);
    const times = allTimes.subarray(0, known);
    const end = cutoffIndex(times, cutoffMs);
    if (!isActiveAt(events, times, end, cutoffMs, options.churn)) continue;
    ids.push(history.customerId);
    values.push(...rfmRow(events, times, end, cutoffMs));
    labels.push(labelKnown ? labelAt(events, times, end, cutoffMs, options.horizonDays, options.churn) : -1);
  }
  const numericColumns: NumericColumn[] = RFM_FEATURES.map((name) => ({ kind: 'numeric', name, family: 'value', description: name }));
  return {
    cutoff,
    customerIds: ids,
    numericColumns,
    categoricalColumns: [],
    numeric: Float64Array.from(values),
    categorical: new Int32Array(0),
    labels: Int8Array.from(labels),
    mrrCents: new Float64Array(ids.length).fill(Number.NaN),
  };
}

/** Rows of several matrices with the same columns, one after the other. */
export function stackRows(matrices: readonly FeatureMatrix[]): FeatureMatrix {
  const first = matrices[0];
  if (!first) throw new Error('stackRows needs at least one matrix');
  const concat = <T extends Float64Array | Int32Array | Int8Array>(make: (n: number) => T, parts: T[]): T => {
    const out = make(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  return {
    ...first,
    cutoff: matrices[matrices.length - 1]?.cutoff ?? first.cutoff,
    customerIds: matrices.flatMap((m) => m.customerIds),
    numeric: concat(
      (n) => new Float64Array(n),
      matrices.map((m) => m.numeric),
    ),
    categorical: concat(
      (n) => new Int32Array(n),
      matrices.map((m) => m.categorical),
    ),
    labels: concat(
      (n) => new Int8Array(n),
      matrices.map((m) => m.labels),
    ),
    mrrCents: concat(
      (n) => new Float64Array(n),
      matrices.map((m) => m.mrrCents),
    ),
  };
}

/**
 * L2-regularised logistic regression by Newton's method (IRLS) on standardised inputs (log1p
 * first for non-negative, skewed columns), the textbook peer. Returns a scorer of new matrices.
 */
export function fitLogisticRegression(train: FeatureMatrix, l2: number): (m: FeatureMatrix) => Float64Array {
  const width = train.numericColumns.length;
  const rows = train.customerIds.length;
  const logged = train.numericColumns.map((_, c) => {
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let r = 0; r < rows; r++) {
      const v = train.numeric[r * width + c] as number;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    return min >= 0 && max > 50;
  });
  const raw = (m: FeatureMatrix, r: number, c: number) => {
    const v = m.numeric[r * width + c] as number;
    return logged[c] ? Math.log1p(v) : v;
  };
  const mean = new Float64Array(width);
  const std = new Float64Array(width);
  for (let c = 0; c < width; c++) {
    let s = 0;
    let s2 = 0;
    for (let r = 0; r < rows; r++) {
      const v = raw(train, r, c);
      s += v;
      s2 += v * v;
    }
    mean[c] = s / rows;
    std[c] = Math.sqrt(Math.max(1e-12, s2 / rows - (s / rows) ** 2));
  }
  const x = (m: FeatureMatrix, r: number) => {
    const out = new Float64Array(width + 1);
    out[0] = 1;
    for (let c = 0; c < width; c++) out[c + 1] = (raw(m, r, c) - (mean[c] as number)) / (std[c] as number);
    return out;
  };
  const k = width + 1;
  const beta = new Float64Array(k);
  const xs = Array.from({ length: rows }, (_, r) => x(train, r));
  for (let iteration = 0; iteration < 50; iteration++) {
    const gradient = new Float64Array(k);
    const hessian = Array.from({ length: k }, () => new Float64Array(k));
    for (let r = 0; r < rows; r++) {
      const xi = xs[r] as Float64Array;
      let z = 0;
      for (let j = 0; j < k; j++) z += (beta[j] as number) * (xi[j] as number);
      const p = 1 / (1 + Math.exp(-z));
      const w = Math.max(1e-9, p * (1 - p));
      const e = p - (train.labels[r] as number);
      for (let j = 0; j < k; j++) {
        gradient[j] = (gradient[j] as number) + e * (xi[j] as number);
        const hj = hessian[j] as Float64Array;
        for (let l = 0; l < k; l++) hj[l] = (hj[l] as number) + w * (xi[j] as number) * (xi[l] as number);
      }
    }
    for (let j = 1; j < k; j++) {
      gradient[j] = (gradient[j] as number) + l2 * rows * (beta[j] as number);
      (hessian[j] as Float64Array)[j] = ((hessian[j] as Float64Array)[j] as number) + l2 * rows;
    }
    const step = solve(hessian, gradient);
    let moved = 0;
    for (let j = 0; j < k; j++) {
      beta[j] = (beta[j] as number) - (step[j] as number);
      moved = Math.max(moved, Math.abs(step[j] as number));
    }
    if (moved < 1e-8) break;
  }
  return (m) =>
    Float64Array.from({ length: m.customerIds.length }, (_, r) => {
      const xi = x(m, r);
      let z = 0;
      for (let j = 0; j < k; j++) z += (beta[j] as number) * (xi[j] as number);
      return 1 / (1 + Math.exp(-z));
    });
}

/** Solves A·x = b by Gaussian elimination with partial pivoting (A is small and positive definite). */
function solve(a: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] as number]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]?.[col] as number) > Math.abs(m[pivot]?.[col] as number)) pivot = r;
    [m[col], m[pivot]] = [m[pivot] as number[], m[col] as number[]];
    const p = (m[col] as number[])[col] as number;
    for (let r = col + 1; r < n; r++) {
      const f = ((m[r] as number[])[col] as number) / p;
      for (let c = col; c <= n; c++) (m[r] as number[])[c] = ((m[r] as number[])[c] as number) - f * ((m[col] as number[])[c] as number);
    }
  }
  const out = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = (m[r] as number[])[n] as number;
    for (let c = r + 1; c < n; c++) s -= ((m[r] as number[])[c] as number) * (out[c] as number);
    out[r] = s / ((m[r] as number[])[r] as number);
  }
  return out;
}
