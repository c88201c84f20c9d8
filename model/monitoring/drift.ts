import type { FeatureMatrix } from '../features/matrix.ts';

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
    columns.push({
      kind: 'categorical',
      name: column.name,
      categories: [...column.categories],
      shares: categoricalShares(categoricalColumnCodes(matrix, i), column.categories),
    });
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
