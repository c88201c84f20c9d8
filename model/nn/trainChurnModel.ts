import type { z } from 'zod';
import type { FeatureMatrix } from '../features/matrix.ts';
import type { CalibrationBin, GainsPoint, ModelMetrics } from '../runSummary.ts';
import { initBackend } from './backend.ts';
import { applyCalibration, fitPlatt, type PlattCalibration } from './calibration.ts';
import { ChurnModel } from './churnModel.ts';
import { fingerprintMatrices, modelVersionId } from './fingerprint.ts';
import { METADATA_FORMAT_VERSION, type ModelMetadata } from './metadata.ts';
import { calibrationBins, costOptimalThreshold, evaluate, gainsCurve, type OutreachCosts } from './metrics.ts';
import {
  Architecture, LOGISTIC_ARCHITECTURE, MLP_ARCHITECTURE, buildNetwork, fitNetwork, predictLogits, type DenseInputs,
} from './network.ts';
import { fitPreprocessing, transformMatrix, type Preprocessing } from './preprocessing.ts';
import { stratifiedSplit } from './random.ts';
import { classCounts, labelledRows, selectRows } from './rows.ts';

export interface TrainOptions {
  /** Seed of weights, shuffles, dropout and splits: the same seed and data give the same model. */
  seed?: number;
  /** Cost of losing a customer the model missed (default 500). */
  costLostCustomer?: number;
  /** Cost of one intervention (default 50). */
  costIntervention?: number;
  /** Maximum epochs (early stopping usually ends sooner). */
  epochs?: number;
  log?: (msg: string) => void;
  /** Overrides of the MLP's architecture (the benchmark tunes these on inner validation). */
  architecture?: Partial<Architecture>;
  /** Keep the calibrated logistic-regression baseline as `result.baseline` (the caller disposes it). */
  keepBaseline?: boolean;
}

export interface TrainResult {
  model: ChurnModel;
  /** Validation metrics of the model: calibrated with 2-fold cross-fitting on validation (see README). */
  metrics: ModelMetrics;
  baselineMetrics: ModelMetrics;
  gains: Array<z.output<typeof GainsPoint>>;
  calibration: Array<z.output<typeof CalibrationBin>>;
  backend: string;
  trainingMs: number;
  /** The labelled validation rows the metrics came from: the registry scores the champion on them. */
  validation: FeatureMatrix;
  /** The logistic-regression baseline, only with `keepBaseline`. */
  baseline?: ChurnModel;
}

/** Share of the training rows held out for early stopping. */
export const EARLY_STOPPING_SHARE = 0.15;
/** Below this many labelled training rows (or 10 churners) there is no early-stopping slice. */
const MIN_ROWS_FOR_EARLY_STOPPING = 100;

function requireBothClasses(matrix: FeatureMatrix, name: string): void {
  const { positives, negatives } = classCounts(matrix.labels);
  if (positives === 0 || negatives === 0) {
    throw new Error(
      `${name} needs labelled churners and stayers: got ${positives} churners and ${negatives} stayers in ${matrix.customerIds.length} rows (cutoff ${matrix.cutoff}); widen the history or the horizon`,
    );
  }
}

function denseOf(preprocessing: Preprocessing, matrix: FeatureMatrix): DenseInputs {
  return { values: transformMatrix(preprocessing, matrix), rows: matrix.customerIds.length, width: preprocessing.inputs.length };
}

