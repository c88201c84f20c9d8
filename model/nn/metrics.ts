import type { z } from 'zod';
import type { CalibrationBin, GainsPoint, ModelMetrics } from './metricSchemas.ts';

export type GainsPointValue = z.output<typeof GainsPoint>;
export type CalibrationBinValue = z.output<typeof CalibrationBin>;

/** What a retention action costs and what a lost customer costs, in the same currency unit. */
export interface OutreachCosts {
  /** Value lost when a churner is missed (default 500). */
  costLostCustomer: number;
  /** Cost of one intervention (offer, call), spent on everyone flagged (default 50). */
  costIntervention: number;
}

const EPSILON = 1e-15;

function checkSameLength(labels: ArrayLike<number>, scores: ArrayLike<number>): void {
  if (labels.length !== scores.length) {
    throw new Error(`labels (${labels.length}) and scores (${scores.length}) must have the same length`);
  }
}

/** Row indices ordered by score, highest first; ties keep row order (stable). */
function orderByScoreDescending(scores: ArrayLike<number>): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  return order.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
}

function countPositives(labels: ArrayLike<number>): number {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  return positives;
}

/**
 * Area under the ROC curve: the probability that a random churner scores above a random
 * stayer (Mann–Whitney U, ties count one half). NaN when a class is absent.
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkSameLength(labels, scores);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let rankSumPositives = 0;
  let positives = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1] as number] === scores[order[start] as number]) end++;
    const averageRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (labels[order[k] as number] === 1) {
        rankSumPositives += averageRank;
        positives++;
      }
    }
    start = end + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Area under the precision–recall curve as average precision: the mean, over churners, of the
 * precision among rows scored at least as high (tied scores enter together). NaN without churners.
 */
export function prAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkSameLength(labels, scores);
  const order = orderByScoreDescending(scores);
  const positives = countPositives(labels);
  if (positives === 0) return Number.NaN;
  let truePositives = 0;
  let seen = 0;
  let area = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1] as number] === scores[order[start] as number]) end++;
    let newPositives = 0;
    for (let k = start; k <= end; k++) if (labels[order[k] as number] === 1) newPositives++;
    truePositives += newPositives;
    seen += end - start + 1;
    area += (newPositives / positives) * (truePositives / seen);
    start = end + 1;
  }
  return area;
}

/** Mean negative log-likelihood of the labels under the predicted probabilities (clipped at 1e-15). */
export function logLoss(labels: ArrayLike<number>, probabilities: ArrayLike<number>): number {
  checkSameLength(labels, probabilities);
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - EPSILON, Math.max(EPSILON, probabilities[i] as number));
    sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / labels.length;
}

/** Mean squared difference between probability and outcome. */
export function brierScore(labels: ArrayLike<number>, probabilities: ArrayLike<number>): number {
  checkSameLength(labels, probabilities);
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum += ((probabilities[i] as number) - (labels[i] === 1 ? 1 : 0)) ** 2;
  return sum / labels.length;
}

/** Reliability diagram: `bins` equal-width bins over [0, 1]; empty bins are left out. */
export function calibrationBins(labels: ArrayLike<number>, probabilities: ArrayLike<number>, bins = 10): CalibrationBinValue[] {
  checkSameLength(labels, probabilities);
  const predicted = new Float64Array(bins);
  const observed = new Float64Array(bins);
  const count = new Int32Array(bins);
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i] as number;
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    predicted[bin] = (predicted[bin] as number) + p;
    observed[bin] = (observed[bin] as number) + (labels[i] === 1 ? 1 : 0);
    count[bin] = (count[bin] as number) + 1;
  }
  const result: CalibrationBinValue[] = [];
  for (let b = 0; b < bins; b++) {
    const n = count[b] as number;
    if (n > 0) result.push({ predicted: (predicted[b] as number) / n, observed: (observed[b] as number) / n, count: n });
  }
  return result;
}

/** Expected calibration error: the count-weighted mean gap between predicted and observed rate (10 bins). */
export function expectedCalibrationError(labels: ArrayLike<number>, probabilities: ArrayLike<number>): number {
  const total = labels.length;
  if (total === 0) return Number.NaN;
  return calibrationBins(labels, probabilities).reduce((sum, bin) => sum + (bin.count / total) * Math.abs(bin.predicted - bin.observed), 0);
}

