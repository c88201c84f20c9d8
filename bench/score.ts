/**
 * Scoring at scale (issue 15): 100k and 1M feature rows, synthetic but drawn from the simulator's
 * distributions (rows of a simulated business's scoring matrix, resampled), scored by a model
 * trained on that business. Each size runs in a child process of its own, so its peak memory
 * (max RSS) is its own.
 *
 *   npm run bench:score
 *   npm run bench:score -- --sizes 100000            # one size
 *
 * Per size: the time to compute every customer's calibrated risk, and the time of the job's
 * scoring (`ChurnModel.score`: risk for all, drivers for the high and medium bands). Baseline in
 * the same run: the attribution method scoring used before (integrated gradients, 24 steps) on a
 * sample, against today's DeepLIFT on the same rows.
 */
import { fork } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildDatasets } from '../model/features/datasets.ts';
import { streamHistories } from '../model/features/history.ts';
import type { FeatureMatrix } from '../model/features/matrix.ts';
import { initBackend } from '../model/nn/backend.ts';
import { ChurnModel, type ModelArtifacts } from '../model/nn/churnModel.ts';
import { deepLiftAttributions } from '../model/nn/inference.ts';
import { seededRandom } from '../model/nn/random.ts';
import { selectRows } from '../model/nn/rows.ts';
import { flatOf } from '../model/nn/towers.ts';
import { trainChurnModel } from '../model/nn/trainChurnModel.ts';
import { simulateBusiness } from '../model/simulate/index.ts';
import { integratedGradients } from '../test/helpers/integratedGradients.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000' },
    customers: { type: 'string', default: '3000' },
    child: { type: 'string' },
    dir: { type: 'string' },
  },
});

/** The scoring matrix of a simulated business at its end, and its training datasets. */
async function simulatedBusiness(customers: number) {
  const business = simulateBusiness({ customers, days: 180, seed: 15 });
  const byCustomer = new Map<string, typeof business.events>();
  for (const event of business.events) byCustomer.set(event.customerId, [...(byCustomer.get(event.customerId) ?? []), event]);
  const histories = [...byCustomer].map(([customerId, events]) => ({ customerId, events }));
  return buildDatasets(streamHistories(histories), { asOf: business.window.end, horizonDays: 30, churn: { kind: 'cancelled' } });
}

/** `rows` rows resampled (seeded) from `base`: the same columns and the same joint distribution of values. */
function resample(base: FeatureMatrix, rows: number, seed: number): FeatureMatrix {
  const random = seededRandom(seed);
  const nNum = base.numericColumns.length;
  const nCat = base.categoricalColumns.length;
  const numeric = new Float64Array(rows * nNum);
  const categorical = new Int32Array(rows * nCat);
  const mrrCents = new Float64Array(rows);
  const customerIds: string[] = new Array(rows);
  const count = base.customerIds.length;
  for (let r = 0; r < rows; r++) {
    const from = Math.floor(random() * count);
    numeric.set(base.numeric.subarray(from * nNum, (from + 1) * nNum), r * nNum);
    categorical.set(base.categorical.subarray(from * nCat, (from + 1) * nCat), r * nCat);
    mrrCents[r] = base.mrrCents[from] as number;
    customerIds[r] = `syn-${r}`;
  }
  return { ...base, customerIds, numeric, categorical, mrrCents, labels: new Int8Array(rows).fill(-1) };
}

const perSecond = (rows: number, ms: number) => Math.round(rows / (ms / 1000)).toLocaleString('en-US');

