import type { z } from 'zod';
import type { FeatureMatrix } from '../features/matrix.ts';
import { initBackend } from './backend.ts';
import { applyCalibration, fitPlatt, type PlattCalibration } from './calibration.ts';
import { ChurnModel, type ModelArtifacts } from './churnModel.ts';
import { type FingerprintedSettings, modelVersionId, trainingFingerprint } from './fingerprint.ts';
import { BASELINE_VERSION_SUFFIX, METADATA_FORMAT_VERSION, type ModelMetadata } from './metadata.ts';
import type { CalibrationBin, GainsPoint, ModelMetrics } from './metricSchemas.ts';
import { calibrationBins, costOptimalThreshold, evaluate, gainsCurve, type OutreachCosts } from './metrics.ts';
import {
  Architecture,
  buildNetwork,
  type DenseInputs,
  fitNetwork,
  LOGISTIC_ARCHITECTURE,
  MLP_ARCHITECTURE,
  predictLogits,
} from './network.ts';
import { fitPreprocessing, type Preprocessing, type PreprocessingOptions, transformMatrix } from './preprocessing.ts';
import { stratifiedGroupSplit, stratifiedSplit } from './random.ts';
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
  /** Overrides of the logistic baseline's training settings (learning rate, batch, refit...). */
  baselineArchitecture?: Partial<Architecture>;
  /** Overrides of the preprocessing choices (defaults: DEFAULT_PREPROCESSING). */
  preprocessing?: PreprocessingOptions;
  /** At most this many labelled training rows (a stratified sample beyond it; default DEFAULT_MAX_TRAINING_ROWS). */
  maxTrainingRows?: number;
  /** The moment the model describes (the run's as-of): the version's time stamp. Default: now. */
  asOf?: string;
}

/** The settings of `options` that shape the model, with their defaults: what the fingerprint covers. */
export function fingerprintedSettings(options: TrainOptions): FingerprintedSettings {
  return {
    seed: options.seed ?? 42,
    costLostCustomer: options.costLostCustomer ?? 500,
    costIntervention: options.costIntervention ?? 50,
    epochs: options.epochs,
    maxTrainingRows: options.maxTrainingRows ?? DEFAULT_MAX_TRAINING_ROWS,
    // The effective settings, defaults included: a change of default is a different model.
    architecture: { ...MLP_ARCHITECTURE, ...options.architecture },
    baselineArchitecture: { ...LOGISTIC_ARCHITECTURE, ...options.baselineArchitecture },
    preprocessing: { ...DEFAULT_PREPROCESSING, ...options.preprocessing },
  };
}

/**
 * Training rows beyond which a stratified sample is taken. Training time grows with rows × epochs
 * while the gain from more rows of the same business flattens long before: on two cores (wasm)
 * 40,000 rows train in minutes, and a base of 50,000 customers over several cutoffs would
 * otherwise take most of an hour.
 */
export const DEFAULT_MAX_TRAINING_ROWS = 40_000;

/** A stratified, seeded sample of at most `max` rows (the class balance is kept; class weights rebalance later). */
export function capTrainingRows(rows: FeatureMatrix, max: number, seed: number, log: (message: string) => void): FeatureMatrix {
  const n = rows.customerIds.length;
  if (n <= max) return rows;
  const { keep } = stratifiedSplit(rows.labels, 1 - max / n, seed);
  log(`training rows: a stratified sample of ${keep.length} of ${n} (maxTrainingRows ${max})`);
  return selectRows(rows, keep);
}

/**
 * Preprocessing choices, tuned on the benchmarks without their test splits (bench/tuneModel.ts,
 * 4-fold CV): up to 8 quantile segments per number within a budget of 30 churners per segment
 * input (Telco 0.8414 → 0.8476 ROC AUC; Orange and small data sets get none), then step inputs
 * at honest supervised thresholds from what the budget leaves (Orange 0.9093 → 0.9173, better
 * on all 4 folds; Telco 0.8484 → 0.8477, within noise). Target-aware segments ('both') stay off: see README,
 * "Preprocessing".
 */
