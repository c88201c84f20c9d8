import type { z } from 'zod';
import type { FeatureMatrix } from '../features/matrix.ts';
import { initBackend } from './backend.ts';
import { blendedLogits, blendForScoring, chooseBaselineShare } from './blend.ts';
import { ChurnModel, type ModelArtifacts } from './churnModel.ts';
import { type FinalNetwork, fitFinal, planFinalFit } from './finalFit.ts';
import { type FingerprintedSettings, modelVersionId, trainingFingerprint } from './fingerprint.ts';
import { crossFittedProbabilities, denseOf, type FittedNetwork, targets, trainOne } from './fitting.ts';
import { BASELINE_VERSION_SUFFIX, METADATA_FORMAT_VERSION, type ModelMetadata } from './metadata.ts';
import type { CalibrationBin, GainsPoint, ModelMetrics } from './metricSchemas.ts';
import { calibrationBins, costOptimalThreshold, evaluate, gainsCurve, type OutreachCosts } from './metrics.ts';
import { Architecture, LOGISTIC_ARCHITECTURE, MLP_ARCHITECTURE, predictLogits } from './network.ts';
import { fitPreprocessing, type PreprocessingOptions } from './preprocessing.ts';
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
  /**
   * After validation, refit on every labelled cutoff, the newest included, and calibrate on
   * customers held out of that fit (finalFit.ts). Default true.
   */
  finalFit?: boolean;
  /**
   * Blend the logistic baseline into the scoring network at the share of `BASELINE_SHARES` with
   * the best validation ROC AUC (blend.ts). Default true.
   */
  blend?: boolean;
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
    finalFit: options.finalFit === false ? false : undefined,
    blend: options.blend !== false,
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
  /** Where training's time went: preprocessing fit, weight fitting (MLP and baseline, final fits included), calibration and evaluation. */
  timings: { preprocessingMs: number; fitMs: number; calibrationMs: number };
  /**
   * The labelled validation rows the registry compares the model and the champion on: after a
   * final fit, those of the held-out customers (neither model learnt from them); else all of them.
   */
  validation: FeatureMatrix;
  /** The final fit on every labelled cutoff, or why there was none. */
  finalFit: { fittedThrough: string; rows: number; calibrationRows: number } | { skipped: string };
  /**
   * The calibrated logistic-regression baseline as saved artifacts (it holds no tensors, so the
   * caller has nothing extra to dispose): a complete model of kind 'logistic', version
   * `<model version>-lr`, with its own metrics, threshold, gains and calibration bins. The
   * registry promotes it when the MLP does not beat it and nothing better is champion; load it
   * with `ChurnModel.fromArtifacts`.
   */
  baseline: ModelArtifacts;
}

/** The network that scores, with what it was fitted on and calibrated with. */
type ScoringNetwork = FittedNetwork & Pick<FinalNetwork, 'preprocessing' | 'fittedPositives'>;

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

