import { z } from 'zod';
import type { FeatureColumn, FeatureMatrix } from '../features/matrix.ts';
import { customerIndexOfRows } from './rows.ts';
import { distinctAscending, quantileEdges, segmentInputBudget, segmentsPerColumn, supervisedSegmentation } from './segmentation.ts';

/**
 * Turns a FeatureMatrix into the network's dense float inputs. Fitted on training rows only
 * and saved with the model, so scoring applies exactly the statistics training saw.
 *
 * Input layout (columns of the dense matrix, in order): one standardised value per numeric
 * column; one missing indicator per numeric column that had missing values in training; one
 * one-hot slot per kept category of each categorical column plus `__other__` (rare or unseen)
 * and `__missing__`.
 */

/** Categories rarer than this in training share the `__other__` slot. */
export const MIN_CATEGORY_COUNT = 5;
/** At most this many categories per column get their own slot (the most frequent). */
export const MAX_CATEGORIES = 50;
/** Non-negative columns more skewed than this are log1p-transformed before standardising. */
export const LOG_SKEWNESS = 2;
/** Standardised values are clipped to ±CLIP: one wild value must not saturate the network. */
export const CLIP = 10;
export const OTHER = '__other__';
export const MISSING = '__missing__';

const FamilyName = z.string();

export const NumericInputSpec = z.object({
  name: z.string(),
  family: FamilyName,
  description: z.string(),
  transform: z.enum(['none', 'log1p']),
  mean: z.number(),
  std: z.number().positive(),
  missingIndicator: z.boolean(),
  /**
   * Edges (on the standardised scale; quantile and, with segmentation 'supervised' or 'both',
   * target-aware) of a piecewise-linear encoding: one extra input
   * per segment between consecutive edges, 0 below it, 1 above it and linear inside. It lets
   * both the network and the logistic baseline bend a feature's effect at data-driven
   * thresholds (Gorishniy et al., 2022, "On Embeddings for Numerical Features in Tabular Deep
   * Learning"). Empty: the standardised value only.
   */
  segmentEdges: z.array(z.number()).default([]),
  /**
   * Thresholds (standardised scale) of honest supervised splits (supervisedSegmentation): one
   * input per threshold, 1 above it and 0 below, the test a decision tree makes. A network
   * gets a jump in churn, such as at the fourth support call, as one input it can combine with
   * others, where a segment would ramp across the whole range above the threshold.
   */
  steps: z.array(z.number()).default([]),
});
export const CategoricalInputSpec = z.object({
  name: z.string(),
  family: FamilyName,
  description: z.string(),
  /** Kept categories, in slot order; followed by `__other__` and `__missing__`. */
  categories: z.array(z.string()),
});
/** Where one dense input comes from: attributions of inputs are summed per `source`. */
export const InputSource = z.object({
  source: z.string(),
  kind: z.enum(['value', 'missing', 'category', 'segment', 'step']),
  category: z.string().optional(),
  /** For kind 'segment': which segment of the column's piecewise-linear encoding (0-based). */
  segment: z.number().int().nonnegative().optional(),
  /** For kind 'step': which of the column's `steps` (0-based). */
  step: z.number().int().nonnegative().optional(),
});
export const Preprocessing = z.object({
  numeric: z.array(NumericInputSpec),
  categorical: z.array(CategoricalInputSpec),
  inputs: z.array(InputSource),
  /** Mean of every dense input over the training rows: the integrated-gradients baseline. */
  baseline: z.array(z.number()),
});
export type Preprocessing = z.output<typeof Preprocessing>;
export type NumericInputSpec = z.output<typeof NumericInputSpec>;
export type CategoricalInputSpec = z.output<typeof CategoricalInputSpec>;

/** Thrown when a matrix lacks columns the model was trained on (or has them with another kind). */
export class IncompatibleFeaturesError extends Error {
  override name = 'IncompatibleFeaturesError';
}

function numericStats(values: number[]): { transform: 'none' | 'log1p'; mean: number; std: number } {
  const moments = (xs: number[]) => {
    const n = xs.length || 1;
    const mean = xs.reduce((s, x) => s + x, 0) / n;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
    const std = Math.sqrt(variance);
    const skew = std > 0 ? xs.reduce((s, x) => s + ((x - mean) / std) ** 3, 0) / n : 0;
    return { mean, std, skew };
  };
  const raw = moments(values);
  const transform = values.length > 0 && values.every((x) => x >= 0) && raw.skew > LOG_SKEWNESS ? 'log1p' : 'none';
  const used = transform === 'log1p' ? moments(values.map(Math.log1p)) : raw;
  return { transform, mean: used.mean, std: used.std > 1e-12 ? used.std : 1 };
}

