/**
 * The gradient-boosted-trees reference of the model benchmark: XGBoost (ml-xgboost, XGBoost
 * compiled to WebAssembly), trained in the same run on the same split and the same preprocessed
 * inputs. Depth and rounds are chosen on the inner validation, as our model's settings were.
 */
import { createRequire } from 'node:module';
import type { FeatureMatrix } from '../model/features/matrix.ts';
import { rocAuc } from '../model/nn/metrics.ts';
import { fitPreprocessing, transformMatrix } from '../model/nn/preprocessing.ts';
import { DEFAULT_PREPROCESSING } from '../model/nn/trainChurnModel.ts';

interface Booster {
  train(rows: number[][], labels: number[]): void;
  predict(rows: number[][]): number[];
  free(): void;
}
type BoosterClass = new (options: Record<string, string | number>) => Booster;

const require = createRequire(import.meta.url);

function denseRows(values: Float32Array, width: number): number[][] {
  return Array.from({ length: values.length / width }, (_, r) => Array.from(values.subarray(r * width, (r + 1) * width)));
}

export interface GbtResult {
  testRisk: number[];
  innerValidationAuc: number;
  params: { maxDepth: number; rounds: number; eta: number };
  /** The whole grid. */
  trainingMs: number;
  /** One fit of the chosen booster: the training time our model is held against. */
  singleFitMs: number;
}

/**
 * Trains a grid of boosters (depth × rounds, eta 0.05, 0.8 row and column subsampling) on inner-train and
 * scores TEST with the one that has the best inner-validation ROC AUC (with `refitOn`: with those
 * settings trained again on `refitOn`, e.g. inner-train and inner-validation together).
 */
export async function gradientBoostedTrees(
  innerTrain: FeatureMatrix,
  innerValidation: FeatureMatrix,
  test: FeatureMatrix,
  seed: number,
  options: { refitOn?: FeatureMatrix } = {},
): Promise<GbtResult> {
  // ml-xgboost is CommonJS and exports a promise of the class (its WebAssembly loads first).
  const XGBoost = await (require('ml-xgboost') as Promise<BoosterClass>);
  const started = performance.now();
  // Trees need no segments; the same categories as the model's one-hot inputs.
  const preprocessing = fitPreprocessing(innerTrain, { minCategoryShare: DEFAULT_PREPROCESSING.minCategoryShare });
  const width = preprocessing.inputs.length;
  const x = denseRows(transformMatrix(preprocessing, innerTrain), width);
  const y = Array.from(innerTrain.labels);
  const xv = denseRows(transformMatrix(preprocessing, innerValidation), width);
  const xt = denseRows(transformMatrix(preprocessing, test), width);
  let best: { auc: number; maxDepth: number; rounds: number; eta: number; fitMs: number; booster?: Booster } = {
    auc: -1,
    maxDepth: 0,
    rounds: 0,
    eta: 0,
    fitMs: 0,
  };
  const boosterOf = (maxDepth: number, rounds: number, eta: number) =>
    new XGBoost({
      booster: 'gbtree',
      objective: 'binary:logistic',
      max_depth: maxDepth,
      eta,
      min_child_weight: 1,
      subsample: 0.8,
      colsample_bytree: 0.8,
      silent: 1,
      seed,
      iterations: rounds,
    });
  for (const maxDepth of [2, 3, 4, 6]) {
    for (const rounds of [100, 200, 400]) {
      const eta = 0.05;
      const booster = boosterOf(maxDepth, rounds, eta);
      const fitStarted = performance.now();
      booster.train(x, y);
      const fitMs = performance.now() - fitStarted;
      const auc = rocAuc(innerValidation.labels, booster.predict(xv));
      if (auc > best.auc) {
        best.booster?.free();
        best = { auc, maxDepth, rounds, eta, fitMs, booster };
      } else booster.free();
    }
  }
  let testRisk = best.booster?.predict(xt) ?? [];
  best.booster?.free();
  if (options.refitOn) {
    // The chosen settings, learnt again from every labelled row (validation included), as the product's final fit is.
    const all = options.refitOn;
    const refitPreprocessing = fitPreprocessing(all, { minCategoryShare: DEFAULT_PREPROCESSING.minCategoryShare });
    const refitWidth = refitPreprocessing.inputs.length;
    const booster = boosterOf(best.maxDepth, best.rounds, best.eta);
    booster.train(denseRows(transformMatrix(refitPreprocessing, all), refitWidth), Array.from(all.labels));
    testRisk = booster.predict(denseRows(transformMatrix(refitPreprocessing, test), refitWidth));
    booster.free();
  }
  return {
    testRisk,
    innerValidationAuc: best.auc,
    params: { maxDepth: best.maxDepth, rounds: best.rounds, eta: best.eta },
    trainingMs: performance.now() - started,
    singleFitMs: best.fitMs,
  };
}

/** Milliseconds of one XGBoost fit on `train`'s labelled rows (the same inputs the trees get above): a speed reference. */
export async function xgboostFitMs(
  train: FeatureMatrix,
  params: { maxDepth: number; rounds: number; eta: number },
  seed = 1,
): Promise<number> {
  const XGBoost = await (require('ml-xgboost') as Promise<BoosterClass>);
  const labelled = Array.from(train.labels, (label, row) => (label >= 0 ? row : -1)).filter((row) => row >= 0);
  const preprocessing = fitPreprocessing(train, { minCategoryShare: DEFAULT_PREPROCESSING.minCategoryShare });
  const width = preprocessing.inputs.length;
  const all = transformMatrix(preprocessing, train);
  const x = labelled.map((r) => Array.from(all.subarray(r * width, (r + 1) * width)));
  const y = labelled.map((r) => train.labels[r] as number);
  const booster = new XGBoost({
    booster: 'gbtree',
    objective: 'binary:logistic',
    max_depth: params.maxDepth,
    eta: params.eta,
    min_child_weight: 1,
    subsample: 0.8,
    colsample_bytree: 0.8,
    silent: 1,
    seed,
    iterations: params.rounds,
  });
  const started = performance.now();
  booster.train(x, y);
  const ms = performance.now() - started;
  booster.free();
  return ms;
}
