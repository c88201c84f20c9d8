import { describe, expect, it } from 'vitest';
import { applyCalibration, fitPlatt, PlattCalibration, sigmoid } from '../../model/nn/calibration.ts';
import { seededRandom } from '../../model/nn/random.ts';

/** The logistic function written out once more, for moderate arguments only. */
const logistic = (x: number) => 1 / (1 + Math.exp(-x));

/** `positives` churners at logit `high` and `negatives` stayers at logit `low`. */
function twoPoints(positives: number, negatives: number, high: number, low: number) {
  return {
    labels: [...Array<number>(positives).fill(1), ...Array<number>(negatives).fill(0)],
    logits: [...Array<number>(positives).fill(high), ...Array<number>(negatives).fill(low)],
  };
}

/**
 * Platt's fit on two distinct logits is exact, in closed form: the calibrated risk at each logit
 * equals its smoothed target, (N₊+1)/(N₊+2) at the churners' and 1/(N₋+2) at the stayers', so
 * slope·high + intercept = ln(N₊+1) and slope·low + intercept = −ln(N₋+1).
 */
function closedForm(positives: number, negatives: number, high: number, low: number) {
  const up = Math.log(positives + 1);
  const down = -Math.log(negatives + 1);
  const slope = (up - down) / (high - low);
  return { slope, intercept: up - slope * high };
}

/**
 * The gradient of the negative log-likelihood of the smoothed targets at (slope, intercept),
 * computed here with its own targets. It is zero only at the (unique) optimum: the loss is convex.
 */
function gradientAt(labels: number[], logits: number[], slope: number, intercept: number): [number, number] {
  const positives = labels.filter((y) => y === 1).length;
  const negatives = labels.length - positives;
  let gSlope = 0;
  let gIntercept = 0;
  labels.forEach((y, i) => {
    const x = logits[i] as number;
    const target = y === 1 ? (positives + 1) / (positives + 2) : 1 / (negatives + 2);
    const residual = sigmoid(slope * x + intercept) - target;
    gSlope += residual * x;
    gIntercept += residual;
  });
  return [gSlope, gIntercept];
}

