import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import Table from 'cli-table3';
import { z } from 'zod';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { BaseEnv, parseEnv } from '../../adapters/aws/env.ts';
import { S3ModelRegistry } from '../../adapters/aws/modelRegistry.ts';
import { parseChurnOption, parseDuration } from '../../model/features/churnDefinition.ts';
import { buildFeatureMatrix } from '../../model/features/datasets.ts';
import { streamHistories } from '../../model/features/history.ts';
import { parseInstant } from '../../model/features/time.ts';
import { parseOptions } from '../../model/validation.ts';
import { initBackend } from '../../model/nn/backend.ts';
import type { ScoredCustomer } from '../../model/scoring.ts';
import { dataDirOption, jsonOption, withLocalStack, horizonOption, churnOption, segmentsOption } from '../options.ts';
import { defaultAsOf, loadHistories, PointInTimeOptions } from './train.ts';

const say = (message: string) => console.error(`churnguard: ${message}`);

const ScoreOptions = PointInTimeOptions.extend({ out: z.string().min(1).optional() });

const csvField = (value: string | number): string => {
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** CSV of scored customers: customerId, risk, band, driver_1..3 (sentences), modelVersion. */
export function scoresCsv(scored: readonly ScoredCustomer[]): string {
  const lines = ['customerId,risk,band,driver_1,driver_2,driver_3,modelVersion'];
  for (const c of scored) {
    const drivers = [0, 1, 2].map((k) => c.drivers[k]?.sentence ?? '');
    lines.push([c.customerId, c.risk.toFixed(6), c.band, ...drivers, c.modelVersion].map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

async function score(raw: unknown): Promise<void> {
  const o = parseOptions(ScoreOptions, raw, 'options of churnguard score');
  const horizonDays = parseDuration(o.horizon);
  const churn = parseChurnOption(o.churn);
  await withLocalStack(o.dataDir, async () => {
    await initBackend(say);
    const registry = new S3ModelRegistry(createAwsClients().s3, parseEnv(BaseEnv).BUCKET_NAME);
    const model = await registry.loadChampion();
    if (!model) throw new Error('no champion model yet: run `churnguard train` first');
    try {
      const histories = await loadHistories(o.segments);
      const asOf = o.asOf ? parseInstant(o.asOf, '--as-of') : defaultAsOf(histories);
      const matrix = await buildFeatureMatrix(streamHistories(histories), asOf, { horizonDays, churn });
      say(`scoring ${matrix.customerIds.length} active customers as of ${asOf} with ${model.version}`);
      const scored = matrix.customerIds.length === 0 ? [] : model.score(matrix).sort((a, b) => b.risk - a.risk);
      if (o.out) {
        await writeFile(o.out, scoresCsv(scored));
        say(`wrote ${scored.length} rows to ${o.out}`);
      }
      if (o.json) {
        console.log(JSON.stringify({ asOf, modelVersion: model.version, threshold: model.threshold, customers: scored }, null, 2));
        return;
      }
      const bands = { high: 0, medium: 0, low: 0 };
      for (const c of scored) bands[c.band]++;
      console.log(`${scored.length} customers scored as of ${asOf} by ${model.version} (threshold ${model.threshold.toFixed(3)}): ${bands.high} high, ${bands.medium} medium, ${bands.low} low`);
      const table = new Table({ head: ['customer', 'risk', 'band', 'top drivers'], colWidths: [20, 8, 8, 70], wordWrap: true });
      for (const c of scored.slice(0, 15)) table.push([c.customerId, c.risk.toFixed(3), c.band, c.drivers.map((d) => d.sentence).join('; ')]);
      if (scored.length > 0) console.log(table.toString());
    } finally {
      model.dispose();
    }
  });
}

/** `churnguard score`: the champion scores every active customer; CSV with --out. */
export function register(program: Command): void {
  program
    .command('score')
    .description('score every active customer with the champion model (risk, band, top 3 drivers)')
    .option('--as-of <date>', 'the present for scoring (YYYY-MM-DD or ISO 8601; default: just after the latest stored event)')
    .option('--out <file>', 'write a CSV: customerId, risk, band, driver_1..3, modelVersion')
    .addOption(horizonOption('churn horizon the model predicts'))
    .addOption(churnOption('cancelled | inactive:<days>d (decides who is still active)'))
    .addOption(segmentsOption())
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((options: unknown) => score(options));
}