export const DEFAULT_PREPROCESSING: PreprocessingOptions = {
  minCategoryShare: 0.02,
  numericSegments: 8,
  minChurnersPerSegment: 30,
  thresholdSteps: true,
};

export interface TrainResult {
  model: ChurnModel;
  /** Validation metrics of the model: calibrated with 2-fold cross-fitting on validation (see README). */
  metrics: ModelMetrics;
  baselineMetrics: ModelMetrics;
  gains: Array<z.output<typeof GainsPoint>>;
  calibration: Array<z.output<typeof CalibrationBin>>;
  backend: string;
  trainingMs: number;
  /** Where training's time went: preprocessing fit, weight fitting (MLP and baseline), calibration and evaluation. */
  timings: { preprocessingMs: number; fitMs: number; calibrationMs: number };
  /** The labelled validation rows the metrics came from: the registry scores the champion on them. */
  validation: FeatureMatrix;
  /**
   * The calibrated logistic-regression baseline as saved artifacts (it holds no tensors, so the
   * caller has nothing extra to dispose): a complete model of kind 'logistic', version
   * `<model version>-lr`, with its own metrics, threshold, gains and calibration bins. The
   * registry promotes it when the MLP does not beat it and nothing better is champion; load it
   * with `ChurnModel.fromArtifacts`.
   */
  baseline: ModelArtifacts;
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

interface FittedNetwork {
  network: Awaited<ReturnType<typeof buildNetwork>>;
  calibration: PlattCalibration;
  probabilities: Float64Array;
  epochsRun: number;
  bestEpoch: number;
  /** Rows the final weights were fitted on (all training rows after a refit). */
  fittedRows: number;
  /** Milliseconds spent fitting weights (early-stopping run and refit). */
  fitMs: number;
}

async function trainOne(
  architecture: Architecture,
  data: {
    train: DenseInputs;
    trainTargets: ReturnType<typeof targets>;
    stopping?: { x: DenseInputs } & ReturnType<typeof targets>;
    /** Every training row (fit + stopping slice), for a refit. */
    all: () => { x: DenseInputs } & ReturnType<typeof targets>;
    validation: DenseInputs;
    validationLabels: Int8Array;
    /** Training rows per distinct customer (1 for one row per customer). */
    rowsPerCustomer: number;
  },
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
  const fitMs = performance.now() - fitStarted;
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
 * A one-cycle run over the step budget, watched by the early-stopping slice when there is one (the
 * best epoch's weights are kept; no refit): a small data set stops as soon as it starts to overfit,
 * a large one runs its budget. Without a slice (tiny data) it trains on every row.
 */
async function oneCycle(
  architecture: Architecture,
  data: Parameters<typeof trainOne>[1],
  seed: number,
  log: (message: string) => void,
  fitStarted: number,
): Promise<FittedNetwork> {
  const network = buildNetwork(data.train.width, architecture, seed);
  const rows = data.all();
  // A customer seen at k cutoffs is k correlated rows: count epochs in customers, not rows.
  const maxEpochs = Math.max(1, Math.round(architecture.maxEpochs / data.rowsPerCustomer));
  try {
    const report = await fitNetwork(network, rows, undefined, { ...architecture, maxEpochs }, seed, log);
    const fitMs = performance.now() - fitStarted;
    const logits = predictLogits(network, data.validation);
    return {
      network,
      calibration: fitPlatt(data.validationLabels, logits),
      probabilities: crossFittedProbabilities(data.validationLabels, logits, seed + 7),
      epochsRun: report.epochsRun,
      bestEpoch: report.bestEpoch,
      fittedRows: rows.x.rows,
      fitMs,
    };
  } catch (error) {
    network.dispose();
    throw error;
  }
}

/**
 * Trains the churn MLP and a logistic-regression baseline on the same preprocessed inputs,
 * calibrates both on validation and evaluates them there.
 *
 * - Preprocessing is fitted on the labelled training rows only.
 * - Early stopping watches a stratified 15% slice of TRAIN's customers (never validation), so validation
 *   stays untouched until calibration and evaluation; with `architecture.refit` (the default) a
 *   fresh network then trains on all training rows for the best epoch count.
 * - Calibration (Platt) is fitted on validation; reported metrics use 2-fold cross-fitted
 *   calibration on validation, and the cost-optimal threshold is chosen on those probabilities.
 * - The baseline comes back as a complete, registrable model (`result.baseline`, saved
 *   artifacts of kind 'logistic'): the registry makes it champion when the MLP does not beat it
 *   and there is no better champion, so a first run always has a model that scores.
 *
 * @example
 * const result = await trainChurnModel(datasets.train, datasets.validation, { seed: 7 });
 * console.log(result.metrics.rocAuc, result.baselineMetrics.rocAuc);
 * result.model.dispose(); // result.baseline holds no tensors
 */
export async function trainChurnModel(train: FeatureMatrix, validation: FeatureMatrix, options: TrainOptions = {}): Promise<TrainResult> {
  const log = options.log ?? (() => {});
  const backend = await initBackend(log);
  const settings = fingerprintedSettings(options);
  const { seed } = settings;
  const costs: OutreachCosts = { costLostCustomer: settings.costLostCustomer, costIntervention: settings.costIntervention };
  const dataFingerprint = trainingFingerprint(train, validation, settings);
  const started = performance.now();

  const trainRows = capTrainingRows(
    selectRows(train, labelledRows(train)),
    settings.maxTrainingRows ?? DEFAULT_MAX_TRAINING_ROWS,
    seed + 2,
    log,
  );
  const validationRows = selectRows(validation, labelledRows(validation));
  requireBothClasses(trainRows, 'training data');
  requireBothClasses(validationRows, 'validation data');

  const preprocessing = fitPreprocessing(trainRows, { ...DEFAULT_PREPROCESSING, ...options.preprocessing });
  const counts = classCounts(trainRows.labels);
  const useStopping = trainRows.customerIds.length >= MIN_ROWS_FOR_EARLY_STOPPING && counts.positives >= 10;
  const split = useStopping
    ? stratifiedGroupSplit(trainRows.labels, trainRows.customerIds, EARLY_STOPPING_SHARE, seed + 1)
    : { keep: labelledRows(trainRows), holdout: [] };
  const fitRows = selectRows(trainRows, split.keep);
  const stopRows = selectRows(trainRows, split.holdout);
  const data = {
    train: denseOf(preprocessing, fitRows),
    trainTargets: targets(fitRows.labels),
    ...(useStopping ? { stopping: { x: denseOf(preprocessing, stopRows), ...targets(stopRows.labels) } } : {}),
    all: () => ({ x: denseOf(preprocessing, trainRows), ...targets(trainRows.labels) }),
    validation: denseOf(preprocessing, validationRows),
    validationLabels: validationRows.labels,
    rowsPerCustomer: trainRows.customerIds.length / new Set(trainRows.customerIds).size,
  };
  const epochs = options.epochs !== undefined ? { maxEpochs: options.epochs } : {};
  const mlpArchitecture = Architecture.parse({ ...MLP_ARCHITECTURE, ...options.architecture, ...epochs });
  const baselineArchitecture = Architecture.parse({ ...LOGISTIC_ARCHITECTURE, ...options.baselineArchitecture, ...epochs });
  log(
    `training on ${fitRows.customerIds.length} rows (${classCounts(fitRows.labels).positives} churners), ${preprocessing.inputs.length} inputs; early stopping on ${stopRows.customerIds.length} rows; validation ${validationRows.customerIds.length} rows`,
  );

  const preprocessingMs = performance.now() - started;
  const mlp = await trainOne(mlpArchitecture, data, seed, log);
  const baseline = await trainOne(baselineArchitecture, data, seed + 1000, log);
  const threshold = costOptimalThreshold(validationRows.labels, mlp.probabilities, costs);
  const baselineThreshold = costOptimalThreshold(validationRows.labels, baseline.probabilities, costs);
  const metrics = evaluate(validationRows.labels, mlp.probabilities, threshold);
  const baselineMetrics = evaluate(validationRows.labels, baseline.probabilities, baselineThreshold);
  const gains = gainsCurve(validationRows.labels, mlp.probabilities);
  const calibration = calibrationBins(validationRows.labels, mlp.probabilities);
  const baselineCurves = {
    gains: gainsCurve(validationRows.labels, baseline.probabilities),
    bins: calibrationBins(validationRows.labels, baseline.probabilities),
  };
  const trainingMs = performance.now() - started;
  log(
    `model ROC AUC ${metrics.rocAuc.toFixed(4)} vs baseline ${baselineMetrics.rocAuc.toFixed(4)} on validation; ${trainingMs.toFixed(0)} ms`,
  );

  const createdAt = new Date();
  const version = modelVersionId(options.asOf ? new Date(options.asOf) : createdAt, dataFingerprint);
  const metadata = (
    architecture: Architecture,
    fitted: FittedNetwork,
    own: { version: string; threshold: number; metrics: ModelMetrics; gains: TrainResult['gains']; bins: TrainResult['calibration'] },
  ): ModelMetadata => ({
    formatVersion: METADATA_FORMAT_VERSION,
    version: own.version,
    createdAt: createdAt.toISOString(),
    backend,
    architecture,
    featureSpec: {
      numeric: train.numericColumns.map(({ name, family, description }) => ({ name, family, description })),
      categorical: train.categoricalColumns.map(({ name, family, description, categories }) => ({ name, family, description, categories })),
    },
    preprocessing,
    calibration: fitted.calibration,
    threshold: own.threshold,
    costs,
    metrics: own.metrics,
    baselineMetrics,
    gains: own.gains,
    calibrationBins: own.bins,
    training: {
      seed,
      trainRows: fitted.fittedRows,
      trainPositives:
        fitted.fittedRows === fitRows.customerIds.length ? classCounts(fitRows.labels).positives : classCounts(trainRows.labels).positives,
      earlyStoppingRows: stopRows.customerIds.length,
      validationRows: validationRows.customerIds.length,
      epochsRun: fitted.epochsRun,
      bestEpoch: fitted.bestEpoch,
      trainingMs,
    },
    trainingWindow: { from: train.cutoff, to: validation.cutoff },
    dataFingerprint,
  });
  const model = new ChurnModel(mlp.network, metadata(mlpArchitecture, mlp, { version, threshold, metrics, gains, bins: calibration }));
  const baselineModel = new ChurnModel(
    baseline.network,
    metadata(baselineArchitecture, baseline, {
      version: `${version}${BASELINE_VERSION_SUFFIX}`,
      threshold: baselineThreshold,
      metrics: baselineMetrics,
      gains: baselineCurves.gains,
      bins: baselineCurves.bins,
    }),
  );
  let baselineArtifacts: ModelArtifacts;
  try {
    baselineArtifacts = await baselineModel.toArtifacts();
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    baselineModel.dispose();
  }
  return {
    model,
    metrics,
    baselineMetrics,
    gains,
    calibration,
    backend,
    trainingMs,
    timings: {
      preprocessingMs,
      fitMs: mlp.fitMs + baseline.fitMs,
      calibrationMs: trainingMs - preprocessingMs - mlp.fitMs - baseline.fitMs,
    },
    validation: validationRows,
    baseline: baselineArtifacts,
  };
}
