import { describe, expect, it } from 'vitest';
import type { FeatureMatrix } from '../../model/features/matrix.ts';
import {
  fitPreprocessing,
  IncompatibleFeaturesError,
  MISSING,
  OTHER,
  Preprocessing,
  transformMatrix,
} from '../../model/nn/preprocessing.ts';
import { seededRandom } from '../../model/nn/random.ts';
import { quantileEdges, segmentsPerColumn, supervisedEdges } from '../../model/nn/segmentation.ts';

/** Rows of (spend, visits, plan): spend is heavy-tailed, visits has a missing value, plan has a rare category. */
function tiny(rows: Array<[number, number, string | null]>, categories = ['basic', 'pro', 'gold']): FeatureMatrix {
  return {
    cutoff: '2026-01-01T00:00:00.000Z',
    customerIds: rows.map((_, i) => `c${i}`),
    numericColumns: [
      { kind: 'numeric', name: 'spend', family: 'value', description: 'spend' },
      { kind: 'numeric', name: 'visits', family: 'activity', description: 'visits' },
    ],
    categoricalColumns: [{ kind: 'categorical', name: 'plan', family: 'plan', description: 'plan', categories }],
    numeric: Float64Array.from(rows.flatMap((row) => row.slice(0, 2) as number[])),
    categorical: Int32Array.from(rows.map(([, , p]) => (p === null ? -1 : categories.indexOf(p)))),
    labels: new Int8Array(rows.length),
    mrrCents: new Float64Array(rows.length),
  };
}

/** A matrix of numbers only: one column per entry of `columns` (family 'activity'), one row per label. */
function numbersOnly(columns: Record<string, ArrayLike<number>>, labels: ArrayLike<number>, customerIds?: string[]): FeatureMatrix {
  const names = Object.keys(columns);
  const rows = labels.length;
  return {
    cutoff: '2026-01-01T00:00:00.000Z',
    customerIds: customerIds ?? Array.from({ length: rows }, (_, r) => `c${r}`),
    numericColumns: names.map((name) => ({ kind: 'numeric', name, family: 'activity', description: name })),
    categoricalColumns: [],
    numeric: Float64Array.from(
      { length: rows * names.length },
      (_, i) => columns[names[i % names.length] as string]?.[Math.floor(i / names.length)] as number,
    ),
    categorical: new Int32Array(0),
    labels: Int8Array.from(labels),
    mrrCents: new Float64Array(rows),
  };
}

const trainRows: Array<[number, number, string | null]> = [
  ...Array.from({ length: 12 }, (_, i): [number, number, string | null] => [i % 3, i, 'basic']),
  ...Array.from({ length: 6 }, (_, i): [number, number, string | null] => [1, 20 + i, 'pro']),
  [1000, Number.NaN, 'gold'], // an outlier spend, a missing visit count, a rare plan
  [2, 5, null],
];

describe('fitPreprocessing', () => {
  it('log-transforms heavy-tailed non-negative columns and standardises the others', () => {
    const spec = fitPreprocessing(tiny(trainRows));
    expect(spec.numeric.find((s) => s.name === 'spend')?.transform).toBe('log1p');
    expect(spec.numeric.find((s) => s.name === 'visits')?.transform).toBe('none');
  });

  it('adds a missing indicator only for columns with missing training values', () => {
    const spec = fitPreprocessing(tiny(trainRows));
    expect(spec.inputs.filter((i) => i.kind === 'missing').map((i) => i.source)).toEqual(['visits']);
  });

  it('gives frequent categories their own slot and sends rare ones to __other__, plus a __missing__ slot', () => {
    const spec = fitPreprocessing(tiny(trainRows));
    expect(spec.inputs.filter((i) => i.source === 'plan').map((i) => i.category)).toEqual(['basic', 'pro', OTHER, MISSING]);
  });

  it('with minCategoryShare, also sends categories below that share of the training rows to __other__ (20 rows × 0.35 = 7 > 6 "pro")', () => {
    const spec = fitPreprocessing(tiny(trainRows), { minCategoryShare: 0.35 });
    expect(spec.inputs.filter((i) => i.source === 'plan').map((i) => i.category)).toEqual(['basic', OTHER, MISSING]);
    expect(fitPreprocessing(tiny(trainRows), { minCategoryShare: 0.3 }).categorical[0]?.categories).toEqual(['basic', 'pro']);
  });

  it('uses training statistics only: the same spec transforms any later matrix identically', () => {
    const spec = fitPreprocessing(tiny(trainRows));
    const later = transformMatrix(spec, tiny([[1, 11, 'basic']]));
    const inTraining = transformMatrix(spec, tiny(trainRows)).slice(4 * spec.inputs.length, 5 * spec.inputs.length); // row 4 = [1, 4, basic]
    expect(later[0]).toBeCloseTo(inTraining[0] as number, 6); // same spend → same standardised value
  });

  it('records the training mean of every input as the attribution baseline', () => {
    const spec = fitPreprocessing(tiny(trainRows));
    const dense = transformMatrix(spec, tiny(trainRows));
    const width = spec.inputs.length;
    const mean0 = Array.from({ length: trainRows.length }, (_, r) => dense[r * width] as number).reduce((a, b) => a + b) / trainRows.length;
    expect(spec.baseline[0]).toBeCloseTo(mean0, 6);
    expect(spec.baseline).toHaveLength(width);
  });
});

