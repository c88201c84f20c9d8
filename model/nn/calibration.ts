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

/**
 * Fits Platt scaling on held-out logits by Newton's method on the log-likelihood, with Platt's
 * smoothed targets ((N₊+1)/(N₊+2) and 1/(N₋+2)) so that a perfectly separated set still gives
 * finite parameters. Class weighting in training shifts the logits; this undoes the shift.
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
  let slope = 1;
  let intercept = Math.log((positives + 1) / (negatives + 1));
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
      const t = labels[i] === 1 ? hi : lo;
      const w = p * (1 - p);
      gA += (p - t) * x;
      gB += p - t;
      hAA += w * x * x;
      hAB += w * x;
      hBB += w;
    }
    const det = hAA * hBB - hAB * hAB;
    if (!(Math.abs(det) > 1e-12)) break;
    const dA = (hBB * gA - hAB * gB) / det;
    const dB = (hAA * gB - hAB * gA) / det;
    slope -= dA;
    intercept -= dB;
    if (Math.abs(dA) < 1e-10 && Math.abs(dB) < 1e-10) break;
  }
  if (!Number.isFinite(slope) || !Number.isFinite(intercept)) {
    throw new Error('cannot calibrate: Platt scaling diverged on the validation logits');
  }
  return { method: 'platt', slope, intercept };
}