/** Choices of the preprocessing fit. */
export interface PreprocessingOptions {
  /**
   * A category needs at least this share of the training rows (and MIN_CATEGORY_COUNT rows) for
   * its own one-hot slot; rarer ones share `__other__`. Default 0: only the count rule.
   */
  minCategoryShare?: number;
  /**
   * Segments of the piecewise-linear encoding of each numeric column (quantile edges of the
   * training values; columns with fewer distinct values get fewer). 0: standardised values only.
   */
  numericSegments?: number;
  /**
   * Capacity guard of the piecewise-linear encoding: segments per column are cut so that every
   * segment input has at least this many training churners behind it (the events-per-variable
   * rule of clinical prediction models, Peduzzi et al., 1996). Small or churner-poor data sets
   * then get fewer segments, or none. Default 0: no cap.
   */
  minChurnersPerSegment?: number;
  /**
   * Where segment edges go: 'quantile' (equal-count edges, capped by minChurnersPerSegment),
   * 'supervised' (supervisedEdges: where churn jumps) or 'both' (quantile edges, then supervised
   * ones added while the minChurnersPerSegment budget lasts, strongest column first). Default
   * 'quantile': with 'both' the MLP lost to its baseline on small data (README).
   */
  segmentation?: 'quantile' | 'supervised' | 'both';
  /**
   * Step inputs at the thresholds of honest supervised splits (NumericInputSpec.steps), within
   * what the minChurnersPerSegment budget leaves after segments, strongest column first.
   */
  thresholdSteps?: boolean;
}

function standardise(spec: Pick<NumericInputSpec, 'transform' | 'mean' | 'std'>, raw: number): number {
  const x = spec.transform === 'log1p' ? Math.log1p(Math.max(0, raw)) : raw;
  return Math.max(-CLIP, Math.min(CLIP, (x - spec.mean) / spec.std));
}

/** A numeric column's training values: sorted and as-is (standardised), with the labels and honest-split halves of the as-is ones. */
interface ColumnValues {
  standardised: Float64Array;
  unsorted: Float64Array;
  presentLabels: number[];
  presentHalves: number[];
}

/**
 * Segment edges and step thresholds of every numeric column under `options`, within the
 * churners-per-input budget: quantile segments first, then supervised edges and steps, strongest column first.
 */
function encodingsOfColumns(
  columns: ColumnValues[],
  churners: number,
  options: PreprocessingOptions,
): { edges: number[][]; steps: number[][] } {
  // The cap counts only columns that can be segmented: constant or two-valued columns get none.
  const segmentable = columns.filter(({ standardised }) => quantileEdges(standardised, options.numericSegments ?? 0).length > 0).length;
  const segments = segmentsPerColumn(options, churners, segmentable);
  const inputsOf = (edges: number[]) => Math.max(0, edges.length - 1);
  const quantiles = columns.map(({ standardised }) => (options.segmentation === 'supervised' ? [] : quantileEdges(standardised, segments)));
  const edges = [...quantiles];
  const steps = columns.map((): number[] => []);
  const supervisedSegments = options.segmentation === 'supervised' || options.segmentation === 'both';
  if (!supervisedSegments && !options.thresholdSteps) return { edges, steps };
  let budget = segmentInputBudget(options, churners) - quantiles.reduce((n, e) => n + inputsOf(e), 0);
  const candidates = columns
    .map(({ unsorted, presentLabels, presentHalves }, c) => ({
      c,
      ...supervisedSegmentation(unsorted, presentLabels, options.numericSegments ?? 0, presentHalves),
    }))
    .filter((candidate) => candidate.edges.length > 0)
    .sort((a, b) => b.strength - a.strength);
  for (const { c, edges: supervised } of candidates) {
    if (supervisedSegments) {
      const merged = distinctAscending([...(quantiles[c] as number[]), ...supervised]);
      const extra = inputsOf(merged) - inputsOf(quantiles[c] as number[]);
      if (extra <= budget) {
        budget -= extra;
        edges[c] = merged;
      }
    }
    if (options.thresholdSteps) {
      const thresholds = supervised.slice(1, -1);
      if (thresholds.length <= budget) {
        budget -= thresholds.length;
        steps[c] = thresholds;
      }
    }
  }
  return { edges, steps };
}

