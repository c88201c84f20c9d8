import Table from 'cli-table3';
import type { Command } from 'commander';
import { z } from 'zod';
import { runJob } from '../../app/job.ts';
import type { Training } from '../../app/trainModel.ts';
import type { ModelMetrics } from '../../model/nn/metricSchemas.ts';
import { parseOptions } from '../../model/validation.ts';
import { withLocalJob } from '../localJob.ts';
import { PointInTimeFlags, pointInTimeOverrides, withPointInTimeOptions } from '../options.ts';

const TrainOptions = PointInTimeFlags.extend({
  seed: z.coerce.number({ error: '--seed must be a number' }).int().optional(),
  costLost: z.coerce.number({ error: '--cost-lost must be a number' }).positive('--cost-lost must be positive').optional(),
  costIntervention: z.coerce
    .number({ error: '--cost-intervention must be a number' })
    .positive('--cost-intervention must be positive')
    .optional(),
  runId: z.string().optional(),
});

const METRIC_ROWS: Array<[keyof ModelMetrics, string]> = [
  ['rocAuc', 'ROC AUC'],
  ['prAuc', 'PR AUC'],
  ['logLoss', 'log loss'],
  ['brier', 'Brier'],
  ['ece', 'ECE'],
  ['topDecileLift', 'top-decile lift'],
  ['topDecileRecall', 'top-decile recall'],
  ['threshold', 'cost threshold'],
  ['precisionAtThreshold', 'precision @ threshold'],
  ['recallAtThreshold', 'recall @ threshold'],
  ['rows', 'validation rows'],
  ['positives', 'validation churners'],
];

/** A table of the model's and the baseline's validation metrics. */
export function metricsTable(model: ModelMetrics, baseline: ModelMetrics): string {
  const table = new Table({ head: ['validation metric', 'MLP (calibrated)', 'logistic baseline'] });
  const cell = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(4));
  for (const [key, label] of METRIC_ROWS) table.push([label, cell(model[key]), cell(baseline[key])]);
  return table.toString();
}

/** One line: where the training run's time went. */
export function timeSplit(t: NonNullable<Training['timings']>): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return `time: scan ${s(t.scanMs)}, features ${s(t.featuresMs)}, fit ${s(t.fitMs)}, calibration ${s(t.calibrationMs)}, registry ${s(t.registryMs)}`;
}

/** What `train --json` prints: the training decision of the run. */
export const trainingJson = (asOf: string, runId: string, t: Training) => ({
  asOf,
  runId,
  version: t.candidateVersion,
  kind: t.kind,
  promoted: t.promoted,
  reason: t.reason,
  ...(t.challengerVersion ? { challengerVersion: t.challengerVersion } : {}),
  dataFingerprint: t.dataFingerprint,
  backend: t.backend,
  trainingMs: t.trainingMs,
  timings: t.timings,
  cutoffs: t.cutoffs,
  metrics: t.model,
  baselineMetrics: t.baseline,
});

/**
 * `churnguard train` is the job's `train` mode (`churnguard run --mode train`): the same code, so
 * the same data gives the same model version, metrics and fingerprint either way.
 */
async function train(raw: unknown): Promise<void> {
  const o = parseOptions(TrainOptions, raw, 'options of churnguard train');
  const overrides = { ...pointInTimeOverrides(o), seed: o.seed, costLostCustomer: o.costLost, costIntervention: o.costIntervention };
  const { summary } = await withLocalJob(o.dataDir, overrides, (deps) =>
    runJob({ mode: 'train', ...(o.asOf ? { asOf: o.asOf } : {}), ...(o.runId ? { runId: o.runId } : {}) }, deps),
  );
  const t = summary.training;
  if (!t) throw new Error(`run ${summary.runId} recorded no training`);
  if (o.json) {
    console.log(JSON.stringify(trainingJson(summary.asOf, summary.runId, t), null, 2));
    return;
  }
  const took = t.trainingMs === undefined ? '' : ` in ${(t.trainingMs / 1000).toFixed(1)} s`;
  console.log(
    `model ${t.challengerVersion ?? t.candidateVersion} (run ${summary.runId}, as of ${summary.asOf}; trained on ${t.backend}${took}, validation cutoff ${t.cutoffs?.validation ?? '?'})`,
  );
  console.log(metricsTable(t.model, t.baseline));
  if (t.timings) console.log(timeSplit(t.timings));
  const champion = t.kind === 'logistic' ? `CHAMPION (the logistic baseline ${t.candidateVersion})` : 'CHAMPION';
  console.log(`${t.promoted ? champion : 'NOT PROMOTED'}: ${t.reason}`);
}

/** `churnguard train`: scan → datasets → train MLP + baseline → register (champion or challenger). */
export function register(program: Command): void {
  const command = program
    .command('train')
    .description('train a churn model on the stored events, compare it with a logistic baseline and the champion, and register it')
    .option('--seed <n>', 'random seed: the same data, settings and seed give the same model (default 42)')
    .option('--cost-lost <amount>', 'cost of losing a customer the model missed (default 500, env COST_LOST_CUSTOMER)')
    .option('--cost-intervention <amount>', 'cost of one retention intervention (default 50, env COST_INTERVENTION)')
    .option('--run-id <id>', 'run id (default train-<as-of day>: training the same data again reuses the decision)');
  withPointInTimeOptions(command, { asOf: 'the present for training' }).action((options: unknown) => train(options));
}
