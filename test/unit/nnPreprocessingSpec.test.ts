import { describe, expect, it } from 'vitest';
import type { FeatureMatrix } from '../../model/features/matrix.ts';
import {
  CLIP,
  fitPreprocessing,
  IncompatibleFeaturesError,
  InputSource,
  MAX_CATEGORIES,
  MISSING,
  OTHER,
  type Preprocessing,
  rawFeatureValue,
  transformMatrix,
} from '../../model/nn/preprocessing.ts';
import { seededRandom } from '../../model/nn/random.ts';
import { quantileEdges } from '../../model/nn/segmentation.ts';

interface Columns {
  numeric?: Record<string, ArrayLike<number>>;
  /** Per column: its category list and one code per row (-1: missing). */
  categorical?: Record<string, { categories: string[]; codes: number[] }>;
  labels?: ArrayLike<number>;
}

/** A matrix of the given columns, in the given order; rows = the length of the first column. */
function matrixOf({ numeric = {}, categorical = {}, labels }: Columns): FeatureMatrix {
  const numericNames = Object.keys(numeric);
  const categoricalNames = Object.keys(categorical);
  const rows =
    numericNames.length > 0
      ? (numeric[numericNames[0] as string]?.length ?? 0)
      : (categorical[categoricalNames[0] as string]?.codes.length ?? 0);
  return {
    cutoff: '2026-01-01T00:00:00.000Z',
    customerIds: Array.from({ length: rows }, (_, r) => `c${r}`),
    numericColumns: numericNames.map((name) => ({ kind: 'numeric', name, family: 'activity', description: name })),
    categoricalColumns: categoricalNames.map((name) => ({
      kind: 'categorical',
      name,
      family: 'plan',
      description: name,
      categories: categorical[name]?.categories ?? [],
    })),
    numeric: Float64Array.from({ length: rows * numericNames.length }, (_, i) => {
      const column = numeric[numericNames[i % numericNames.length] as string] as ArrayLike<number>;
      return column[Math.floor(i / numericNames.length)] as number;
    }),
    categorical: Int32Array.from({ length: rows * categoricalNames.length }, (_, i) => {
      const column = categorical[categoricalNames[i % categoricalNames.length] as string];
      return column?.codes[Math.floor(i / categoricalNames.length)] as number;
    }),
    labels: Int8Array.from(labels ?? new Array<number>(rows).fill(0)),
    mrrCents: new Float64Array(rows),
  };
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
/** Population standard deviation and skewness, written out again. */
const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const skew = (xs: number[]) => mean(xs.map((x) => ((x - mean(xs)) / std(xs)) ** 3));

describe('the fitted statistics of a numeric column', () => {
  it('standardises an unskewed column by its training mean and population standard deviation', () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const [spec] = fitPreprocessing(matrixOf({ numeric: { x: values } })).numeric;
    expect(spec).toMatchObject({ name: 'x', transform: 'none', missingIndicator: false, segmentEdges: [], steps: [] });
    expect(spec?.mean).toBeCloseTo(5.5, 12);
    expect(spec?.std).toBeCloseTo(Math.sqrt(8.25), 12);
  });

  it('log-transforms a non-negative column skewed beyond 2, with the statistics of log1p of its values', () => {
    const values = [0, 0, 0, 0, 0, 0, 0, 0, 0, 100]; // skewness 0.8 / 0.3 ≈ 2.67
    expect(skew(values)).toBeGreaterThan(2);
    const spec = fitPreprocessing(matrixOf({ numeric: { x: values } }));
    const [x] = spec.numeric;
    expect(x?.transform).toBe('log1p');
    expect(x?.mean).toBeCloseTo(Math.log(101) / 10, 12);
    expect(x?.std).toBeCloseTo(0.3 * Math.log(101), 12);
    // Scoring applies log1p too, and takes a negative value as 0 (log1p of it would be NaN or −∞).
    const dense = transformMatrix(spec, matrixOf({ numeric: { x: [9, -5, 0] } }));
    expect(dense[0]).toBeCloseTo((Math.log(10) - Math.log(101) / 10) / (0.3 * Math.log(101)), 5);
    expect(dense[1]).toBeCloseTo(-1 / 3, 5);
    expect(dense[2]).toBeCloseTo(-1 / 3, 5);
  });

  it('never log-transforms a column with a negative value, however skewed', () => {
    const values = [-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100];
    expect(skew(values)).toBeGreaterThan(2);
    const [x] = fitPreprocessing(matrixOf({ numeric: { x: values } })).numeric;
    expect(x?.transform).toBe('none');
    expect(x?.mean).toBeCloseTo(mean(values), 12);
  });

  it('keeps a skewed column whose skewness is at most 2 as it is', () => {
    const values = [0, 0, 0, 0, 1, 1, 2, 3, 5, 9]; // non-negative, skewness ≈ 1.5
    expect(skew(values)).toBeGreaterThan(1);
    expect(skew(values)).toBeLessThan(2);
    expect(fitPreprocessing(matrixOf({ numeric: { x: values } })).numeric[0]?.transform).toBe('none');
  });

  it('gives a constant column std 1 (not 0), so scoring subtracts the mean and divides by nothing', () => {
    const spec = fitPreprocessing(matrixOf({ numeric: { x: [3, 3, 3, 3] } }));
    expect(spec.numeric[0]).toMatchObject({ transform: 'none', mean: 3, std: 1 });
    expect(Array.from(transformMatrix(spec, matrixOf({ numeric: { x: [5, 3, 1.5] } })))).toEqual([2, 0, -1.5]);
  });

  it('clips standardised values at −CLIP as well as +CLIP', () => {
    const spec = fitPreprocessing(matrixOf({ numeric: { x: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] } }));
    expect(Array.from(transformMatrix(spec, matrixOf({ numeric: { x: [-1e6, 1e6] } })))).toEqual([-CLIP, CLIP]);
    expect(CLIP).toBe(10);
  });

  it('fits on no rows without NaN: mean 0, std 1 and a zero baseline', () => {
    const spec = fitPreprocessing(matrixOf({ numeric: { x: [] }, categorical: { plan: { categories: ['a'], codes: [] } } }));
    expect(spec.numeric[0]).toMatchObject({ transform: 'none', mean: 0, std: 1, missingIndicator: false });
    expect(spec.categorical[0]?.categories).toEqual([]);
    expect(spec.baseline).toEqual([0, 0, 0]);
  });
});