describe('transformMatrix', () => {
  it('matches categories by value, not code, and maps unseen values to __other__ and -1 to __missing__', () => {
    const spec = fitPreprocessing(tiny(trainRows));
    const reordered = tiny(
      [
        [1, 1, 'pro'],
        [1, 1, 'platinum'],
        [1, 1, null],
      ],
      ['platinum', 'pro'],
    );
    const dense = transformMatrix(spec, reordered);
    const width = spec.inputs.length;
    const slot = (name: string) => spec.inputs.findIndex((i) => i.source === 'plan' && i.category === name);
    expect([dense[slot('pro')], dense[width + slot(OTHER)], dense[2 * width + slot(MISSING)]]).toEqual([1, 1, 1]);
    expect(dense[slot('basic')]).toBe(0);
  });

  it('imputes a missing number with the training mean (0 after standardising) and sets its indicator', () => {
    const spec = fitPreprocessing(tiny(trainRows));
    const dense = transformMatrix(spec, tiny([[1, Number.NaN, 'basic']]));
    const indicator = spec.inputs.findIndex((i) => i.kind === 'missing');
    expect([dense[1], dense[indicator]]).toEqual([0, 1]);
  });

  it('clips extreme standardised values so one wild number cannot saturate the network', () => {
    const spec = fitPreprocessing(tiny(trainRows));
    expect(transformMatrix(spec, tiny([[1, 1e9, 'basic']]))[1]).toBe(10);
  });

  it('refuses a matrix without a trained column, naming it', () => {
    const spec = fitPreprocessing(tiny(trainRows));
    const without: FeatureMatrix = { ...tiny([[1, 1, 'pro']]), categoricalColumns: [], categorical: new Int32Array(0) };
    expect(() => transformMatrix(spec, without)).toThrow(IncompatibleFeaturesError);
    expect(() => transformMatrix(spec, without)).toThrow(/plan \(categorical\)/);
  });
});

