import { type NumericValues, valuesFor } from './columnValues.ts';
import type { ColumnPlan, NumericPlan, RowDraft } from './matrixBuilder.ts';

/**
 * Training churners per column of the model: a column's effect is estimated from the churners
 * behind it (the events-per-variable rule of clinical prediction models, Peduzzi et al., 1996).
 * The fixed features and profile columns count first (they are curated); generated columns get
 * what the rule leaves. A purchase log with thousands of churners and five varying fixed
 * columns gets every family; a simulated SaaS business of a thousand customers, whose 24 fixed
 * columns already describe its streams, gets none until its churners pass 240.
 */
export const MIN_CHURNERS_PER_GENERATED_COLUMN = 10;

/** Equal up to floating-point rounding: a sum of cents ÷ 100 and a sum of units are the same column. */
const sameValue = (x: number, y: number): boolean =>
  x === y || (Number.isNaN(x) && Number.isNaN(y)) || Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
const sameValues = (a: Float64Array, b: Float64Array): boolean => {
  for (let i = 0; i < a.length; i++) if (!sameValue(a[i] as number, b[i] as number)) return false;
  return true;
};

/**
 * Drops numeric columns equal, row by row, to an earlier column on `rows` (the training rows):
 * a purchase log's "days since the last payment" is its "days since the last activity". The
 * earlier column stays (fixed features come before generated ones). Returns `duplicates` as
 * dropped → kept names.
 */
export function dropDuplicateColumns(
  plan: ColumnPlan,
  rows: readonly RowDraft[],
  cached?: NumericValues,
): { plan: ColumnPlan; duplicates: Map<string, string> } {
  const cache = valuesFor(rows, cached);
  const kept: Array<{ plan: NumericPlan; values: Float64Array }> = [];
  const byKey = new Map<string, number[]>();
  const duplicates = new Map<string, string>();
  for (const p of plan.numeric) {
    // NaN compares equal to NaN in sameValue and hashes alike, so the raw values serve as they are.
    const values = cache.of(p);
    // A cheap fingerprint narrows the comparison to columns that may be equal.
    let hash = 0;
    for (let i = 0; i < values.length; i += Math.max(1, Math.floor(values.length / 64)))
      hash = (hash * 31 + Math.round((values[i] as number) * 1e4)) % 1e12;
    const key = `${hash}`;
    const twin = (byKey.get(key) ?? []).find((k) => sameValues((kept[k] as { values: Float64Array }).values, values));
    if (twin !== undefined) {
      duplicates.set(p.column.name, (kept[twin] as { plan: NumericPlan }).plan.column.name);
      continue;
    }
    byKey.set(key, [...(byKey.get(key) ?? []), kept.length]);
    kept.push({ plan: p, values });
  }
  return { plan: { numeric: kept.map((k) => k.plan), categorical: plan.categorical }, duplicates };
}

/**
 * How far one column alone separates churners from stayers on `rows`: |ROC AUC − 0.5|, with
 * missing values ranked lowest (together). 0 when a class is absent.
 */
export function separation(plan: NumericPlan, rows: readonly RowDraft[], cached?: NumericValues): number {
  const column = valuesFor(rows, cached).of(plan);
  let labelled = 0;
  let positives = 0;
  for (const row of rows) {
    if (row.label === 0 || row.label === 1) labelled++;
    if (row.label === 1) positives++;
  }
  // Sorted values of all labelled rows and of the churners alone: typed-array sorts, no objects.
  // Ties share one rank, so how a sort orders them cannot change the sum (-0 and 0 tie, as in ===).
  const all = new Float64Array(labelled);
  const churners = new Float64Array(positives);
  for (let r = 0, a = 0, p = 0; r < rows.length; r++) {
    const label = (rows[r] as RowDraft).label;
    if (label !== 0 && label !== 1) continue;
    const v = column[r] as number;
    const value = Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
    all[a++] = value;
    if (label === 1) churners[p++] = value;
  }
  all.sort();
  churners.sort();
  let rankSum = 0;
  let p = 0;
  for (let start = 0; start < labelled; ) {
    let end = start;
    while (end + 1 < labelled && all[end + 1] === all[start]) end++;
    const rank = (start + end) / 2 + 1;
    // One addition per churner, in rank order: the same sum, rounding included, as a pass over sorted rows.
    while (p < positives && churners[p] === all[start]) {
      rankSum += rank;
      p++;
    }
    start = end + 1;
  }
  const negatives = labelled - positives;
  if (positives === 0 || negatives === 0) return 0;
  return Math.abs((rankSum - (positives * (positives + 1)) / 2) / (positives * negatives) - 0.5);
}

/** Above this |Pearson correlation| with a column already kept, a generated column is redundant when the budget binds. */
export const REDUNDANT_CORRELATION = 0.8;

/** Pearson correlation over the rows where both values are present; 0 with fewer than 3 such rows or no variance. */
export function correlation(a: Float64Array, b: Float64Array): number {
  let n = 0;
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    n++;
    sa += x;
    sb += y;
    saa += x * x;
    sbb += y * y;
    sab += x * y;
  }
  if (n < 3) return 0;
  const cov = sab - (sa * sb) / n;
  const va = saa - (sa * sa) / n;
  const vb = sbb - (sb * sb) / n;
  return va > 1e-12 && vb > 1e-12 ? cov / Math.sqrt(va * vb) : 0;
}

/**
 * Keeps at most ⌊churners / `minChurnersPerColumn`⌋ − (the other columns) generated columns, those that separate
 * churners from stayers best on the training rows alone (ties: column order), skipping, while the
 * budget binds, any nearly equal (|correlation| ≥ REDUNDANT_CORRELATION) to a column already kept;
 * every other column stays. Returns the names left out.
 */
export function budgetGeneratedColumns(
  plan: ColumnPlan,
  rows: readonly RowDraft[],
  minChurnersPerColumn = MIN_CHURNERS_PER_GENERATED_COLUMN,
  cached?: NumericValues,
): { plan: ColumnPlan; budget: number; candidates: number; overBudget: string[] } {
  const cache = valuesFor(rows, cached);
  const churners = rows.reduce((n, row) => n + (row.label === 1 ? 1 : 0), 0);
  const generated = plan.numeric.filter((p) => p.column.generated);
  const curated = plan.numeric.length - generated.length + plan.categorical.length;
  const budget = Math.max(0, Math.floor(churners / minChurnersPerColumn) - curated);
  if (generated.length <= budget) return { plan, budget, candidates: generated.length, overBudget: [] };
  const ranked = generated
    .map((p, order) => ({ p, order, strength: separation(p, rows, cache) }))
    .sort((a, b) => b.strength - a.strength || a.order - b.order);
  // When the budget binds, a column nearly equal to one the model already has adds noise, not news.
  const chosen = plan.numeric.filter((p) => !p.column.generated).map((p) => cache.of(p));
  const keep = new Set<NumericPlan>();
  for (const { p } of ranked) {
    if (keep.size >= budget) break;
    const values = cache.of(p);
    if (chosen.some((other) => Math.abs(correlation(values, other)) >= REDUNDANT_CORRELATION)) continue;
    keep.add(p);
    chosen.push(values);
  }
  return {
    plan: { numeric: plan.numeric.filter((p) => !p.column.generated || keep.has(p)), categorical: plan.categorical },
    budget,
    candidates: generated.length,
    overBudget: generated.filter((p) => !keep.has(p)).map((p) => p.column.name),
  };
}