/** Fits the preprocessing on the labelled training rows of `train`. */
export function fitPreprocessing(train: FeatureMatrix, options: PreprocessingOptions = {}): Preprocessing {
  const minCategoryCount = Math.max(MIN_CATEGORY_COUNT, Math.ceil((options.minCategoryShare ?? 0) * train.customerIds.length));
  const rows = train.customerIds.length;
  const nNum = train.numericColumns.length;
  const nCat = train.categoricalColumns.length;
  // Honest-split halves alternate customers, so all rows of a customer share one half.
  const halfOf = customerIndexOfRows(train.customerIds).map((customer) => customer % 2);
  const columns = train.numericColumns.map((column, c) => {
    const present: number[] = [];
    const presentLabels: number[] = [];
    const presentHalves: number[] = [];
    for (let r = 0; r < rows; r++) {
      const v = train.numeric[r * nNum + c] as number;
      if (Number.isFinite(v)) {
        present.push(v);
        presentLabels.push(train.labels[r] as number);
        presentHalves.push(halfOf[r] as number);
      }
    }
    const stats = numericStats(present);
    const unsorted = Float64Array.from(present, (v) => standardise(stats, v));
    return { column, present, presentLabels, presentHalves, unsorted, stats, standardised: Float64Array.from(unsorted).sort() };
  });
  const churners = train.labels.reduce((n, y) => n + (y === 1 ? 1 : 0), 0);
  const encodings = encodingsOfColumns(columns, churners, options);
  const numeric: NumericInputSpec[] = columns.map(({ column, present, stats }, c) => ({
    name: column.name,
    family: column.family,
    description: column.description,
    ...stats,
    missingIndicator: present.length < rows,
    segmentEdges: encodings.edges[c] as number[],
    steps: encodings.steps[c] as number[],
  }));
  const categorical: CategoricalInputSpec[] = train.categoricalColumns.map((column, c) => {
    const counts = new Map<string, number>();
    for (let r = 0; r < rows; r++) {
      const code = train.categorical[r * nCat + c] as number;
      const value = code >= 0 ? column.categories[code] : undefined;
      if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    const kept = [...counts.entries()]
      .filter(([, n]) => n >= minCategoryCount)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, MAX_CATEGORIES)
      .map(([value]) => value);
    return { name: column.name, family: column.family, description: column.description, categories: kept };
  });
  const inputs: Array<z.output<typeof InputSource>> = [
    ...numeric.map((spec) => ({ source: spec.name, kind: 'value' as const })),
    ...numeric.filter((spec) => spec.missingIndicator).map((spec) => ({ source: spec.name, kind: 'missing' as const })),
    ...numeric.flatMap((spec) =>
      spec.segmentEdges.slice(1).map((_, segment) => ({ source: spec.name, kind: 'segment' as const, segment })),
    ),
    ...numeric.flatMap((spec) => spec.steps.map((_, step) => ({ source: spec.name, kind: 'step' as const, step }))),
    ...categorical.flatMap((spec) =>
      [...spec.categories, OTHER, MISSING].map((category) => ({ source: spec.name, kind: 'category' as const, category })),
    ),
  ];
  // Stryker disable next-line ArrayDeclaration: this baseline is never read; the returned spec replaces it
  const spec: Preprocessing = { numeric, categorical, inputs, baseline: [] };
  const dense = transformMatrix(spec, train);
  const baseline = new Array<number>(inputs.length).fill(0);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < inputs.length; j++) baseline[j] = (baseline[j] as number) + (dense[r * inputs.length + j] as number);
  return { ...spec, baseline: baseline.map((sum) => (rows > 0 ? sum / rows : 0)) };
}

/** Index of every column the model needs in `matrix`, or an error naming the missing ones. */
function locateColumns(spec: Preprocessing, matrix: FeatureMatrix): { numeric: number[]; categorical: number[] } {
  const numericIndex = new Map(matrix.numericColumns.map((c, i) => [c.name, i]));
  const categoricalIndex = new Map(matrix.categoricalColumns.map((c, i) => [c.name, i]));
  const missing: string[] = [];
  const indexOf = (index: Map<string, number>, name: string, kind: string): number => {
    const found = index.get(name);
    if (found === undefined) missing.push(`${name} (${kind})`);
    // Stryker disable next-line UnaryOperator: the index of a missing column is never used; locateColumns throws
    return found ?? -1;
  };
  const numeric = spec.numeric.map((s) => indexOf(numericIndex, s.name, 'numeric'));
  const categorical = spec.categorical.map((s) => indexOf(categoricalIndex, s.name, 'categorical'));
  if (missing.length > 0) {
    throw new IncompatibleFeaturesError(
      `the feature matrix lacks ${missing.length} column(s) the model was trained on: ${missing.join(', ')}`,
    );
  }
  return { numeric, categorical };
}