/** Cumulative gains: after contacting the top `populationShare` by risk, the share of churners found. */
export function gainsCurve(labels: ArrayLike<number>, scores: ArrayLike<number>, points = 20): GainsPointValue[] {
  checkSameLength(labels, scores);
  const order = orderByScoreDescending(scores);
  const positives = countPositives(labels);
  const found = new Int32Array(order.length + 1);
  for (const [k, row] of order.entries()) found[k + 1] = (found[k] as number) + (labels[row] === 1 ? 1 : 0);
  const curve: GainsPointValue[] = [];
  for (let p = 0; p <= points; p++) {
    const share = p / points;
    const rows = Math.round(share * order.length);
    curve.push({ populationShare: share, churnersFound: positives === 0 ? 0 : (found[rows] as number) / positives });
  }
  return curve;
}

/** Lift and recall in the top 10% of rows by score. */
export function topDecile(labels: ArrayLike<number>, scores: ArrayLike<number>): { lift: number; recall: number } {
  const order = orderByScoreDescending(scores);
  const positives = countPositives(labels);
  const top = Math.max(1, Math.ceil(order.length * 0.1));
  let found = 0;
  for (let k = 0; k < top && k < order.length; k++) if (labels[order[k] as number] === 1) found++;
  if (positives === 0) return { lift: Number.NaN, recall: Number.NaN };
  return { lift: found / top / (positives / order.length), recall: found / positives };
}

/**
 * The risk threshold that minimises expected outreach cost on labelled data (as in the SageMaker
 * churn example): everyone at or above it gets an intervention (`costIntervention` each, and
 * the churners among them are kept); every churner below it is lost (`costLostCustomer`).
 * Ties in cost go to the higher threshold (fewer contacts). Returns 1 when contacting nobody is cheapest.
 */
export function costOptimalThreshold(labels: ArrayLike<number>, probabilities: ArrayLike<number>, costs: OutreachCosts): number {
  checkSameLength(labels, probabilities);
  const order = orderByScoreDescending(probabilities);
  const positives = countPositives(labels);
  let bestCost = positives * costs.costLostCustomer; // contact nobody
  let bestThreshold = 1;
  let flagged = 0;
  let caught = 0;
  for (let k = 0; k < order.length; ) {
    const score = probabilities[order[k] as number] as number;
    while (k < order.length && probabilities[order[k] as number] === score) {
      if (labels[order[k] as number] === 1) caught++;
      flagged++;
      k++;
    }
    const cost = flagged * costs.costIntervention + (positives - caught) * costs.costLostCustomer;
    if (cost < bestCost) {
      bestCost = cost;
      bestThreshold = score;
    }
  }
  return bestThreshold;
}

/** Precision and recall when everyone with probability ≥ `threshold` is flagged. */
export function precisionRecallAt(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  threshold: number,
): { precision: number; recall: number } {
  let flagged = 0;
  let caught = 0;
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const positive = labels[i] === 1;
    if (positive) positives++;
    if ((probabilities[i] as number) >= threshold) {
      flagged++;
      if (positive) caught++;
    }
  }
  return { precision: flagged === 0 ? 0 : caught / flagged, recall: positives === 0 ? 0 : caught / positives };
}

/** Every metric of the model report, on labelled rows (label 0/1) with calibrated probabilities. */
export function evaluate(labels: ArrayLike<number>, probabilities: ArrayLike<number>, threshold: number): ModelMetrics {
  const { lift, recall } = topDecile(labels, probabilities);
  const at = precisionRecallAt(labels, probabilities, threshold);
  return {
    rocAuc: rocAuc(labels, probabilities),
    prAuc: prAuc(labels, probabilities),
    logLoss: logLoss(labels, probabilities),
    brier: brierScore(labels, probabilities),
    ece: expectedCalibrationError(labels, probabilities),
    topDecileLift: lift,
    topDecileRecall: recall,
    threshold,
    precisionAtThreshold: at.precision,
    recallAtThreshold: at.recall,
    rows: labels.length,
    positives: countPositives(labels),
  };
}
