import { z } from 'zod';

/** Platt scaling: calibrated risk = sigmoid(slope × logit + intercept). */
export const PlattCalibration = z.object({
  method: z.literal('platt'),
  slope: z.number(),
  intercept: z.number(),
});
export type PlattCalibration = z.output<typeof PlattCalibration>;

export const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Applies a fitted calibration to raw logits. */
export function applyCalibration(calibration: PlattCalibration, logits: ArrayLike<number>): Float64Array {
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = sigmoid(calibration.slope * (logits[i] as number) + calibration.intercept);
  return out;
}

/** log(1 + eˣ) without overflow: the log-likelihood term of a logit far from 0. */
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/**
 * Fits Platt scaling on held-out logits by Newton's method on the log-likelihood, with Platt's
 * smoothed targets ((N₊+1)/(N₊+2) and 1/(N₋+2)) so that a perfectly separated set still gives
 * finite parameters. Class weighting in training shifts the logits; this undoes the shift.
 * As in Lin, Lin and Weng (2007, "A note on Platt's probabilistic outputs for support vector
 * machines"), it starts from a flat fit (slope 0, the smoothed base rate) and halves a Newton
 * step that would lower the likelihood: a full step from saturated logits can overshoot.
 */
export function fitPlatt(labels: ArrayLike<number>, logits: ArrayLike<number>): PlattCalibration {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new Error(`cannot calibrate: validation needs churners and stayers, got ${positives} churners and ${negatives} stayers`);
  }
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (negatives + 2);
  const target = (i: number) => (labels[i] === 1 ? hi : lo);
  // Negative log-likelihood of the smoothed targets: Σ log(1 + eᶠ) − t·f with f = slope × x + intercept.
  const loss = (a: number, b: number): number => {
    let sum = 0;
    for (let i = 0; i < labels.length; i++) {
      const f = a * (logits[i] as number) + b;
      sum += softplus(f) - target(i) * f;
    }
    return sum;
  };
  let slope = 0;
  // Stryker disable next-line ArithmeticOperator: only the start; the damped Newton steps reach the same unique optimum of the convex loss from any finite start
  let intercept = Math.log((positives + 1) / (negatives + 1));
  let current = loss(slope, intercept);
  for (let iteration = 0; iteration < 100; iteration++) {
    // Gradient and Hessian of the negative log-likelihood in (slope, intercept).
    let gA = 0,
      gB = 0,
      hAA = 1e-9,
      hAB = 0,
      hBB = 1e-9;
    for (let i = 0; i < labels.length; i++) {
      const x = logits[i] as number;
      const p = sigmoid(slope * x + intercept);
      const t = target(i);
      const w = p * (1 - p);
      gA += (p - t) * x;
      gB += p - t;
      hAA += w * x * x;
      hAB += w * x;
      hBB += w;
    }
    // Positive for finite logits (the ridge); NaN for a NaN logit, which the divergence guard reports.
    const det = hAA * hBB - hAB * hAB;
    const dA = (hBB * gA - hAB * gB) / det;
    const dB = (hAA * gB - hAB * gA) / det;
    // Halve a step that would raise the loss (beyond rounding): a full step from saturated logits overshoots.
    let step = 1;
    let next = loss(slope - dA, intercept - dB);
    while (!(next <= current + 1e-12 * Math.abs(current)) && step > 1e-10) {
      step /= 2;
      next = loss(slope - step * dA, intercept - step * dB);
    }
    slope -= step * dA;
    intercept -= step * dB;
    current = next;
    // Stryker disable next-line LogicalOperator: once one parameter is NaN the next step makes both NaN, so && throws the same error one iteration later
    if (!Number.isFinite(slope) || !Number.isFinite(intercept)) {
      throw new Error('cannot calibrate: Platt scaling diverged on the validation logits');
    }
    if (Math.abs(step * dA) < 1e-10 && Math.abs(step * dB) < 1e-10) break;
  }
  return { method: 'platt', slope, intercept };
}
