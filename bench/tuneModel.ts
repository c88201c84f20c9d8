/**
 * Tuning harness of the churn model: stratified k-fold cross-validation on the benchmark's 80%
 * (bench/model.ts), never on its TEST split. Each fold trains MLP and baseline on k−1 folds and
 * scores the held-out fold; prints mean ± sd of ROC AUC per model.
 *
 *   npm run bench:tune -- --dataset orange --folds 5 --segments 8 --hidden 64,32
 */
import { parseArgs } from 'node:util';
import { initBackend } from '../model/nn/backend.ts';
import { ChurnModel } from '../model/nn/churnModel.ts';
import { rocAuc } from '../model/nn/metrics.ts';
import { seededRandom, shuffleInPlace } from '../model/nn/random.ts';
import { selectRows } from '../model/nn/rows.ts';
import { trainChurnModel } from '../model/nn/trainChurnModel.ts';
import { architectureOptions, baselineArchitectureOptions, preprocessingOptions, TUNING_FLAGS } from './cliOverrides.ts';
import { benchmarkSplit, DATASETS, matrixFromCsv } from './datasets.ts';

/** Fold number (0..folds−1) of every row, stratified by label and seeded. */
export function stratifiedFolds(labels: ArrayLike<number>, folds: number, seed: number): Int32Array {
  const random = seededRandom(seed);
  const fold = new Int32Array(labels.length);
  for (const label of [0, 1]) {
    const rows = shuffleInPlace(
      Array.from({ length: labels.length }, (_, i) => i).filter((i) => labels[i] === label),
      random,
    );
    rows.forEach((row, k) => {
      fold[row] = k % folds;
    });
  }
  return fold;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

const { values } = parseArgs({
  options: {
    ...TUNING_FLAGS,
    dataset: { type: 'string' },
    folds: { type: 'string' },
    repeats: { type: 'string' },
    drop: { type: 'string' },
  },
});
await initBackend();
const spec = DATASETS[values.dataset ?? 'telco'];
if (!spec) throw new Error(`unknown --dataset ${values.dataset}; choose ${Object.keys(DATASETS).join(' or ')}`);
const { rest } = benchmarkSplit(
  matrixFromCsv({ ...spec, dropColumns: [...spec.dropColumns, ...(values.drop ? values.drop.split(',') : [])] }),
);
const folds = Number(values.folds ?? 5);
const repeats = Number(values.repeats ?? 1);
const model: number[] = [];
const baseline: number[] = [];
const started = performance.now();
for (let repeat = 0; repeat < repeats; repeat++) {
  const foldOf = stratifiedFolds(rest.labels, folds, 7 + repeat);
  for (let k = 0; k < folds; k++) {
    const rows = Array.from({ length: rest.labels.length }, (_, i) => i);
    const train = selectRows(
      rest,
      rows.filter((i) => foldOf[i] !== k),
    );
    const validation = selectRows(
      rest,
      rows.filter((i) => foldOf[i] === k),
    );
    const result = await trainChurnModel(train, validation, {
      seed: 100 * repeat + k,
      architecture: architectureOptions(values),
      baselineArchitecture: baselineArchitectureOptions(values),
      preprocessing: preprocessingOptions(values),
    });
    const lr = await ChurnModel.fromArtifacts(result.baseline);
    model.push(rocAuc(validation.labels, result.model.predict(validation)));
    baseline.push(rocAuc(validation.labels, lr.predict(validation)));
    result.model.dispose();
    lr.dispose();
    console.error(`  fold ${repeat}.${k}: model ${model.at(-1)?.toFixed(4)} baseline ${baseline.at(-1)?.toFixed(4)}`);
  }
}
console.log(
  `${values.dataset ?? 'telco'} ${JSON.stringify({ ...architectureOptions(values), ...preprocessingOptions(values), baseline: baselineArchitectureOptions(values) })}: ${repeats}×${folds}-fold CV ROC AUC model ${mean(model).toFixed(4)} ± ${sd(model).toFixed(4)} | baseline ${mean(baseline).toFixed(4)} ± ${sd(baseline).toFixed(4)} | ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