/** One size, in a child process: prints a JSON line with the timings and the peak RSS. */
async function child(size: number, dir: string): Promise<void> {
  await initBackend(() => {});
  const { scoring } = await simulatedBusiness(Number(args.customers));
  const artifacts = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as {
    modelJson: string;
    weights: number[];
    metadata: ModelArtifacts['metadata'];
  };
  const model = await ChurnModel.fromArtifacts({
    modelJson: new TextEncoder().encode(artifacts.modelJson),
    weights: Uint8Array.from(artifacts.weights),
    metadata: artifacts.metadata,
  });
  const matrix = resample(scoring, size, 7);
  let started = performance.now();
  const risk = model.predict(matrix);
  const riskMs = performance.now() - started;
  started = performance.now();
  const scored = model.score(matrix);
  const scoreMs = performance.now() - started;
  const atRisk = selectRows(
    matrix,
    scored.flatMap((c, r) => (c.driversNote === undefined ? [r] : [])),
  );
  started = performance.now();
  model.score(atRisk, { explainFrom: 0 });
  const explainedMs = performance.now() - started;
  const explained = atRisk.customerIds.length;
  console.log(
    JSON.stringify({
      size,
      riskMs,
      scoreMs,
      explained,
      explainedMs,
      meanRisk: risk.reduce((a, b) => a + b, 0) / size,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
  model.dispose();
}

async function main(): Promise<void> {
  await initBackend(() => {});
  const dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-bench-score-'));
  try {
    const datasets = await simulatedBusiness(Number(args.customers));
    const trained = await trainChurnModel(datasets.train, datasets.validation, { seed: 15 });
    const artifacts = await trained.model.toArtifacts();
    await writeFile(
      path.join(dir, 'model.json'),
      JSON.stringify({
        modelJson: new TextDecoder().decode(artifacts.modelJson),
        weights: Array.from(artifacts.weights),
        metadata: artifacts.metadata,
      }),
    );
    console.log(
      `model: ${trained.model.version} trained on ${datasets.train.customerIds.length} rows of a simulated business (${args.customers} customers, 180 days), ${trained.model.metadata.preprocessing.inputs.length} inputs, validation ROC AUC ${trained.metrics.rocAuc.toFixed(3)}`,
    );
    baselineDrivers(trained.model, resample(datasets.scoring, 2_000, 3));
    trained.model.dispose();
    for (const size of args.sizes.split(',').map(Number)) {
      const line = await runChild(size, dir);
      console.log(
        `${size.toLocaleString('en-US')} rows: risk ${(line.riskMs / 1000).toFixed(2)} s (${perSecond(size, line.riskMs)} rows/s, target ≥ 200,000); job scoring (risk for all, drivers for the ${line.explained.toLocaleString('en-US')} high and medium) ${(line.scoreMs / 1000).toFixed(2)} s (${perSecond(size, line.scoreMs)} rows/s); risk + drivers of the high and medium alone ${perSecond(line.explained, line.explainedMs)} rows/s (target ≥ 20,000); peak memory ${Math.round(line.maxRssMb).toLocaleString('en-US')} MB`,
      );
      if (size === 1_000_000) {
        const ok = line.scoreMs <= 120_000 && line.maxRssMb <= 3_072;
        console.log(`1M rows: ${ok ? 'met' : 'MISSED'} the target (≤ 2 min, ≤ 3 GB)`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The same-run baseline: integrated gradients (24 steps), the drivers' method before, against DeepLIFT on the same rows. */
function baselineDrivers(model: ChurnModel, rows: FeatureMatrix): void {
  const dense = model.inputs(rows);
  const { layout, flat } = flatOf(model.network);
  let started = performance.now();
  deepLiftAttributions(layout, flat, dense, model.metadata.preprocessing.baseline);
  const deepLiftMs = performance.now() - started;
  started = performance.now();
  integratedGradients(model.network, dense, model.metadata.preprocessing.baseline, 24);
  const igMs = performance.now() - started;
  console.log(
    `drivers on ${rows.customerIds.length.toLocaleString('en-US')} rows: DeepLIFT ${perSecond(rows.customerIds.length, deepLiftMs)} rows/s; baseline integrated gradients (24 steps) ${perSecond(rows.customerIds.length, igMs)} rows/s; ratio ${(igMs / deepLiftMs).toFixed(1)}×`,
  );
}

function runChild(
  size: number,
  dir: string,
): Promise<{ riskMs: number; scoreMs: number; explained: number; explainedMs: number; maxRssMb: number }> {
  return new Promise((resolve, reject) => {
    const worker = fork(new URL(import.meta.url).pathname, ['--child', String(size), '--dir', dir, '--customers', args.customers], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      execArgv: ['--import', 'tsx'],
    });
    let out = '';
    worker.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`scoring ${size} rows failed (exit ${code}): ${out}`));
      else resolve(JSON.parse(line));
    });
  });
}

if (args.child) await child(Number(args.child), args.dir as string);
else await main();