/** Labels as floats and class weights that give both classes equal total weight. */
function targets(labels: Int8Array): { labels: Float32Array; weights: Float32Array } {
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
function crossFittedProbabilities(labels: Int8Array, logits: Float64Array, seed: number): Float64Array {
  const { keep, holdout } = stratifiedSplit(labels, 0.5, seed);
  const pick = <T extends Int8Array | Float64Array>(a: T, rows: number[]) => rows.map((r) => a[r] as number);
  const halvesOk = [keep, holdout].every((rows) => {
    const c = classCounts(pick(labels, rows));
    return c.positives > 0 && c.negatives > 0;
  });
  if (!halvesOk) return applyCalibration(fitPlatt(labels, logits), logits);
  const out = new Float64Array(labels.length);
  for (const [fitOn, applyTo] of [[keep, holdout], [holdout, keep]] as const) {
    const calibration = fitPlatt(pick(labels, fitOn), pick(logits, fitOn));
    const probabilities = applyCalibration(calibration, pick(logits, applyTo));
    applyTo.forEach((r, i) => (out[r] = probabilities[i] as number));
  }
  return out;
}

interface FittedNetwork {
  network: Awaited<ReturnType<typeof buildNetwork>>;
  calibration: PlattCalibration;
  probabilities: Float64Array;
  epochsRun: number;
  bestEpoch: number;
}

async function trainOne(
  architecture: Architecture,
  data: { train: DenseInputs; trainTargets: ReturnType<typeof targets>; stopping?: { x: DenseInputs } & ReturnType<typeof targets>; validation: DenseInputs; validationLabels: Int8Array },
  seed: number,
  log: (message: string) => void,
): Promise<FittedNetwork> {
  const network = buildNetwork(data.train.width, architecture, seed);
  const report = await fitNetwork(network, { x: data.train, ...data.trainTargets }, data.stopping, architecture, seed, log);
  const logits = predictLogits(network, data.validation);
  return {
    network,
    calibration: fitPlatt(data.validationLabels, logits),
    probabilities: crossFittedProbabilities(data.validationLabels, logits, seed + 7),
    epochsRun: report.epochsRun,
    bestEpoch: report.bestEpoch,
  };
}

/**
 * Trains the churn MLP and a logistic-regression baseline on the same preprocessed inputs,
 * calibrates both on validation and evaluates them there.
 *
 * - Preprocessing is fitted on the labelled training rows only.
 * - Early stopping watches a stratified 15% slice of TRAIN (never validation), so validation
 *   stays untouched until calibration and evaluation.
 * - Calibration (Platt) is fitted on validation; reported metrics use 2-fold cross-fitted
 *   calibration on validation, and the cost-optimal threshold is chosen on those probabilities.
 *
 * @example
 * const result = await trainChurnModel(datasets.train, datasets.validation, { seed: 7 });
 * console.log(result.metrics.rocAuc, result.baselineMetrics.rocAuc);
 * result.model.dispose();
 */
export async function trainChurnModel(train: FeatureMatrix, validation: FeatureMatrix, options: TrainOptions = {}): Promise<TrainResult> {
  const log = options.log ?? (() => {});
  const seed = options.seed ?? 42;
  const costs: OutreachCosts = { costLostCustomer: options.costLostCustomer ?? 500, costIntervention: options.costIntervention ?? 50 };
  const backend = await initBackend(log);
  const started = performance.now();

  const trainRows = selectRows(train, labelledRows(train));
  const validationRows = selectRows(validation, labelledRows(validation));
  requireBothClasses(trainRows, 'training data');
  requireBothClasses(validationRows, 'validation data');

  const preprocessing = fitPreprocessing(trainRows);
  const counts = classCounts(trainRows.labels);
  const useStopping = trainRows.customerIds.length >= MIN_ROWS_FOR_EARLY_STOPPING && counts.positives >= 10;
  const split = useStopping ? stratifiedSplit(trainRows.labels, EARLY_STOPPING_SHARE, seed + 1) : { keep: labelledRows(trainRows), holdout: [] };
  const fitRows = selectRows(trainRows, split.keep);
  const stopRows = selectRows(trainRows, split.holdout);
  const data = {
    train: denseOf(preprocessing, fitRows),
    trainTargets: targets(fitRows.labels),
    ...(useStopping ? { stopping: { x: denseOf(preprocessing, stopRows), ...targets(stopRows.labels) } } : {}),
    validation: denseOf(preprocessing, validationRows),
    validationLabels: validationRows.labels,
  };
  const epochs = options.epochs !== undefined ? { maxEpochs: options.epochs } : {};
  const mlpArchitecture = Architecture.parse({ ...MLP_ARCHITECTURE, ...options.architecture, ...epochs });
  const baselineArchitecture = Architecture.parse({ ...LOGISTIC_ARCHITECTURE, ...epochs });
  log(`training on ${fitRows.customerIds.length} rows (${classCounts(fitRows.labels).positives} churners), ${preprocessing.inputs.length} inputs; early stopping on ${stopRows.customerIds.length} rows; validation ${validationRows.customerIds.length} rows`);

  const mlp = await trainOne(mlpArchitecture, data, seed, log);
  const baseline = await trainOne(baselineArchitecture, data, seed + 1000, log);
  const threshold = costOptimalThreshold(validationRows.labels, mlp.probabilities, costs);
  const baselineThreshold = costOptimalThreshold(validationRows.labels, baseline.probabilities, costs);
  const metrics = evaluate(validationRows.labels, mlp.probabilities, threshold);
  const baselineMetrics = evaluate(validationRows.labels, baseline.probabilities, baselineThreshold);
  const gains = gainsCurve(validationRows.labels, mlp.probabilities);
  const calibration = calibrationBins(validationRows.labels, mlp.probabilities);
  const trainingMs = performance.now() - started;
  log(`model ROC AUC ${metrics.rocAuc.toFixed(4)} vs baseline ${baselineMetrics.rocAuc.toFixed(4)} on validation; ${trainingMs.toFixed(0)} ms`);

  const createdAt = new Date();
  const dataFingerprint = fingerprintMatrices(trainRows, validationRows);
  const metadata = (architecture: Architecture, fitted: FittedNetwork, t: number): ModelMetadata => ({
    formatVersion: METADATA_FORMAT_VERSION,
    version: modelVersionId(createdAt, dataFingerprint),
    createdAt: createdAt.toISOString(),
    backend,
    architecture,
    featureSpec: {
      numeric: train.numericColumns.map(({ name, family, description }) => ({ name, family, description })),
      categorical: train.categoricalColumns.map(({ name, family, description, categories }) => ({ name, family, description, categories })),
    },
    preprocessing,
    calibration: fitted.calibration,
    threshold: t,
    costs,
    metrics,
    baselineMetrics,
    gains,
    calibrationBins: calibration,
    training: {
      seed,
      trainRows: fitRows.customerIds.length,
      trainPositives: classCounts(fitRows.labels).positives,
      earlyStoppingRows: stopRows.customerIds.length,
      validationRows: validationRows.customerIds.length,
      epochsRun: fitted.epochsRun,
      bestEpoch: fitted.bestEpoch,
      trainingMs,
    },
    trainingWindow: { from: train.cutoff, to: validation.cutoff },
    dataFingerprint,
  });
  const model = new ChurnModel(mlp.network, metadata(mlpArchitecture, mlp, threshold));
  let baselineModel: ChurnModel | undefined;
  if (options.keepBaseline) baselineModel = new ChurnModel(baseline.network, metadata(baselineArchitecture, baseline, baselineThreshold));
  else baseline.network.dispose();
  return {
    model, metrics, baselineMetrics, gains, calibration, backend, trainingMs, validation: validationRows,
    ...(baselineModel ? { baseline: baselineModel } : {}),
  };
}
