import { describe, expect, it } from 'vitest';
import {
  brierScore,
  calibrationBins,
  costOptimalThreshold,
  evaluate,
  expectedCalibrationError,
  gainsCurve,
  logLoss,
  prAuc,
  rocAuc,
  topDecile,
} from '../../model/nn/metrics.ts';

describe('rocAuc', () => {
  it('is 1 when every churner scores above every stayer, 0 when below, 0.5 for constant scores', () => {
    const labels = [0, 0, 1, 1];
    expect(rocAuc(labels, [0.1, 0.2, 0.8, 0.9])).toBe(1);
    expect(rocAuc(labels, [0.9, 0.8, 0.2, 0.1])).toBe(0);
    expect(rocAuc(labels, [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
  });

  it('counts the share of churner–stayer pairs ordered correctly, ties as one half', () => {
    // Pairs (p, n): (0.8 > 0.3), (0.8 > 0.5), (0.5 = 0.5 → ½), (0.5 > 0.3) → 3.5 of 4.
    expect(rocAuc([1, 0, 1, 0], [0.8, 0.3, 0.5, 0.5])).toBe(0.875);
  });

  it('is NaN when a class is absent, and rejects arrays of different lengths', () => {
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNaN();
    expect(() => rocAuc([1, 0], [0.2])).toThrow(/same length/);
  });
});

describe('prAuc (average precision)', () => {
  it('averages precision at each churner found, highest scores first', () => {
    // Ranking: 1 (p), 0, 1 (p), 0 → precision 1 at the first churner, 2/3 at the second.
    expect(prAuc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])).toBeCloseTo((1 + 2 / 3) / 2, 12);
  });
});

describe('probability scores', () => {
  it('log loss and Brier score are 0 for certain correct predictions and grow with error', () => {
    expect(logLoss([1, 0], [1, 0])).toBeLessThan(1e-12);
    expect(brierScore([1, 0], [1, 0])).toBe(0);
    expect(brierScore([1, 0], [0.5, 0.5])).toBe(0.25);
    expect(logLoss([1, 0], [0.5, 0.5])).toBeCloseTo(Math.log(2), 12);
  });

  it('calibration bins report mean predicted and observed rates of non-empty bins; ECE weights their gaps', () => {
    const labels = [0, 1, 0, 0, 1, 1];
    const p = [0.05, 0.05, 0.05, 0.05, 0.95, 0.95];
    expect(calibrationBins(labels, p)).toEqual([
      { predicted: 0.05, observed: 0.25, count: 4 },
      { predicted: 0.95, observed: 1, count: 2 },
    ]);
    expect(expectedCalibrationError(labels, p)).toBeCloseTo((4 / 6) * 0.2 + (2 / 6) * 0.05, 12);
  });
});

describe('ranking reports', () => {
  it('gains curve starts at 0, ends at 1 and finds churners first when the ranking is perfect', () => {
    const labels = Array.from({ length: 20 }, (_, i) => (i < 5 ? 1 : 0));
    const scores = labels.map((y, i) => (y === 1 ? 1 - i / 100 : 0.5 - i / 100));
    const curve = gainsCurve(labels, scores, 4);
    expect(curve.map((p) => p.populationShare)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(curve.map((p) => p.churnersFound)).toEqual([0, 1, 1, 1, 1]);
  });

  it('top-decile lift is the churn rate of the top 10% over the overall rate', () => {
    const labels = Array.from({ length: 100 }, (_, i) => (i < 10 || i % 10 === 5 ? 1 : 0)); // 19 churners
    const scores = labels.map((_, i) => 1 - i / 100);
    const { lift, recall } = topDecile(labels, scores);
    expect(lift).toBeCloseTo(1 / 0.19, 12);
    expect(recall).toBeCloseTo(10 / 19, 12);
  });
});

describe('costOptimalThreshold', () => {
  it('flags exactly the rows whose contact costs less than the churners it saves', () => {
    // Contacting the top 2 (both churners) costs 2×50; contacting the third (a stayer) only adds cost.
    const labels = [1, 1, 0, 0, 1];
    const p = [0.9, 0.8, 0.6, 0.3, 0.01];
    // Catching the last churner at 0.01 means contacting all 5 (250) instead of losing one (500): cheaper.
    expect(costOptimalThreshold(labels, p, { costLostCustomer: 500, costIntervention: 50 })).toBe(0.01);
    expect(costOptimalThreshold(labels, p, { costLostCustomer: 120, costIntervention: 50 })).toBe(0.8);
  });

  it('returns 1 (contact nobody) when an intervention costs more than a lost customer', () => {
    expect(costOptimalThreshold([1, 0], [0.9, 0.1], { costLostCustomer: 10, costIntervention: 50 })).toBe(1);
  });

  it('evaluate reports precision and recall at the threshold with the counts', () => {
    const m = evaluate([1, 1, 0, 0, 1], [0.9, 0.8, 0.6, 0.3, 0.01], 0.6);
    expect(m).toMatchObject({ precisionAtThreshold: 2 / 3, recallAtThreshold: 2 / 3, rows: 5, positives: 3, threshold: 0.6 });
  });
});
