import type { Command } from 'commander';
import Table from 'cli-table3';
import { z } from 'zod';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { BaseEnv, parseEnv } from '../../adapters/aws/env.ts';
import { scanCustomerHistories } from '../../adapters/aws/customerScan.ts';
import { S3ModelRegistry } from '../../adapters/aws/modelRegistry.ts';
import { formatChurnDefinition, parseChurnOption, parseDuration } from '../../model/features/churnDefinition.ts';
import { buildDatasets } from '../../model/features/datasets.ts';
import { streamHistories, type CustomerHistory } from '../../model/features/history.ts';
import { parseInstant } from '../../model/features/time.ts';
import { parseOptions } from '../../model/validation.ts';
import { initBackend } from '../../model/nn/backend.ts';
import { fingerprintMatrices } from '../../model/nn/fingerprint.ts';
import { trainChurnModel } from '../../model/nn/trainChurnModel.ts';
import type { ModelMetrics } from '../../model/nn/metricSchemas.ts';
import { dataDirOption, jsonOption, withLocalStack, horizonOption, churnOption, segmentsOption } from '../options.ts';

const say = (message: string) => console.error(`churnguard: ${message}`);

/** Options shared by `train` and `score`: the moment and the churn definition. */
export const PointInTimeOptions = z.object({
  asOf: z.string().optional(),
  horizon: z.string().default('30d'),
  churn: z.string().default('cancelled'),
  segments: z.coerce.number({ error: '--segments must be a number' }).int().min(1, '--segments must be at least 1').default(4),
  dataDir: z.string().min(1),
  json: z.boolean().default(false),
});

/** Reads every customer's history from the events table (the local stack must be open). */
export async function loadHistories(segments: number): Promise<CustomerHistory[]> {
  const { TABLE_NAME } = parseEnv(BaseEnv);
  const histories: CustomerHistory[] = [];
  for await (const history of scanCustomerHistories(createAwsClients().documents, { tableName: TABLE_NAME, totalSegments: segments })) histories.push(history);
  return histories;
}

/**
 * The `--as-of` a user means when they give none: just after the latest stored event (+1 ms),
 * so that every stored event counts. "Now" would be wrong for imported or simulated history,
 * where nobody has been active for months. With live data the two are nearly the same.
 */
export function defaultAsOf(histories: readonly CustomerHistory[]): string {
  let latest = Number.NEGATIVE_INFINITY;
  for (const h of histories) for (const e of h.events) latest = Math.max(latest, Date.parse(e.occurredAt));
  if (!Number.isFinite(latest)) throw new Error('no events are stored yet: ingest or import events first (see `churnguard ingest`, `churnguard import`)');
  return new Date(latest + 1).toISOString();
}

const TrainOptions = PointInTimeOptions.extend({
  seed: z.coerce.number({ error: '--seed must be a number' }).int().default(42),
  costLost: z.coerce.number({ error: '--cost-lost must be a number' }).positive('--cost-lost must be positive').default(500),
  costIntervention: z.coerce.number({ error: '--cost-intervention must be a number' }).positive('--cost-intervention must be positive').default(50),
});

const METRIC_ROWS: Array<[keyof ModelMetrics, string]> = [
  ['rocAuc', 'ROC AUC'], ['prAuc', 'PR AUC'], ['logLoss', 'log loss'], ['brier', 'Brier'], ['ece', 'ECE'],
  ['topDecileLift', 'top-decile lift'], ['topDecileRecall', 'top-decile recall'], ['threshold', 'cost threshold'],
  ['precisionAtThreshold', 'precision @ threshold'], ['recallAtThreshold', 'recall @ threshold'], ['rows', 'validation rows'], ['positives', 'validation churners'],
];

/** A table of the model's and the baseline's validation metrics. */
export function metricsTable(model: ModelMetrics, baseline: ModelMetrics): string {
  const table = new Table({ head: ['validation metric', 'MLP (calibrated)', 'logistic baseline'] });
  const cell = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(4));
  for (const [key, label] of METRIC_ROWS) table.push([label, cell(model[key]), cell(baseline[key])]);
  return table.toString();
}

async function train(raw: unknown): Promise<void> {
  const o = parseOptions(TrainOptions, raw, 'options of churnguard train');
  const horizonDays = parseDuration(o.horizon);
  const churn = parseChurnOption(o.churn);
  await withLocalStack(o.dataDir, async () => {
    const histories = await loadHistories(o.segments);
    const asOf = o.asOf ? parseInstant(o.asOf, '--as-of') : defaultAsOf(histories);
    say(`${histories.length} customers; training as of ${asOf}, churn = ${formatChurnDefinition(churn)} within ${horizonDays} days`);
    const datasets = await buildDatasets(streamHistories(histories), { asOf, horizonDays, churn });
    await initBackend(say);
    const result = await trainChurnModel(datasets.train, datasets.validation, {
      seed: o.seed, costLostCustomer: o.costLost, costIntervention: o.costIntervention, log: say,
    });
    try {
      const { s3 } = createAwsClients();
      const registry = new S3ModelRegistry(s3, parseEnv(BaseEnv).BUCKET_NAME);
      const cutoffs = [...datasets.cutoffs.training].sort();
      const decision = await registry.register(result, {
        trainingWindow: { from: cutoffs[0] ?? datasets.cutoffs.validation, to: datasets.cutoffs.validation, cutoffs: [...cutoffs, datasets.cutoffs.validation], horizonDays },
        dataFingerprint: fingerprintMatrices(datasets.train, datasets.validation),
      });
      if (o.json) {
        console.log(JSON.stringify({ asOf, ...decision, backend: result.backend, trainingMs: Math.round(result.trainingMs), metrics: result.metrics, baselineMetrics: result.baselineMetrics, cutoffs: datasets.cutoffs }, null, 2));
        return;
      }
      console.log(`model ${decision.challengerVersion ?? decision.version} (trained on ${result.backend} in ${(result.trainingMs / 1000).toFixed(1)} s, validation cutoff ${datasets.cutoffs.validation})`);
      console.log(metricsTable(result.metrics, result.baselineMetrics));
      const champion = decision.kind === 'logistic' ? `CHAMPION (the logistic baseline ${decision.version})` : 'CHAMPION';
      console.log(`${decision.promoted ? champion : 'NOT PROMOTED'}: ${decision.reason}`);
    } finally {
      result.model.dispose();
    }
  });
}

/** `churnguard train`: scan → datasets → train MLP + baseline → register (champion or challenger). */
export function register(program: Command): void {
  program
    .command('train')
    .description('train a churn model on the stored events, compare it with a logistic baseline and the champion, and register it')
    .option('--as-of <date>', 'the present for training (YYYY-MM-DD or ISO 8601; default: just after the latest stored event)')
    .addOption(horizonOption())
    .addOption(churnOption())
    .option('--seed <n>', 'random seed (same data + seed = same model)', '42')
    .option('--cost-lost <amount>', 'cost of losing a customer the model missed', '500')
    .option('--cost-intervention <amount>', 'cost of one retention intervention', '50')
    .addOption(segmentsOption())
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((options: unknown) => train(options));
}