/**
 * Applies fitted preprocessing: returns rows × inputs.length floats, row-major.
 * Columns are matched by name and categories by value, so column order and category codes
 * may differ between the training matrix and the one scored.
 */
export function transformMatrix(spec: Preprocessing, matrix: FeatureMatrix): Float32Array {
  const rows = matrix.customerIds.length;
  const width = spec.inputs.length;
  const out = new Float32Array(rows * width);
  const located = locateColumns(spec, matrix);
  const nNum = matrix.numericColumns.length;
  const nCat = matrix.categoricalColumns.length;
  const indicatorCount = spec.numeric.filter((s) => s.missingIndicator).length;
  const segmentCount = spec.numeric.reduce((n, s) => n + Math.max(0, s.segmentEdges.length - 1), 0);
  const stepCount = spec.numeric.reduce((n, s) => n + s.steps.length, 0);
  // Per categorical column: matrix code → slot offset within the column's one-hot group.
  const slotMaps = spec.categorical.map((s, k) => {
    const column = matrix.categoricalColumns[located.categorical[k] as number] as FeatureColumn & { categories: string[] };
    const slotOf = new Map(s.categories.map((value, slot) => [value, slot]));
    return column.categories.map((value) => slotOf.get(value) ?? s.categories.length);
  });
  // Plain loops over precomputed arrays: this runs once per customer and input (a million
  // customers × a hundred inputs), so closures and property look-ups per row add up.
  const numeric = spec.numeric;
  const numericAt = Int32Array.from(numeric, (_, k) => located.numeric[k] as number);
  const categoricalAt = Int32Array.from(spec.categorical, (_, k) => located.categorical[k] as number);
  const categoryCounts = Int32Array.from(spec.categorical, (s) => s.categories.length);
  const firstSegment = numeric.length + indicatorCount;
  const firstStep = firstSegment + segmentCount;
  const firstCategorical = firstStep + stepCount;
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    let indicator = numeric.length;
    let segment = firstSegment;
    let step = firstStep;
    for (let k = 0; k < numeric.length; k++) {
      const s = numeric[k] as NumericInputSpec;
      const raw = matrix.numeric[r * nNum + (numericAt[k] as number)] as number;
      const present = Number.isFinite(raw);
      // Missing: 0 (the training mean) and no segment filled, flagged by the indicator.
      const z = present ? standardise(s, raw) : 0;
      out[base + k] = z;
      if (s.missingIndicator) out[base + indicator++] = present ? 0 : 1;
      const edges = s.segmentEdges;
      for (let t = 1; t < edges.length; t++) {
        const low = edges[t - 1] as number;
        const high = edges[t] as number;
        out[base + segment++] = present ? Math.max(0, Math.min(1, (z - low) / (high - low))) : 0;
      }
      const steps = s.steps;
      for (let t = 0; t < steps.length; t++) out[base + step++] = present && z > (steps[t] as number) ? 1 : 0;
    }
    let offset = firstCategorical;
    for (let k = 0; k < categoricalAt.length; k++) {
      const code = matrix.categorical[r * nCat + (categoricalAt[k] as number)] as number;
      const count = categoryCounts[k] as number;
      const slot = code < 0 ? count + 1 : ((slotMaps[k] as number[])[code] ?? count);
      out[base + offset + slot] = 1;
      offset += count + 2;
    }
  }
  return out;
}

/** The raw value of feature `source` at `row`, as shown to people: number, category or null. */
export function rawFeatureValue(matrix: FeatureMatrix, row: number, source: string): number | string | null {
  const n = matrix.numericColumns.findIndex((c) => c.name === source);
  if (n >= 0) {
    const v = matrix.numeric[row * matrix.numericColumns.length + n] as number;
    return Number.isFinite(v) ? v : null;
  }
  const c = matrix.categoricalColumns.findIndex((col) => col.name === source);
  if (c >= 0) {
    const code = matrix.categorical[row * matrix.categoricalColumns.length + c] as number;
    return code >= 0 ? (matrix.categoricalColumns[c]?.categories[code] ?? null) : null;
  }
  return null;
}