describe('piecewise-linear encoding of numbers (numericSegments)', () => {
  it('places edges at distinct quantiles and drops repeated ones', () => {
    expect(quantileEdges([0, 1, 2, 3, 4, 5, 6, 7, 8], 4)).toEqual([0, 2, 4, 6, 8]);
    expect(quantileEdges([0, 0, 0, 0, 0, 0, 1, 2, 3], 4)).toEqual([0, 1, 3]);
  });

  it('gives a two-valued or constant column no segments: one standardised input says it all', () => {
    expect(quantileEdges([0, 0, 1, 1], 8)).toEqual([]);
    expect(quantileEdges([5, 5, 5], 8)).toEqual([]);
    expect(quantileEdges([1, 2, 3], 1)).toEqual([]);
  });

  it('adds one input per segment: 0 below it, 1 above it, the position inside it, and none of it filled when missing', () => {
    const spec = fitPreprocessing(tiny(trainRows), { numericSegments: 4 });
    const visits = spec.numeric.find((s) => s.name === 'visits');
    const edges = visits?.segmentEdges ?? [];
    expect(edges.length).toBeGreaterThanOrEqual(3);
    const slots = spec.inputs.flatMap((input, j) => (input.source === 'visits' && input.kind === 'segment' ? [j] : []));
    expect(slots).toHaveLength(edges.length - 1);
    const width = spec.inputs.length;
    const [low, high] = [edges[0] as number, edges[1] as number];
    // A row whose standardised visits lies in the middle of the first segment.
    const middle = visits ? ((low + high) / 2) * visits.std + visits.mean : 0;
    const dense = transformMatrix(
      spec,
      tiny([
        [1, middle, 'basic'],
        [1, 1e6, 'basic'],
        [1, Number.NaN, 'basic'],
      ]),
    );
    expect(dense[slots[0] as number]).toBeCloseTo(0.5, 5);
    expect(slots.slice(1).map((j) => dense[j])).toEqual(slots.slice(1).map(() => 0));
    expect(slots.map((j) => dense[width + j])).toEqual(slots.map(() => 1));
    expect(slots.map((j) => dense[2 * width + j])).toEqual(slots.map(() => 0));
  });

  it('cuts segments so each segment input has minChurnersPerSegment churners behind it, and never leaves just one', () => {
    const options = { numericSegments: 8, minChurnersPerSegment: 30 };
    expect(segmentsPerColumn(options, 1190, 4)).toBe(8); // Telco-sized: 9 affordable, 8 wanted
    expect(segmentsPerColumn(options, 201, 3)).toBe(2);
    expect(segmentsPerColumn(options, 309, 15)).toBe(0); // Orange-sized: 0 affordable
    expect(segmentsPerColumn(options, 59, 1)).toBe(0); // 1 affordable: a single segment is the value again
    expect(segmentsPerColumn({ numericSegments: 8 }, 5, 40)).toBe(8); // no cap asked for
    const capped = fitPreprocessing(tiny(trainRows), { numericSegments: 8, minChurnersPerSegment: 1 });
    expect(capped.inputs.some((i) => i.kind === 'segment')).toBe(false); // the tiny set has no churners
  });

  it('supervised: puts an edge where churn jumps (4 or more service calls) and none in pure noise', () => {
    const random = seededRandom(5);
    const calls = Array.from({ length: 2000 }, () => Math.floor(random() * 8));
    const churned = calls.map((c) => (random() < (c >= 4 ? 0.5 : 0.1) ? 1 : 0));
    const edges = supervisedEdges(calls, churned, 8);
    expect(edges[0]).toBe(0);
    expect(edges.at(-1)).toBe(7);
    expect(edges).toContain(3.5);
    const noise = calls.map(() => random());
    expect(supervisedEdges(noise, churned, 8)).toEqual([]);
  });

  it('supervised: a two-valued column gets no segments (its value says it all), nor does any column when maxSegments < 2', () => {
    const flags = Array.from({ length: 400 }, (_, i) => i % 2);
    expect(supervisedEdges(flags, flags, 8)).toEqual([]);
    const calls = Array.from({ length: 400 }, (_, i) => i % 8);
    expect(
      supervisedEdges(
        calls,
        calls.map((c) => (c >= 4 ? 1 : 0)),
        1,
      ),
    ).toEqual([]);
  });

  it('supervised segments share the churners-per-input budget: the strongest column first, none when churners are few', () => {
    const random = seededRandom(9);
    const rows = 2000;
    const strong = Array.from({ length: rows }, () => Math.floor(random() * 8));
    const weak = Array.from({ length: rows }, () => Math.floor(random() * 8));
    const labels = strong.map((s, r) => (random() < (s >= 4 ? 0.5 : 0.1) + ((weak[r] as number) >= 4 ? 0.2 : 0) ? 1 : 0));
    const matrix = numbersOnly({ weak, strong }, labels);
    const churners = labels.reduce<number>((n, y) => n + y, 0);
    const segmentsOf = (spec: Preprocessing) => spec.numeric.map((n) => Math.max(0, n.segmentEdges.length - 1));
    const unlimited = fitPreprocessing(matrix, { numericSegments: 2, segmentation: 'supervised' });
    expect(segmentsOf(unlimited)).toEqual([2, 2]);
    // A budget of two segment inputs: only the strong column gets its segments.
    expect(
      segmentsOf(
        fitPreprocessing(matrix, { numericSegments: 2, segmentation: 'supervised', minChurnersPerSegment: Math.floor(churners / 3) }),
      ),
    ).toEqual([0, 2]);
    expect(
      segmentsOf(fitPreprocessing(matrix, { numericSegments: 2, segmentation: 'supervised', minChurnersPerSegment: churners })),
    ).toEqual([0, 0]);
  });

  it('is off unless asked for, and a spec saved before segments existed parses as having none', () => {
    const spec = fitPreprocessing(tiny(trainRows));
    expect(spec.inputs.some((i) => i.kind === 'segment')).toBe(false);
    const older = { ...spec, numeric: spec.numeric.map(({ segmentEdges: _, ...rest }) => rest) };
    const parsed = Preprocessing.parse(older);
    expect(parsed.numeric.map((s) => s.segmentEdges)).toEqual(spec.numeric.map(() => []));
    expect(transformMatrix(parsed, tiny(trainRows))).toEqual(transformMatrix(spec, tiny(trainRows)));
  });

  describe('threshold steps', () => {
    /** 2,000 customers whose churn jumps at the fourth support call; `noise` says nothing. */
    function supportCalls(): FeatureMatrix {
      const random = seededRandom(11);
      const rows = 2000;
      const calls = Array.from({ length: rows }, () => Math.floor(random() * 8));
      const noise = Array.from({ length: rows }, () => random() * 100);
      calls[5] = Number.NaN;
      return numbersOnly(
        { noise, calls },
        calls.map((c) => (random() < (c >= 4 ? 0.5 : 0.08) ? 1 : 0)),
      );
    }

    it('puts a step where churn jumps and none on noise; the step input is 1 exactly above it and 0 when the value is missing', () => {
      const matrix = supportCalls();
      const spec = fitPreprocessing(matrix, { numericSegments: 8, thresholdSteps: true });
      const [noise, calls] = spec.numeric;
      expect(noise?.steps).toEqual([]);
      const raw = (calls?.steps ?? []).map((t) => t * (calls?.std ?? 1) + (calls?.mean ?? 0));
      const atFour = raw.findIndex((t) => Math.abs(t - 3.5) < 1e-6);
      expect(atFour).toBeGreaterThanOrEqual(0);
      const slot = spec.inputs.findIndex((i) => i.source === 'calls' && i.kind === 'step' && i.step === atFour);
      expect(slot).toBeGreaterThanOrEqual(0);
      const dense = transformMatrix(spec, matrix);
      const width = spec.inputs.length;
      for (let r = 0; r < 200; r++) {
        const value = matrix.numeric[r * 2 + 1] as number;
        expect(dense[r * width + slot]).toBe(Number.isFinite(value) && value >= 4 ? 1 : 0);
      }
    });

    it('halve by customer: a customer seen at several cutoffs cannot confirm its own threshold', () => {
      // Each customer appears twice (two cutoffs, same value and label); churn jumps above 0.5 for
      // the even customers only, a fluke of half the base that the other half does not repeat.
      const random = seededRandom(5);
      const values: number[] = [];
      const labels: number[] = [];
      const ids: string[] = [];
      for (let c = 0; c < 400; c++) {
        const v = random();
        const churned = random() < (c % 2 === 0 ? (v > 0.5 ? 0.6 : 0.05) : 0.15) ? 1 : 0;
        for (let copy = 0; copy < 2; copy++) {
          values.push(v);
          labels.push(churned);
          ids.push(`c${c}`);
        }
      }
      // Halved row by row, each row's twin confirms the threshold it chose.
      expect(supervisedEdges(values, labels, 8).length).toBeGreaterThan(0);
      const matrix = numbersOnly({ fluke: values }, labels, ids);
      expect(fitPreprocessing(matrix, { numericSegments: 8, thresholdSteps: true }).numeric[0]?.steps).toEqual([]);
    });

    it('spend the churners-per-input budget: none when churners are few, and none unless asked for', () => {
      const matrix = supportCalls();
      const churners = matrix.labels.reduce<number>((n, y) => n + y, 0);
      const stepsOf = (spec: Preprocessing) => spec.inputs.filter((i) => i.kind === 'step').length;
      expect(stepsOf(fitPreprocessing(matrix, { numericSegments: 8, thresholdSteps: true, minChurnersPerSegment: churners + 1 }))).toBe(0);
      expect(stepsOf(fitPreprocessing(matrix, { numericSegments: 8 }))).toBe(0);
      const older = fitPreprocessing(matrix, { numericSegments: 8 });
      const parsed = Preprocessing.parse({ ...older, numeric: older.numeric.map(({ steps: _, ...rest }) => rest) });
      expect(parsed.numeric.map((s) => s.steps)).toEqual([[], []]);
    });
  });

  it('sums the segments of a number into that number when explaining (one source per input)', () => {
    const spec = fitPreprocessing(tiny(trainRows), { numericSegments: 4 });
    const sources = new Set(spec.inputs.filter((i) => i.kind === 'segment').map((i) => i.source));
    expect([...sources].sort()).toEqual(
      spec.numeric
        .filter((s) => s.segmentEdges.length > 0)
        .map((s) => s.name)
        .sort(),
    );
  });
});
