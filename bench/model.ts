/**
 * Quality and speed bar of the churn model on two public data sets (issue 4).
 *
 *   npm run bench:model                       # both data sets
 *   npm run bench:model -- --dataset orange   # one
 *   npm run bench:model -- --hidden 64,32 --dropout 0.2 --l2 1e-4 --lr 0.003   # tuning (read the INNER validation figures)
 *   npm run bench:model -- --ensemble 5 --refit false --minCategoryShare 0 --quick true   # (--quick: no speed figures)
 *
 * Each data set: a fixed, seeded, stratified 80/20 split by customer (TEST = the 20%); the 80% is
 * split again 80/20 into inner-train and inner-validation (early stopping uses a slice of
 * inner-train, calibration and threshold the inner validation). TEST is only used for the
 * figures checked against the targets. Speed is reported on the chosen backend and, as the
 * same-run baseline, on the plain-JavaScript cpu backend.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { parse } from 'csv-parse/sync';
import type { CategoricalColumn, FeatureMatrix, NumericColumn } from '../model/features/matrix.ts';
import { initBackend } from '../model/nn/backend.ts';
import { ChurnModel } from '../model/nn/churnModel.ts';
import { prAuc, rocAuc } from '../model/nn/metrics.ts';
import { stratifiedSplit } from '../model/nn/random.ts';
import { selectRows } from '../model/nn/rows.ts';
import { trainChurnModel } from '../model/nn/trainChurnModel.ts';

interface DatasetSpec {
  name: string;
  files: string[];
  idColumn?: string;
  labelColumn: string;
  isChurn: (value: string) => boolean;
  dropColumns: string[];
  target: number;
  reference: string;
}

const DATA = '/work/shared/data';
const DATASETS: Record<string, DatasetSpec> = {
  telco: {
    name: 'Telco (IBM)',
    files: [`${DATA}/telco_customer_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv`],
    idColumn: 'customerID',
    labelColumn: 'Churn',
    isChurn: (v) => v === 'Yes',
    dropColumns: [],
    target: 0.845,
    reference: 'GBT ≈0.84, LR ≈0.84',
  },
  orange: {
    name: 'Orange telecom (churn.txt, 3,333 rows)',
    files: [`${DATA}/orange_telecom_churn/churn.txt`],
    idColumn: 'Phone',
    labelColumn: 'Churn_',
    isChurn: (v) => v.startsWith('True'),
    dropColumns: [],
    target: 0.89,
    reference: 'GBT ≈0.89, LR ≈0.80',
  },
};

/** A FeatureMatrix straight from a CSV: all-number columns numeric (blank = missing), others categorical. */
export function matrixFromCsv(spec: DatasetSpec): FeatureMatrix {
  const records = spec.files.flatMap((file) => parse(readFileSync(file), { columns: true, skip_empty_lines: true, trim: false }) as Array<Record<string, string>>);
  const first = records[0];
  if (!first) throw new Error(`${spec.name}: no rows`);
  const names = Object.keys(first).filter((n) => n !== spec.idColumn && n !== spec.labelColumn && !spec.dropColumns.includes(n));
  const isNumeric = (name: string) => records.every((r) => (r[name] ?? '').trim() === '' || Number.isFinite(Number(r[name])));
  const numericNames = names.filter(isNumeric);
  const categoricalNames = names.filter((n) => !isNumeric(n));
  const numericColumns: NumericColumn[] = numericNames.map((name) => ({ kind: 'numeric', name, family: 'profile', description: name }));
  const categoricalColumns: CategoricalColumn[] = categoricalNames.map((name) => ({
    kind: 'categorical', name, family: 'profile', description: name,
    categories: [...new Set(records.map((r) => (r[name] ?? '').trim()).filter((v) => v !== ''))].sort(),
  }));
  const codeOf = categoricalColumns.map((c) => new Map(c.categories.map((v, i) => [v, i])));
  const numeric = new Float64Array(records.length * numericNames.length);
  const categorical = new Int32Array(records.length * categoricalNames.length);
  records.forEach((r, i) => {
    numericNames.forEach((n, j) => {
      const raw = (r[n] ?? '').trim();
      numeric[i * numericNames.length + j] = raw === '' ? Number.NaN : Number(raw);
    });
    categoricalNames.forEach((n, j) => {
      categorical[i * categoricalNames.length + j] = codeOf[j]?.get((r[n] ?? '').trim()) ?? -1;
    });
  });
  return {
    cutoff: '2026-01-01T00:00:00.000Z',
    customerIds: records.map((r, i) => (spec.idColumn ? (r[spec.idColumn] ?? `row-${i}`) : `row-${i}`)),
    numericColumns,
    categoricalColumns,
    numeric,
    categorical,
    labels: Int8Array.from(records, (r) => (spec.isChurn((r[spec.labelColumn] ?? '').trim()) ? 1 : 0)),
    mrrCents: new Float64Array(records.length).fill(Number.NaN),
  };
}

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
  const outer = stratifiedSplit(all.labels, 0.2, seed);
  const test = selectRows(all, outer.holdout);
  const rest = selectRows(all, outer.keep);
  const inner = stratifiedSplit(rest.labels, 0.2, seed + 1);
  const innerTrain = selectRows(rest, inner.keep);
  const innerValidation = selectRows(rest, inner.holdout);
  const architecture = {
    ...(options.hidden !== undefined ? { hidden: options.hidden === '' ? [] : options.hidden.split(',').map(Number) } : {}),
    ...(options.dropout !== undefined ? { dropout: Number(options.dropout) } : {}),
    ...(options.l2 !== undefined ? { l2: Number(options.l2) } : {}),
    ...(options.lr !== undefined ? { learningRate: Number(options.lr) } : {}),
    ...(options.batch !== undefined ? { batchSize: Number(options.batch) } : {}),
    ...(options.patience !== undefined ? { patience: Number(options.patience) } : {}),
    ...(options.ensemble !== undefined ? { ensemble: Number(options.ensemble) } : {}),
    ...(options.refit !== undefined ? { refit: options.refit === 'true' } : {}),
  };
  const result = await trainChurnModel(innerTrain, innerValidation, { seed, architecture, preprocessing: options.minCategoryShare !== undefined ? { minCategoryShare: Number(options.minCategoryShare) } : {}, log: (m) => console.error(`  [${key}] ${m}`) });
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

  console.log(`\n${spec.name}: ${all.customerIds.length} rows, ${result.model.metadata.preprocessing.inputs.length} inputs; train ${trainRows} (${result.model.metadata.architecture.refit ? `early stopping on ${result.model.metadata.training.earlyStoppingRows} of them, then a refit on all` : `+${result.model.metadata.training.earlyStoppingRows} early stopping`}), inner validation ${innerValidation.customerIds.length}, test ${test.customerIds.length}`);
  console.log(`  architecture ${JSON.stringify({ ...result.model.metadata.architecture, kind: undefined })}, epochs ${epochs} (best ${result.model.metadata.training.bestEpoch})`);
  console.log(`  INNER validation  model ROC AUC ${fmt(result.metrics.rocAuc)}  PR AUC ${fmt(result.metrics.prAuc)}  ECE ${fmt(result.metrics.ece)} | baseline ROC AUC ${fmt(result.baselineMetrics.rocAuc)}  PR AUC ${fmt(result.baselineMetrics.prAuc)}`);
  console.log(`  TEST              model ROC AUC ${fmt(testAuc)}  PR AUC ${fmt(prAuc(labels, modelRisk))} | LR baseline ROC AUC ${fmt(baselineAuc)}  PR AUC ${fmt(prAuc(labels, baselineRisk))} | model/baseline AUC ratio ${fmt(testAuc / baselineAuc, 3)}`);
  console.log(`  training ${fmt(result.trainingMs / 1000, 2)} s (MLP + baseline) on ${backend}: ${human(trainRows / (result.trainingMs / 1000))} rows/s end to end, ${human((trainRows * epochs) / (result.trainingMs / 1000))} row-epochs/s`);
  console.log(`  scoring on ${backend}: predict ${human(speed.predict)} rows/s, score with 3 drivers (IG 24 steps) ${human(speed.score)} rows/s | cpu baseline: ${human(cpuSpeed.predict)} / ${human(cpuSpeed.score)} rows/s | ${backend}/cpu ratio ${fmt(speed.predict / cpuSpeed.predict, 1)}× / ${fmt(speed.score / cpuSpeed.score, 1)}×`);
  const pass = testAuc >= spec.target;
  console.log(`  ${pass ? 'PASS' : 'MISS'} test ROC AUC ${fmt(testAuc)} ≥ ${spec.target} (reference: ${spec.reference})`);
  result.model.dispose();
  baseline.dispose();
  return pass;
}

const { values } = parseArgs({
  options: {
    dataset: { type: 'string' }, hidden: { type: 'string' }, dropout: { type: 'string' }, l2: { type: 'string' }, lr: { type: 'string' }, batch: { type: 'string' }, patience: { type: 'string' }, ensemble: { type: 'string' },
    refit: { type: 'string' }, minCategoryShare: { type: 'string' },
    /** `--quick true`: skip the speed measurements (tuning runs). */
    quick: { type: 'string' },
  },
});
await initBackend();
const keys = values.dataset ? [values.dataset] : Object.keys(DATASETS);
let allPass = true;
for (const key of keys) {
  const spec = DATASETS[key];
  if (!spec) throw new Error(`unknown --dataset ${key}; choose ${Object.keys(DATASETS).join(' or ')}`);
  allPass = (await runDataset(key, spec, values)) && allPass;
}
console.log(`\n${allPass ? 'PASS' : 'MISS'}: ${keys.length} quality target(s)`);