/** Counts how often `values` is read: a fit that stops when it has converged reads it a few times per row. */
function counted(values: number[]): { logits: ArrayLike<number>; reads: () => number } {
  let reads = 0;
  const logits = new Proxy(values, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  return { logits, reads: () => reads };
}

describe('sigmoid', () => {
  it('is the logistic function on both sides of 0', () => {
    expect(sigmoid(0)).toBe(0.5);
    for (const x of [0.5, 2, 7.25]) {
      expect(sigmoid(x)).toBeCloseTo(logistic(x), 15);
      expect(sigmoid(-x)).toBeCloseTo(logistic(-x), 15);
      expect(sigmoid(-x)).toBeCloseTo(1 - sigmoid(x), 15);
    }
    expect(sigmoid(2)).toBeCloseTo(0.8807970779778823, 15);
    expect(sigmoid(-2)).toBeCloseTo(0.11920292202211755, 15);
  });

  it('stays finite at extreme logits: 1 and 0 at ±1e3, never NaN', () => {
    expect(sigmoid(1e3)).toBe(1);
    expect(sigmoid(-1e3)).toBe(0);
    expect(sigmoid(800)).toBe(1);
    expect(sigmoid(Number.MAX_VALUE)).toBe(1);
    expect(sigmoid(-Number.MAX_VALUE)).toBe(0);
  });

  it('keeps the relative precision of tiny risks far below 0 (e^x where 1 + e^−x overflows)', () => {
    // e^720 overflows, so 1 / (1 + e^720) would round to 0; the risk is e^−720 ≈ 1.9e−313.
    expect(sigmoid(-720)).toBeGreaterThan(0);
    expect(sigmoid(-720) / Math.exp(-720)).toBeCloseTo(1, 12);
    expect(sigmoid(-40) / Math.exp(-40)).toBeCloseTo(1, 12);
  });
});

describe('PlattCalibration', () => {
  it('parses a saved calibration and rejects another method or a missing parameter', () => {
    expect(PlattCalibration.parse({ method: 'platt', slope: 0.5, intercept: -1 })).toEqual({ method: 'platt', slope: 0.5, intercept: -1 });
    expect(PlattCalibration.safeParse({ method: 'isotonic', slope: 0.5, intercept: -1 }).success).toBe(false);
    expect(PlattCalibration.safeParse({ method: 'platt', slope: 0.5 }).success).toBe(false);
    expect(PlattCalibration.safeParse({ method: 'platt', intercept: -1 }).success).toBe(false);
  });
});

describe('applyCalibration', () => {
  it('maps each logit x to sigmoid(slope × x + intercept), one risk per logit', () => {
    const calibration: PlattCalibration = { method: 'platt', slope: 2, intercept: -1 };
    const risks = applyCalibration(calibration, Float32Array.from([0, 1, -1.5, 0.25]));
    expect(risks).toBeInstanceOf(Float64Array);
    expect(risks).toHaveLength(4);
    const expected = [1 / (1 + Math.E), Math.E / (1 + Math.E), 1 / (1 + Math.exp(4)), 1 / (1 + Math.exp(0.5))];
    for (const [i, risk] of expected.entries()) expect(risks[i]).toBeCloseTo(risk, 15);
  });

  it('gives risks in [0, 1] for extreme logits (±1e3), never NaN', () => {
    const risks = applyCalibration({ method: 'platt', slope: 1.5, intercept: 0.3 }, [1e3, -1e3, 1e300, -1e300]);
    expect(Array.from(risks)).toEqual([1, 0, 1, 0]);
  });

  it('returns no risks for no logits', () => {
    expect(applyCalibration({ method: 'platt', slope: 1, intercept: 0 }, [])).toEqual(new Float64Array(0));
  });
});

describe('fitPlatt', () => {
  it('needs both classes, and says what it got', () => {
    expect(() => fitPlatt([1, 1], [0.2, 0.4])).toThrow(
      'cannot calibrate: validation needs churners and stayers, got 2 churners and 0 stayers',
    );
    expect(() => fitPlatt([0, 0, 0], [0.2, 0.4, 0.1])).toThrow(
      'cannot calibrate: validation needs churners and stayers, got 0 churners and 3 stayers',
    );
    expect(() => fitPlatt([], [])).toThrow('got 0 churners and 0 stayers');
  });

  it('on a perfectly separated set, stays finite and puts each class at its smoothed target (closed form)', () => {
    // 3 churners at logit 1 and 5 stayers at −1: risks 4/5 and 1/7, not 1 and 0.
    const { labels, logits } = twoPoints(3, 5, 1, -1);
    const fitted = fitPlatt(labels, logits);
    const expected = closedForm(3, 5, 1, -1);
    expect(fitted.method).toBe('platt');
    expect(fitted.slope).toBeCloseTo(expected.slope, 9);
    expect(fitted.intercept).toBeCloseTo(expected.intercept, 9);
    expect(fitted.slope).toBeCloseTo((Math.log(4) + Math.log(6)) / 2, 9);
    expect(fitted.intercept).toBeCloseTo((Math.log(4) - Math.log(6)) / 2, 9);
    const [churner, stayer] = applyCalibration(fitted, [1, -1]);
    expect(churner).toBeCloseTo(4 / 5, 9);
    expect(stayer).toBeCloseTo(1 / 7, 9);
  });

  it('on a perfectly separated set with uneven classes and off-centre logits, matches the closed form', () => {
    const { labels, logits } = twoPoints(7, 2, 3, 1);
    const fitted = fitPlatt(labels, logits);
    const expected = closedForm(7, 2, 3, 1);
    expect(fitted.slope).toBeCloseTo(expected.slope, 9);
    expect(fitted.intercept).toBeCloseTo(expected.intercept, 9);
    const [churner, stayer] = applyCalibration(fitted, [3, 1]);
    expect(churner).toBeCloseTo(8 / 9, 9);
    expect(stayer).toBeCloseTo(1 / 4, 9);
  });

  it('on perfectly separated, saturated logits (±5, ±20, ±1e3), still finds the finite optimum: no overconfident 1 and 0', () => {
    for (const scale of [5, 20, 1e3]) {
      const { labels, logits } = twoPoints(3, 5, scale, -scale);
      const fitted = fitPlatt(labels, logits);
      const expected = closedForm(3, 5, scale, -scale);
      expect(fitted.slope, `slope at ±${scale}`).toBeCloseTo(expected.slope, 9);
      expect(fitted.intercept, `intercept at ±${scale}`).toBeCloseTo(expected.intercept, 9);
      const [churner, stayer] = applyCalibration(fitted, [scale, -scale]);
      expect(churner, `churner at ±${scale}`).toBeCloseTo(4 / 5, 9);
      expect(stayer, `stayer at ±${scale}`).toBeCloseTo(1 / 7, 9);
    }
  });

  it('halves the Newton steps that would overshoot: one churner far above 19 stayers (a full step diverges) still meets the closed form', () => {
    for (const high of [10, 1e3]) {
      const { labels, logits } = twoPoints(1, 19, high, 0);
      const fitted = fitPlatt(labels, logits);
      const expected = closedForm(1, 19, high, 0);
      expect(fitted.slope, `slope at ${high}`).toBeCloseTo(expected.slope, 9);
      expect(fitted.intercept, `intercept at ${high}`).toBeCloseTo(-Math.log(20), 9);
      const [churner, stayer] = applyCalibration(fitted, [high, 0]);
      expect(churner, `churner at ${high}`).toBeCloseTo(2 / 3, 9);
      expect(stayer, `stayer at ${high}`).toBeCloseTo(1 / 21, 9);
    }
  });

  it('on separated logits spread around ±1e3, zeroes the gradient of the smoothed likelihood (the unique optimum)', () => {
    const labels = [1, 1, 1, 0, 0, 0, 0];
    const logits = [900, 1000, 1100, -1200, -1000, -950, -800];
    const fitted = fitPlatt(labels, logits);
    expect(Number.isFinite(fitted.slope) && Number.isFinite(fitted.intercept)).toBe(true);
    const [gSlope, gIntercept] = gradientAt(labels, logits, fitted.slope, fitted.intercept);
    expect(Math.abs(gSlope)).toBeLessThan(1e-6); // × logits of 1e3: 1e-9 per unit
    expect(Math.abs(gIntercept)).toBeLessThan(1e-9);
    const risks = applyCalibration(fitted, logits);
    expect(Array.from(risks).every((p) => p > 0 && p < 1)).toBe(true);
    expect(Array.from(risks.slice(0, 3)).every((p) => p > 0.5)).toBe(true);
    expect(Array.from(risks.slice(3)).every((p) => p < 0.5)).toBe(true);
  });

  it('on overlapping classes, zeroes the gradient of the smoothed likelihood', () => {
    const labels = [1, 0, 1, 1, 0, 0, 1, 0, 0, 0];
    const logits = [2.5, 1.8, 1.2, 0.3, 0.1, -0.4, -0.6, -1.1, -2, -3.2];
    const fitted = fitPlatt(labels, logits);
    const [gSlope, gIntercept] = gradientAt(labels, logits, fitted.slope, fitted.intercept);
    expect(Math.abs(gSlope)).toBeLessThan(1e-9);
    expect(Math.abs(gIntercept)).toBeLessThan(1e-9);
    expect(fitted.slope).toBeGreaterThan(0);
  });

  it('recovers the slope and intercept of well-specified logits', () => {
    const random = seededRandom(3);
    const logits = Array.from({ length: 20_000 }, () => random() * 8 - 4);
    const labels = logits.map((x) => (random() < logistic(0.5 * x - 1) ? 1 : 0));
    const fitted = fitPlatt(labels, logits);
    expect(fitted.slope).toBeCloseTo(0.5, 1);
    expect(fitted.intercept).toBeCloseTo(-1, 1);
    expect(applyCalibration(fitted, [0])[0]).toBeCloseTo(1 / (1 + Math.exp(1)), 1);
    const [gSlope, gIntercept] = gradientAt(labels, logits, fitted.slope, fitted.intercept);
    expect(Math.abs(gSlope)).toBeLessThan(1e-7);
    expect(Math.abs(gIntercept)).toBeLessThan(1e-7);
  });

  it('undoes the shift of class weighting: logits 2 too high come back with intercept −2', () => {
    const random = seededRandom(8);
    const logits = Array.from({ length: 20_000 }, () => random() * 6 - 3);
    const labels = logits.map((x) => (random() < logistic(x) ? 1 : 0));
    const fitted = fitPlatt(
      labels,
      logits.map((x) => x + 2),
    );
    expect(fitted.slope).toBeCloseTo(1, 1);
    expect(fitted.intercept).toBeCloseTo(-2, 1);
  });

  it('throws, saying so, when the fit diverges: logits so large their squares overflow, or a NaN logit', () => {
    const diverged = 'cannot calibrate: Platt scaling diverged on the validation logits';
    expect(() => fitPlatt([1, 1, 0, 0], [1e200, -1e200, -1e200, 1e200])).toThrow(diverged);
    expect(() => fitPlatt([1, 0, 0], [Number.NaN, 1, 2])).toThrow(diverged);
  });

  it('stops once a Newton step no longer moves the parameters, well before its 100-iteration cap', () => {
    const { labels, logits: values } = twoPoints(3, 5, 20, -20);
    const { logits, reads } = counted(values);
    const fitted = fitPlatt(labels, logits);
    expect(fitted.slope).toBeCloseTo(closedForm(3, 5, 20, -20).slope, 9);
    // Each iteration reads every logit at least twice (its gradient, then the loss of its step), so
    // running to the cap would take 100 × 2 reads per logit; converging takes a few iterations.
    expect(reads()).toBeGreaterThan(2 * values.length);
    expect(reads()).toBeLessThan(40 * values.length);
  });

  it('gives up after its 100 iterations with finite parameters when steps cannot settle (logits of 1e-12 under the Hessian ridge)', () => {
    const { labels, logits: values } = twoPoints(3, 5, 1e-12, -1e-12);
    const { logits, reads } = counted(values);
    const fitted = fitPlatt(labels, logits);
    expect(Number.isFinite(fitted.slope) && Number.isFinite(fitted.intercept)).toBe(true);
    expect(reads()).toBeGreaterThan(100 * 2 * values.length);
    expect(reads()).toBeLessThan(110 * 2 * values.length);
  });
});
