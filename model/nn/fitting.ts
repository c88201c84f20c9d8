import type { FeatureMatrix } from '../features/matrix.ts';
import { applyCalibration, fitPlatt, type PlattCalibration } from './calibration.ts';
import { type Architecture, buildNetwork, type DenseInputs, fitNetwork, predictLogits } from './network.ts';
import { type Preprocessing, transformMatrix } from './preprocessing.ts';
import { stratifiedSplit } from './random.ts';
import { classCounts } from './rows.ts';

/** Fitting one network (the MLP or the logistic baseline): early stopping, refit, calibration. */

export function denseOf(preprocessing: Preprocessing, matrix: FeatureMatrix): DenseInputs {
  return { values: transformMatrix(preprocessing, matrix), rows: matrix.customerIds.length, width: preprocessing.inputs.length };
}

/** Labels as floats and class weights that give both classes equal total weight. */
export function targets(labels: Int8Array): { labels: Float32Array; weights: Float32Array } {
  const { positives, negatives } = classCounts(labels);
  const total = positives + negatives;
  const wPositive = total / (2 * Math.max(1, positives));
  const wNegative = total / (2 * Math.max(1, negatives));
  return { labels: Float32Array.from(labels), weights: Float32Array.from(labels, (y) => (y === 1 ? wPositive : wNegative)) };
}

/**
 * Calibrated validation probabilities for honest metrics: validation is split in two stratified
 * halves and each half is calibrated by Platt scaling fitted on the other half, so no row is
 * scored by a calibrator that saw its label. Falls back to in-sample calibration when a half
 * would lack a class.
 */
export function crossFittedProbabilities(labels: Int8Array, logits: Float64Array, seed: number): Float64Array {
  const { keep, holdout } = stratifiedSplit(labels, 0.5, seed);
  const pick = <T extends Int8Array | Float64Array>(a: T, rows: number[]) => rows.map((r) => a[r] as number);
  const halvesOk = [keep, holdout].every((rows) => {
    const c = classCounts(pick(labels, rows));
    return c.positives > 0 && c.negatives > 0;
  });
  if (!halvesOk) return applyCalibration(fitPlatt(labels, logits), logits);
  const out = new Float64Array(labels.length);
  for (const [fitOn, applyTo] of [
    [keep, holdout],
    [holdout, keep],
  ] as const) {
    const calibration = fitPlatt(pick(labels, fitOn), pick(logits, fitOn));
    const probabilities = applyCalibration(calibration, pick(logits, applyTo));
    for (const [i, r] of applyTo.entries()) out[r] = probabilities[i] as number;
  }
  return out;
}

export interface FittedNetwork {
  network: Awaited<ReturnType<typeof buildNetwork>>;
  calibration: PlattCalibration;
  probabilities: Float64Array;
  epochsRun: number;
  bestEpoch: number;
  /** Rows the final weights were fitted on (all training rows after a refit). */
  fittedRows: number;
  /** Milliseconds spent fitting weights (early-stopping run and refit, or the one cycle). */
  fitMs: number;
}

/** What `trainOne` fits on. */
export interface FittingData {
  train: DenseInputs;
  trainTargets: ReturnType<typeof targets>;
  stopping?: { x: DenseInputs } & ReturnType<typeof targets>;
  /** Every training row (fit + stopping slice), for a refit or a one-cycle run. */
  all: () => { x: DenseInputs } & ReturnType<typeof targets>;
  validation: DenseInputs;
  validationLabels: Int8Array;
  /** Training rows per distinct customer (1 for one row per customer). */
  rowsPerCustomer: number;
}

export async function trainOne(
  architecture: Architecture,
  data: FittingData,
  seed: number,
  log: (message: string) => void,
): Promise<FittedNetwork> {
  const fitStarted = performance.now();
  if (architecture.schedule === 'one-cycle') return oneCycle(architecture, data, seed, log, fitStarted);
  let network = buildNetwork(data.train.width, architecture, seed);
  const report = await fitNetwork(network, { x: data.train, ...data.trainTargets }, data.stopping, architecture, seed, log);
  let fittedRows = data.train.rows;
  if (architecture.refit && data.stopping && report.bestEpoch > 0) {
    // The stopping slice chose the epoch count; now learn from every training row for that long.
    network.dispose();
    network = buildNetwork(data.train.width, architecture, seed);
    const all = data.all();
    try {
      await fitNetwork(network, all, undefined, { ...architecture, maxEpochs: report.bestEpoch }, seed, log);
    } catch (error) {
      network.dispose();
      throw error;
    }
    fittedRows = all.x.rows;
  }
  return validated(network, data, report, fittedRows, performance.now() - fitStarted, seed);
}

/** A fitted network with its calibration on validation and its honest (cross-fitted) validation probabilities. */
function validated(
  network: FittedNetwork['network'],
  data: FittingData,
  report: Pick<FittedNetwork, 'epochsRun' | 'bestEpoch'>,
  fittedRows: number,
  fitMs: number,
  seed: number,
): FittedNetwork {
  const logits = predictLogits(network, data.validation);
  return {
    network,
    calibration: fitPlatt(data.validationLabels, logits),
    probabilities: crossFittedProbabilities(data.validationLabels, logits, seed + 7),
    epochsRun: report.epochsRun,
    bestEpoch: report.bestEpoch,
    fittedRows,
    fitMs,
  };
}

/**
 * A one-cycle run (see `Architecture.schedule`) on every training row: `maxEpochs` passes over the
 * customers, within the step budget. No stopping slice and no refit.
 */
async function oneCycle(
  architecture: Architecture,
  data: FittingData,
  seed: number,
  log: (message: string) => void,
  fitStarted: number,
): Promise<FittedNetwork> {
  const network = buildNetwork(data.train.width, architecture, seed);
  const rows = data.all();
  // A customer seen at k cutoffs is k correlated rows: count passes over customers, not rows.
  const maxEpochs = Math.max(1, Math.round(architecture.maxEpochs / data.rowsPerCustomer));
  try {
    const report = await fitNetwork(network, rows, undefined, { ...architecture, maxEpochs }, seed, log);
    return validated(network, data, report, rows.x.rows, performance.now() - fitStarted, seed);
  } catch (error) {
    network.dispose();
    throw error;
  }
}