describe('the attribution baseline', () => {
  it('is the training share of every one-hot slot and missing indicator, and the mean of every value', () => {
    // 10 rows: plan a ×5, b ×2 (rare: __other__), missing ×3; x missing twice.
    const x = [1, 2, Number.NaN, 4, 5, Number.NaN, 7, 8, 9, 10];
    const codes = [0, 0, 0, 0, 0, 1, 1, -1, -1, -1];
    const spec = fitPreprocessing(matrixOf({ numeric: { x }, categorical: { plan: { categories: ['a', 'b'], codes } } }));
    expect(spec.inputs.map((i) => [i.kind, i.category ?? i.source])).toEqual([
      ['value', 'x'],
      ['missing', 'x'],
      ['category', 'a'],
      ['category', OTHER],
      ['category', MISSING],
    ]);
    // Values: the standardised present values average 0, and a missing one counts as 0.
    expect(spec.baseline[0]).toBeCloseTo(0, 6);
    expect(spec.baseline.slice(1)).toEqual([0.2, 0.5, 0.2, 0.3]);
  });
});

describe('categorical slots', () => {
  it('orders kept categories by training count, most frequent first, ties by name; missing values are never a category', () => {
    const counts: Record<string, number> = { zeta: 7, alpha: 5, beta: 7, gamma: 9, rare: 4 };
    const categories = Object.keys(counts);
    const codes = categories.flatMap((name, code) => new Array<number>(counts[name] as number).fill(code));
    codes.push(-1, -1, -1, -1, -1, -1); // six missing: enough rows for a slot, but missing is not a category
    const spec = fitPreprocessing(matrixOf({ categorical: { plan: { categories, codes } } }));
    expect(spec.categorical[0]?.categories).toEqual(['gamma', 'beta', 'zeta', 'alpha']);
    expect(spec.inputs.map((i) => i.category)).toEqual(['gamma', 'beta', 'zeta', 'alpha', OTHER, MISSING]);
  });

  it(`keeps at most MAX_CATEGORIES (${MAX_CATEGORIES}) categories, the most frequent ones`, () => {
    const categories = Array.from({ length: MAX_CATEGORIES + 2 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    const codes = categories.flatMap((_, code) => new Array<number>(5 + code).fill(code)); // k51 the most frequent
    const kept = fitPreprocessing(matrixOf({ categorical: { plan: { categories, codes } } })).categorical[0]?.categories;
    expect(kept).toEqual([...categories].reverse().slice(0, MAX_CATEGORIES));
  });

  it('names the shared slots __other__ and __missing__ (saved specs depend on it)', () => {
    expect([OTHER, MISSING]).toEqual(['__other__', '__missing__']);
  });
});

describe('the saved spec schema', () => {
  it('accepts the input kinds transformMatrix writes and rejects others or a missing source', () => {
    for (const kind of ['value', 'missing', 'category', 'segment', 'step'])
      expect(InputSource.safeParse({ source: 'x', kind }).success).toBe(true);
    expect(InputSource.safeParse({ source: 'x', kind: 'bogus' }).success).toBe(false);
    expect(InputSource.safeParse({ kind: 'value' }).success).toBe(false);
    expect(InputSource.safeParse({ source: 'x', kind: 'segment', segment: -1 }).success).toBe(false);
  });
});

describe('transformMatrix on a hand-written spec', () => {
  // Two numeric columns (a: segments and two steps; b: one step), both with missing indicators,
  // and two categorical ones; the scored matrix has its columns in another order and other codes.
  const spec: Preprocessing = {
    numeric: [
      {
        name: 'a',
        family: 'f',
        description: 'a',
        transform: 'none',
        mean: 0,
        std: 1,
        missingIndicator: true,
        segmentEdges: [-1, 0, 1],
        steps: [0, 0.5],
      },
      {
        name: 'b',
        family: 'f',
        description: 'b',
        transform: 'none',
        mean: 10,
        std: 2,
        missingIndicator: true,
        segmentEdges: [],
        steps: [1],
      },
    ],
    categorical: [
      { name: 'p', family: 'f', description: 'p', categories: ['x', 'y'] },
      { name: 'q', family: 'f', description: 'q', categories: ['k'] },
    ],
    inputs: [
      { source: 'a', kind: 'value' },
      { source: 'b', kind: 'value' },
      { source: 'a', kind: 'missing' },
      { source: 'b', kind: 'missing' },
      { source: 'a', kind: 'segment', segment: 0 },
      { source: 'a', kind: 'segment', segment: 1 },
      { source: 'a', kind: 'step', step: 0 },
      { source: 'a', kind: 'step', step: 1 },
      { source: 'b', kind: 'step', step: 0 },
      ...['x', 'y', OTHER, MISSING].map((category) => ({ source: 'p', kind: 'category' as const, category })),
      ...['k', OTHER, MISSING].map((category) => ({ source: 'q', kind: 'category' as const, category })),
    ],
    baseline: [],
  };
  const scored = matrixOf({
    numeric: { b: [12, Number.NaN, 14], a: [0.5, Number.NaN, -0.5] },
    categorical: {
      q: { categories: ['zz', 'k'], codes: [1, 0, -1] },
      p: { categories: ['y', 'x'], codes: [0, -1, 1] },
    },
  });

  it('lays out values, indicators, segments, steps and one-hot groups in order; a step is 1 strictly above its threshold', () => {
    const dense = Array.from(transformMatrix(spec, scored));
    const width = spec.inputs.length;
    const row = (r: number) => dense.slice(r * width, (r + 1) * width);
    //            a    b  a? b? seg0 seg1 a>0 a>.5 b>1  x  y  oth mis  k  oth mis
    expect(row(0)).toEqual([0.5, 1, 0, 0, 1, 0.5, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0]);
    expect(row(1)).toEqual([0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0]);
    expect(row(2)).toEqual([-0.5, 2, 0, 0, 0.5, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1]);
  });

  it('names every missing column, numeric and categorical, in an IncompatibleFeaturesError', () => {
    const without = matrixOf({ numeric: { a: [1] }, categorical: { q: { categories: ['k'], codes: [0] } } });
    const error = (() => {
      try {
        transformMatrix(spec, without);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(IncompatibleFeaturesError);
    expect((error as Error).name).toBe('IncompatibleFeaturesError');
    expect((error as Error).message).toBe('the feature matrix lacks 2 column(s) the model was trained on: b (numeric), p (categorical)');
  });
});

describe('rawFeatureValue', () => {
  const matrix = matrixOf({
    numeric: { n0: [1.5, Number.NaN], n1: [7, 8] },
    categorical: { c0: { categories: ['u'], codes: [0, 0] }, c1: { categories: ['v', 'w'], codes: [1, -1] } },
  });

  it('returns the number or category as shown to people, null when missing or unknown', () => {
    expect(rawFeatureValue(matrix, 0, 'n0')).toBe(1.5);
    expect(rawFeatureValue(matrix, 1, 'n1')).toBe(8);
    expect(rawFeatureValue(matrix, 1, 'n0')).toBeNull();
    expect(rawFeatureValue(matrix, 0, 'c1')).toBe('w');
    expect(rawFeatureValue(matrix, 1, 'c0')).toBe('u');
    expect(rawFeatureValue(matrix, 1, 'c1')).toBeNull();
    expect(rawFeatureValue(matrix, 0, 'nope')).toBeNull();
    const unknownCode = { ...matrix, categorical: Int32Array.from([0, 5, 0, 1]) };
    expect(rawFeatureValue(unknownCode, 0, 'c1')).toBeNull();
  });
});

describe('segments and steps under the churners-per-input budget', () => {
  /** `rows` customers; churn jumps at the fourth support call; `flag` is a two-valued column. */
  function calls(rows: number, seed: number) {
    const random = seededRandom(seed);
    const values = Array.from({ length: rows }, () => Math.floor(random() * 8));
    const labels = values.map((c) => (random() < (c >= 4 ? 0.5 : 0.08) ? 1 : 0));
    const flag = values.map(() => (random() < 0.5 ? 0 : 1));
    return { values, labels, flag, churners: labels.reduce<number>((n, y) => n + y, 0) };
  }

  it('splits the budget among segmentable columns only: a two-valued column takes no share', () => {
    const { values, labels, flag, churners } = calls(2000, 3);
    const options = { numericSegments: 4, minChurnersPerSegment: Math.floor(churners / 4) };
    const spec = fitPreprocessing(matrixOf({ numeric: { flag, calls: values }, labels }), options);
    const [flagSpec, callsSpec] = spec.numeric;
    expect(flagSpec?.segmentEdges).toEqual([]);
    // 4 inputs affordable for 1 segmentable column: all 4 segments (5 distinct quantile edges of 0..7).
    expect(callsSpec?.segmentEdges).toHaveLength(5);
    const standardised = Float64Array.from(values, (v) => (v - (callsSpec?.mean ?? 0)) / (callsSpec?.std ?? 1)).sort();
    expect(callsSpec?.segmentEdges).toEqual(quantileEdges(standardised, 4));
  });

  it('places quantile edges on the sorted training values whatever the row order', () => {
    const { values, labels } = calls(400, 4);
    const sortedRows = [...values.keys()].sort((i, j) => (values[i] as number) - (values[j] as number));
    const shuffled = fitPreprocessing(matrixOf({ numeric: { calls: values }, labels }), { numericSegments: 4 });
    const sorted = fitPreprocessing(
      matrixOf({ numeric: { calls: sortedRows.map((i) => values[i] as number) }, labels: sortedRows.map((i) => labels[i] as number) }),
      { numericSegments: 4 },
    );
    expect(shuffled.numeric[0]?.segmentEdges.length).toBeGreaterThanOrEqual(3);
    const [a, b] = [shuffled.numeric[0]?.segmentEdges ?? [], sorted.numeric[0]?.segmentEdges ?? []];
    expect(a).toHaveLength(b.length);
    for (const [k, edge] of b.entries()) expect(a[k]).toBeCloseTo(edge, 9); // the mean sums in another order
  });

  /** 3,000 customers: churn jumps at the fourth call of `strong` and, less, at the fourth of `weak` (listed first). */
  function twoDrivers() {
    const random = seededRandom(21);
    const rows = 3000;
    const strong = Array.from({ length: rows }, () => Math.floor(random() * 8));
    const weak = Array.from({ length: rows }, () => Math.floor(random() * 8));
    const labels = strong.map((v, r) => (random() < (v >= 4 ? 0.5 : 0.08) + ((weak[r] as number) >= 4 ? 0.12 : 0) ? 1 : 0));
    const churners = labels.reduce<number>((n, y) => n + y, 0);
    /** minChurnersPerSegment that affords exactly `inputs` inputs in all. */
    const affording = (inputs: number) => {
      for (let m = churners; m >= 1; m--) if (Math.floor(churners / m) === inputs) return m;
      throw new Error(`no minChurnersPerSegment affords ${inputs} inputs`);
    };
    return { matrix: matrixOf({ numeric: { weak, strong }, labels }), affording };
  }
  /** Segment edges and steps of every column, back on the raw scale. */
  const raw = (spec: Preprocessing) =>
    spec.numeric.map((n) => ({
      edges: n.segmentEdges.map((e) => Number((e * n.std + n.mean).toFixed(6))),
      steps: n.steps.map((e) => Number((e * n.std + n.mean).toFixed(6))),
    }));

  it("'both' adds supervised edges to the quantile ones while the budget lasts, strongest column first, never steps unless asked", () => {
    const { matrix, affording } = twoDrivers();
    const both = (extra: Record<string, number>) => raw(fitPreprocessing(matrix, { numericSegments: 2, segmentation: 'both', ...extra }));
    const quantileOnly = [
      { edges: [0, 3, 7], steps: [] },
      { edges: [0, 4, 7], steps: [] },
    ];
    // Quantile edges are 0, 3 | 4, 7; churn jumps between 3 and 4 in both columns: one extra input each.
    expect(raw(fitPreprocessing(matrix, { numericSegments: 2 }))).toEqual(quantileOnly);
    expect(both({})).toEqual([
      { edges: [0, 3, 3.5, 7], steps: [] },
      { edges: [0, 3.5, 4, 7], steps: [] },
    ]);
    // 2 × 2 quantile segments, then room for one extra input: the strong column's, though listed second.
    expect(both({ minChurnersPerSegment: affording(5) })).toEqual([quantileOnly[0], { edges: [0, 3.5, 4, 7], steps: [] }]);
    expect(both({ minChurnersPerSegment: affording(4) })).toEqual(quantileOnly);
    expect(both({ minChurnersPerSegment: affording(6) })).toEqual(both({}));
  });

  it('thresholdSteps spend what the quantile segments leave, strongest column first, and keep the edges quantile', () => {
    const { matrix, affording } = twoDrivers();
    const steps = (extra: Record<string, number>) => raw(fitPreprocessing(matrix, { numericSegments: 2, thresholdSteps: true, ...extra }));
    // The step is the inner threshold (3.5), never the ends of the range (0 and 7).
    expect(steps({})).toEqual([
      { edges: [0, 3, 7], steps: [3.5] },
      { edges: [0, 4, 7], steps: [3.5] },
    ]);
    expect(steps({ minChurnersPerSegment: affording(5) })).toEqual([
      { edges: [0, 3, 7], steps: [] },
      { edges: [0, 4, 7], steps: [3.5] },
    ]);
    expect(steps({ minChurnersPerSegment: affording(4) })).toEqual([
      { edges: [0, 3, 7], steps: [] },
      { edges: [0, 4, 7], steps: [] },
    ]);
  });
});
