import { describe, expect, it } from 'vitest';
import type { FeatureMatrix } from '../../model/features/matrix.ts';
import { applyCalibration, fitPlatt } from '../../model/nn/calibration.ts';
import { IncompatibleFeaturesError, MISSING, OTHER, fitPreprocessing, transformMatrix } from '../../model/nn/preprocessing.ts';
import { seededRandom } from '../../model/nn/random.ts';

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
    numeric: Float64Array.from(rows.flatMap(([s, v]) => [s, v])),
    categorical: Int32Array.from(rows.map(([, , p]) => (p === null ? -1 : categories.indexOf(p)))),
    labels: new Int8Array(rows.length),
    mrrCents: new Float64Array(rows.length),
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
    const reordered = tiny([[1, 1, 'pro'], [1, 1, 'platinum'], [1, 1, null]], ['platinum', 'pro']);
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

describe('fitPlatt', () => {
  it('recovers the slope and intercept of well-specified logits', () => {
    const random = seededRandom(3);
    const logits = Array.from({ length: 20_000 }, () => random() * 8 - 4);
    const labels = logits.map((x) => (random() < 1 / (1 + Math.exp(-(0.5 * x - 1))) ? 1 : 0));
    const fitted = fitPlatt(labels, logits);
    expect(fitted.slope).toBeCloseTo(0.5, 1);
    expect(fitted.intercept).toBeCloseTo(-1, 1);
    expect(applyCalibration(fitted, [0])[0]).toBeCloseTo(1 / (1 + Math.exp(1)), 1);
  });

  it('needs both classes, and says so', () => {
    expect(() => fitPlatt([1, 1], [0.2, 0.4])).toThrow(/2 churners and 0 stayers/);
  });
});