/** Rows per distinct customer: a customer seen at k cutoffs is k rows. */
const rowsPerCustomer = (rows: FeatureMatrix): number => rows.customerIds.length / Math.max(1, new Set(rows.customerIds).size);

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

  const preprocessingOptions = { ...DEFAULT_PREPROCESSING, ...options.preprocessing };
  const preprocessing = fitPreprocessing(trainRows, preprocessingOptions);
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
    rowsPerCustomer: rowsPerCustomer(trainRows),
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
  const mlpLogits = predictLogits(mlp.network, data.validation);
  const baselineLogits = predictLogits(baseline.network, data.validation);
  const blend = options.blend === false ? { share: 0 } : chooseBaselineShare(validationRows.labels, mlpLogits, baselineLogits);
  // The scoring model's honest validation probabilities: of the blend, when there is one.
  const probabilities =
    blend.share === 0
      ? mlp.probabilities
      : crossFittedProbabilities(validationRows.labels, blendedLogits(mlpLogits, baselineLogits, blend.share), seed + 7);
  if (blend.share > 0) log(`blend: the scoring network adds the logistic baseline at share ${blend.share}`);
  const threshold = costOptimalThreshold(validationRows.labels, probabilities, costs);
  const baselineThreshold = costOptimalThreshold(validationRows.labels, baseline.probabilities, costs);
  const metrics = evaluate(validationRows.labels, probabilities, threshold);
  const baselineMetrics = evaluate(validationRows.labels, baseline.probabilities, baselineThreshold);
  const gains = gainsCurve(validationRows.labels, probabilities);
  const calibration = calibrationBins(validationRows.labels, probabilities);
  const baselineCurves = {
    gains: gainsCurve(validationRows.labels, baseline.probabilities),
    bins: calibrationBins(validationRows.labels, baseline.probabilities),
  };
  log(`model ROC AUC ${metrics.rocAuc.toFixed(4)} vs baseline ${baselineMetrics.rocAuc.toFixed(4)} on validation`);

  // The models that score: refitted on every labelled cutoff, or the validated ones as they are.
  const plan = options.finalFit === false ? { skipped: 'finalFit is off' } : planFinalFit(trainRows, validationRows);
  const final = async (fitted: FittedNetwork, architecture: Architecture, networkSeed: number): Promise<ScoringNetwork> => {
    if ('skipped' in plan) return { ...fitted, preprocessing, fittedPositives: fittedPositivesOf(fitted) };
    log(
      `${architecture.kind}: final fit on every labelled cutoff (${plan.fit.customerIds.length} rows), calibrated on ${plan.calibration.customerIds.length} held-out rows`,
    );
    const rows = capTrainingRows(plan.fit, settings.maxTrainingRows ?? DEFAULT_MAX_TRAINING_ROWS, seed + 3, log);
    // One-cycle counts passes over the customers: the final fit has more rows per customer.
    const epochs =
      architecture.schedule === 'one-cycle'
        ? Math.max(1, Math.round((fitted.bestEpoch * data.rowsPerCustomer) / rowsPerCustomer(rows)))
        : fitted.bestEpoch;
    try {
      const refitted = await fitFinal(
        architecture,
        { fit: rows, calibration: plan.calibration },
        epochs,
        preprocessingOptions,
        networkSeed,
        log,
      );
      return { ...fitted, ...refitted };
    } finally {
      fitted.network.dispose();
    }
  };
  const fittedPositivesOf = (fitted: FittedNetwork) =>
    fitted.fittedRows === fitRows.customerIds.length ? classCounts(fitRows.labels).positives : classCounts(trainRows.labels).positives;
  const finalStarted = performance.now();
  let mlpFinal: ScoringNetwork;
  try {
    mlpFinal = await final(mlp, mlpArchitecture, seed);
  } catch (error) {
    baseline.network.dispose();
    throw error;
  }
  let baselineFinal: ScoringNetwork;
  try {
    baselineFinal = await final(baseline, baselineArchitecture, seed + 1000);
  } catch (error) {
    mlpFinal.network.dispose();
    throw error;
  }
  if (blend.share > 0) {
    try {
      if (JSON.stringify(mlpFinal.preprocessing) !== JSON.stringify(baselineFinal.preprocessing)) {
        throw new Error('the MLP and its baseline were fitted on different preprocessing: they cannot be blended');
      }
      const blended = blendForScoring(
        mlpFinal.network,
        mlpArchitecture,
        baselineFinal.network,
        blend.share,
        mlpFinal.preprocessing,
        'skipped' in plan ? validationRows : plan.calibration,
      );
      mlpFinal.network.dispose();
      mlpFinal = { ...mlpFinal, ...blended };
    } catch (error) {
      mlpFinal.network.dispose();
      baselineFinal.network.dispose();
      throw error;
    }
  }
  const fitMs = mlp.fitMs + baseline.fitMs + (performance.now() - finalStarted);
  const trainingMs = performance.now() - started;
  const finalFit: TrainResult['finalFit'] =
    'skipped' in plan
      ? { skipped: plan.skipped }
      : { fittedThrough: validation.cutoff, rows: mlpFinal.fittedRows, calibrationRows: plan.calibration.customerIds.length };
  if ('skipped' in finalFit) log(`no final fit on every labelled cutoff: ${finalFit.skipped}`);

  const createdAt = new Date();
  const version = modelVersionId(options.asOf ? new Date(options.asOf) : createdAt, dataFingerprint);
  const metadata = (
    architecture: Architecture,
    fitted: ScoringNetwork,
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
    preprocessing: fitted.preprocessing,
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
      trainPositives: fitted.fittedPositives,
      earlyStoppingRows: stopRows.customerIds.length,
      validationRows: validationRows.customerIds.length,
      ...('skipped' in finalFit ? {} : { calibrationRows: finalFit.calibrationRows }),
      ...(architecture.kind === 'mlp' && blend.share > 0 ? { baselineShare: blend.share } : {}),
      epochsRun: fitted.epochsRun,
      bestEpoch: fitted.bestEpoch,
      trainingMs,
    },
    trainingWindow: {
      from: train.cutoff,
      to: validation.cutoff,
      fittedThrough: 'skipped' in finalFit ? train.cutoff : finalFit.fittedThrough,
    },
    dataFingerprint,
  });
  const model = new ChurnModel(
    mlpFinal.network,
    metadata(mlpArchitecture, mlpFinal, { version, threshold, metrics, gains, bins: calibration }),
  );
  const baselineModel = new ChurnModel(
    baselineFinal.network,
    metadata(baselineArchitecture, baselineFinal, {
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
      fitMs,
      calibrationMs: trainingMs - preprocessingMs - fitMs,
    },
    validation: 'skipped' in plan ? validationRows : plan.calibration,
    finalFit,
    baseline: baselineArtifacts,
  };
}
