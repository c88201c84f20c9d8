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
import { architectureOptions, baselineArchitectureOptions, preprocessingOptions, TUNING_FLAGS } from './cliOverrides.ts';
import { benchmarkSplit, DATASETS, type DatasetSpec, matrixFromCsv } from './datasets.ts';
import { gradientBoostedTrees } from './gradientBoostedTrees.ts';
import { aucDifference } from './pairedBootstrap.ts';

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
  const score = rowsPerSecond(test.customerIds.length, () => model.score(test, { explainFrom: 0 }));
  await tf.setBackend(previous);
  return { predict, score };
}

/** One data set's figures, for the closing table. */
interface DatasetResult {
  key: string;
  testAuc: number;
  baselineAuc: number;
  gbtAuc?: number;
  trainingMs: number;
  gbtFitMs?: number;
  /** Targets of this data set that were met / checked. */
  met: number;
  checked: number;
}

/** Training time of the MLP and its baseline against one XGBoost fit of the chosen configuration. */
const TRAIN_RATIO_TARGET = 5;

async function runDataset(key: string, spec: DatasetSpec, options: Record<string, string | undefined>): Promise<DatasetResult> {
  const seed = 2026;
  const all = matrixFromCsv(spec);
  const { test, innerTrain, innerValidation } = benchmarkSplit(all, seed);
  const architecture = architectureOptions(options);

  const result = await trainChurnModel(innerTrain, innerValidation, {
    seed,
    architecture,
    baselineArchitecture: baselineArchitectureOptions(options),
    preprocessing: preprocessingOptions(options),
    log: (m) => console.error(`  [${key}] ${m}`),
  });
  const baseline = await ChurnModel.fromArtifacts(result.baseline);
  const labels = test.labels;
  const modelRisk = result.model.predict(test);
  const baselineRisk = baseline.predict(test);
  const testAuc = rocAuc(labels, modelRisk);
  const baselineAuc = rocAuc(labels, baselineRisk);
  const { metadata } = result.model;
  const quick = options.quick === 'true';
  const speed = quick ? undefined : await speedOn(tf.getBackend(), result.model, test);
  const cpuSpeed = quick ? undefined : await speedOn('cpu', result.model, test);
  const gbt = options.gbt === 'false' ? undefined : await gradientBoostedTrees(innerTrain, innerValidation, test, seed);
  const gbtAuc = gbt ? rocAuc(labels, gbt.testRisk) : undefined;

  console.log(
    `\n${spec.name}: ${all.customerIds.length} rows, ${metadata.preprocessing.inputs.length} inputs; train ${metadata.training.trainRows} (${metadata.architecture.refit ? `early stopping on ${metadata.training.earlyStoppingRows} of them, then a refit on all` : `+${metadata.training.earlyStoppingRows} early stopping`}), inner validation ${innerValidation.customerIds.length}, test ${test.customerIds.length}`,
  );
  console.log(
    `  architecture ${JSON.stringify({ ...metadata.architecture, kind: undefined })}, epochs ${metadata.training.epochsRun} (best ${metadata.training.bestEpoch}), logistic baseline blended in at share ${metadata.training.baselineShare ?? 0} (chosen on inner validation)`,
  );
  console.log(
    `  INNER validation  model ROC AUC ${fmt(result.metrics.rocAuc)}  PR AUC ${fmt(result.metrics.prAuc)}  ECE ${fmt(result.metrics.ece)} | baseline ROC AUC ${fmt(result.baselineMetrics.rocAuc)}  PR AUC ${fmt(result.baselineMetrics.prAuc)}`,
  );
  console.log(
    `  TEST              model ROC AUC ${fmt(testAuc)}  PR AUC ${fmt(prAuc(labels, modelRisk))} | LR baseline ROC AUC ${fmt(baselineAuc)}  PR AUC ${fmt(prAuc(labels, baselineRisk))} | model/baseline AUC ratio ${fmt(testAuc / baselineAuc, 3)}`,
  );
  const versus = (other: ArrayLike<number>) => {
    const d = aucDifference(labels, modelRisk, other);
    return `${d.difference >= 0 ? '+' : ''}${fmt(d.difference)} [${fmt(d.low)}, ${fmt(d.high)}]: ${d.verdict}`;
  };
  console.log(`  TEST              model − LR baseline ROC AUC ${versus(baselineRisk)} (95%, paired bootstrap of the test rows)`);
  if (gbt && gbtAuc !== undefined) {
    console.log(`  TEST              model − XGBoost ROC AUC ${versus(gbt.testRisk)} (95%, paired bootstrap of the test rows)`);
    console.log(
      `  TEST              XGBoost ROC AUC ${fmt(gbtAuc)}  PR AUC ${fmt(prAuc(labels, gbt.testRisk))} (depth ${gbt.params.maxDepth}, ${gbt.params.rounds} rounds, eta ${gbt.params.eta}: chosen on inner validation, ${fmt(gbt.innerValidationAuc)}; ${fmt(gbt.trainingMs / 1000, 1)} s for the grid) | model/XGBoost AUC ratio ${fmt(testAuc / gbtAuc, 3)}`,
    );
  }
  const t = result.timings;
  console.log(
    `  training ${fmt(result.trainingMs / 1000, 2)} s on ${tf.getBackend()} (MLP and baseline: preprocessing ${fmt(t.preprocessingMs / 1000, 2)} s, fit ${fmt(t.fitMs / 1000, 2)} s, calibration ${fmt(t.calibrationMs / 1000, 2)} s)${gbt ? ` | one XGBoost fit (ml-xgboost, WebAssembly, depth ${gbt.params.maxDepth}, ${gbt.params.rounds} rounds) ${fmt(gbt.singleFitMs / 1000, 2)} s | training ratio ${fmt(result.trainingMs / gbt.singleFitMs, 1)}× (target ≤ ${TRAIN_RATIO_TARGET}×)` : ''}`,
  );
  if (speed && cpuSpeed) {
    console.log(
      `  scoring on ${tf.getBackend()}: risk ${human(speed.predict)} rows/s, risk + 3 drivers (DeepLIFT) for every row ${human(speed.score)} rows/s | cpu backend: ${human(cpuSpeed.predict)} / ${human(cpuSpeed.score)} rows/s | ${tf.getBackend()}/cpu ratio ${fmt(speed.predict / cpuSpeed.predict, 1)}× / ${fmt(speed.score / cpuSpeed.score, 1)}×`,
    );
  }
  let met = 0;
  let checked = 0;
  if (spec.target !== undefined) {
    checked++;
    const pass = testAuc >= spec.target;
    if (pass) met++;
    console.log(`  ${pass ? 'PASS' : 'MISS'} test ROC AUC ${fmt(testAuc)} ≥ ${spec.target} (reference: ${spec.reference})`);
  }
  if (gbt) {
    checked++;
    const pass = result.trainingMs <= TRAIN_RATIO_TARGET * gbt.singleFitMs;
    if (pass) met++;
    console.log(
      `  ${pass ? 'PASS' : 'MISS'} training ${fmt(result.trainingMs / gbt.singleFitMs, 1)}× one XGBoost fit ≤ ${TRAIN_RATIO_TARGET}×`,
    );
  }
  result.model.dispose();
  baseline.dispose();
  return {
    key,
    testAuc,
    baselineAuc,
    ...(gbtAuc === undefined ? {} : { gbtAuc }),
    trainingMs: result.trainingMs,
    ...(gbt ? { gbtFitMs: gbt.singleFitMs } : {}),
    met,
    checked,
  };
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
const results: DatasetResult[] = [];
for (const key of keys) {
  const spec = DATASETS[key];
  if (!spec) throw new Error(`unknown --dataset ${key}; choose ${Object.keys(DATASETS).join(' or ')}`);
  results.push(await runDataset(key, spec, values));
}
console.log('\ndata set   | model | LR     | XGBoost | model/XGBoost | training / one XGBoost fit');
for (const r of results) {
  const cell = (v: number | undefined, digits = 4) => (v === undefined ? '  -   ' : fmt(v, digits));
  console.log(
    `${r.key.padEnd(10)} | ${fmt(r.testAuc)} | ${fmt(r.baselineAuc)} | ${cell(r.gbtAuc)}  | ${r.gbtAuc ? fmt(r.testAuc / r.gbtAuc, 3) : '-'}         | ${r.gbtFitMs ? `${fmt(r.trainingMs / r.gbtFitMs, 1)}× (${fmt(r.trainingMs / 1000, 1)} s vs ${fmt(r.gbtFitMs / 1000, 2)} s)` : '-'}`,
  );
}
const met = results.reduce((n, r) => n + r.met, 0);
const checked = results.reduce((n, r) => n + r.checked, 0);
console.log(
  `\n${met === checked ? 'PASS' : 'MISS'}: ${met} of ${checked} targets met (test ROC AUC targets; training ≤ ${TRAIN_RATIO_TARGET}× one XGBoost fit)`,
);
