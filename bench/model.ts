/**
 * Quality and speed bar of the churn model on two public data sets (issue 4).
 *
 *   npm run bench:model                       # both data sets
 *   npm run bench:model -- --dataset orange   # one
 *   npm run bench:model -- --segments 8 --hidden 64,32 --dropout 0.2 --quick true --gbt false   # a quick look
 *
 * Each data set: a fixed, seeded, stratified 80/20 split by customer (TEST = the 20%); the 80% is
 * split again 80/20 into inner-train and inner-validation (early stopping uses a slice of
 * inner-train, calibration and threshold the inner validation). TEST is only used for the
 * figures checked against the targets; tune with `npm run bench:tune` (k-fold CV on the 80%).
 * Same-run references: the logistic-regression baseline on the same inputs, XGBoost (WebAssembly
 * build, depth and rounds chosen on the inner validation) on the same inputs, and, for speed, the
 * plain-JavaScript cpu backend.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { FeatureMatrix } from '../model/features/matrix.ts';
import { initBackend } from '../model/nn/backend.ts';
import { ChurnModel } from '../model/nn/churnModel.ts';
import { prAuc, rocAuc } from '../model/nn/metrics.ts';
import { trainChurnModel } from '../model/nn/trainChurnModel.ts';
import { architectureOptions, preprocessingOptions, TUNING_FLAGS } from './cliOverrides.ts';
import { benchmarkSplit, DATASETS, type DatasetSpec, matrixFromCsv } from './datasets.ts';
import { gradientBoostedTrees } from './gradientBoostedTrees.ts';

/** Rows per second of `fn(matrix)`, repeated until at least 300 ms have passed. */
function rowsPerSecond(rows: number, fn: () => void): number {
  fn(); // warm-up
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < 300) {
    fn();
    runs++;
  }
  return (rows * runs) / ((performance.now() - start) / 1000);
}

const fmt = (n: number, digits = 4) => n.toFixed(digits);
const human = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));

async function speedOn(backend: string, model: ChurnModel, test: FeatureMatrix): Promise<{ predict: number; score: number }> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  const predict = rowsPerSecond(test.customerIds.length, () => model.predict(test));
  const score = rowsPerSecond(test.customerIds.length, () => model.score(test));
  await tf.setBackend(previous);
  return { predict, score };
}

async function runDataset(key: string, spec: DatasetSpec, options: Record<string, string | undefined>): Promise<boolean> {
  const seed = 2026;
  const all = matrixFromCsv(spec);
  const { test, innerTrain, innerValidation } = benchmarkSplit(all, seed);
  const architecture = architectureOptions(options);

  const result = await trainChurnModel(innerTrain, innerValidation, {
    seed,
    architecture,
    preprocessing: preprocessingOptions(options),
    log: (m) => console.error(`  [${key}] ${m}`),
  });
  const baseline = await ChurnModel.fromArtifacts(result.baseline);
  const labels = test.labels;
  const modelRisk = result.model.predict(test);
  const baselineRisk = baseline.predict(test);
  const testAuc = rocAuc(labels, modelRisk);
  const baselineAuc = rocAuc(labels, baselineRisk);
  const epochs = result.model.metadata.training.epochsRun;
  const trainRows = result.model.metadata.training.trainRows;
  const backend = tf.getBackend();
  const quick = options.quick === 'true';
  const speed = quick ? { predict: Number.NaN, score: Number.NaN } : await speedOn(backend, result.model, test);
  const cpuSpeed = quick ? { predict: Number.NaN, score: Number.NaN } : await speedOn('cpu', result.model, test);
  const gbt = options.gbt === 'false' ? undefined : await gradientBoostedTrees(innerTrain, innerValidation, test, seed);

  console.log(
    `\n${spec.name}: ${all.customerIds.length} rows, ${result.model.metadata.preprocessing.inputs.length} inputs; train ${trainRows} (${result.model.metadata.architecture.refit ? `early stopping on ${result.model.metadata.training.earlyStoppingRows} of them, then a refit on all` : `+${result.model.metadata.training.earlyStoppingRows} early stopping`}), inner validation ${innerValidation.customerIds.length}, test ${test.customerIds.length}`,
  );
  console.log(
    `  architecture ${JSON.stringify({ ...result.model.metadata.architecture, kind: undefined })}, epochs ${epochs} (best ${result.model.metadata.training.bestEpoch})`,
  );
  console.log(
    `  INNER validation  model ROC AUC ${fmt(result.metrics.rocAuc)}  PR AUC ${fmt(result.metrics.prAuc)}  ECE ${fmt(result.metrics.ece)} | baseline ROC AUC ${fmt(result.baselineMetrics.rocAuc)}  PR AUC ${fmt(result.baselineMetrics.prAuc)}`,
  );
  console.log(
    `  TEST              model ROC AUC ${fmt(testAuc)}  PR AUC ${fmt(prAuc(labels, modelRisk))} | LR baseline ROC AUC ${fmt(baselineAuc)}  PR AUC ${fmt(prAuc(labels, baselineRisk))} | model/baseline AUC ratio ${fmt(testAuc / baselineAuc, 3)}`,
  );
  if (gbt) {
    const gbtAuc = rocAuc(labels, gbt.testRisk);
    console.log(
      `  TEST              XGBoost ROC AUC ${fmt(gbtAuc)}  PR AUC ${fmt(prAuc(labels, gbt.testRisk))} (depth ${gbt.params.maxDepth}, ${gbt.params.rounds} rounds, eta ${gbt.params.eta}: chosen on inner validation, ${fmt(gbt.innerValidationAuc)}; ${fmt(gbt.trainingMs / 1000, 1)} s for the grid) | model/XGBoost AUC ratio ${fmt(testAuc / gbtAuc, 3)}`,
    );
  }
  console.log(
    `  training ${fmt(result.trainingMs / 1000, 2)} s on ${backend} for MLP and baseline (early-stopping run, refit, calibration): ${human(trainRows / (result.trainingMs / 1000))} training rows/s end to end`,
  );
  console.log(
    `  scoring on ${backend}: predict ${human(speed.predict)} rows/s, score with 3 drivers (IG 24 steps) ${human(speed.score)} rows/s | cpu baseline: ${human(cpuSpeed.predict)} / ${human(cpuSpeed.score)} rows/s | ${backend}/cpu ratio ${fmt(speed.predict / cpuSpeed.predict, 1)}× / ${fmt(speed.score / cpuSpeed.score, 1)}×`,
  );
  const pass = testAuc >= spec.target;
  console.log(`  ${pass ? 'PASS' : 'MISS'} test ROC AUC ${fmt(testAuc)} ≥ ${spec.target} (the issue's reference: ${spec.reference})`);
  result.model.dispose();
  baseline.dispose();
  return pass;
}

const { values } = parseArgs({
  options: {
    ...TUNING_FLAGS,
    dataset: { type: 'string' },
    /** `--quick true`: skip the speed measurements (tuning runs). */
    quick: { type: 'string' },
    /** `--gbt false`: skip the XGBoost reference. */
    gbt: { type: 'string' },
  },
});
await initBackend();
const keys = values.dataset ? [values.dataset] : Object.keys(DATASETS);
let met = 0;
for (const key of keys) {
  const spec = DATASETS[key];
  if (!spec) throw new Error(`unknown --dataset ${key}; choose ${Object.keys(DATASETS).join(' or ')}`);
  if (await runDataset(key, spec, values)) met++;
}
console.log(`\n${met === keys.length ? 'PASS' : 'MISS'}: ${met} of ${keys.length} quality target(s) met`);
