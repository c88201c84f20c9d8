import { writeFile } from 'node:fs/promises';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { z } from 'zod';
import { scoreCustomers } from '../../app/scoreCustomers.ts';
import type { ScoredCustomer } from '../../model/scoring.ts';
import { parseOptions } from '../../model/validation.ts';
import { say, withLocalJob } from '../localJob.ts';
import {
  asOfOption,
  churnOption,
  dataDirOption,
  horizonOption,
  jsonOption,
  PointInTimeFlags,
  pointInTimeOverrides,
  segmentsOption,
} from '../options.ts';

const ScoreOptions = PointInTimeFlags.extend({ out: z.string().min(1).optional() });

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
  const result = await withLocalJob(o.dataDir, pointInTimeOverrides(o), (deps) => scoreCustomers({ asOf: o.asOf }, deps));
  const { asOf, modelVersion, threshold, customers } = result;
  if (o.out) {
    await writeFile(o.out, scoresCsv(customers));
    say(`wrote ${customers.length} rows to ${o.out}`);
  }
  if (o.json) {
    console.log(JSON.stringify({ asOf, modelVersion, threshold, customers }, null, 2));
    return;
  }
  const bands = { high: 0, medium: 0, low: 0 };
  for (const c of customers) bands[c.band]++;
  console.log(
    `${customers.length} customers scored as of ${asOf} by ${modelVersion} (threshold ${threshold.toFixed(3)}): ${bands.high} high, ${bands.medium} medium, ${bands.low} low`,
  );
  const table = new Table({ head: ['customer', 'risk', 'band', 'top drivers'], colWidths: [20, 8, 8, 70], wordWrap: true });
  for (const c of customers.slice(0, 15))
    table.push([c.customerId, c.risk.toFixed(3), c.band, c.drivers.map((d) => d.sentence).join('; ')]);
  if (customers.length > 0) console.log(table.toString());
}

/** `churnguard score`: the champion scores every active customer; CSV with --out. */
export function register(program: Command): void {
  program
    .command('score')
    .description('score every active customer with the champion model (risk, band, top 3 drivers)')
    .addOption(asOfOption('the present for scoring'))
    .option('--out <file>', 'write a CSV: customerId, risk, band, driver_1..3, modelVersion')
    .addOption(horizonOption("churn horizon (default: the champion's; another one is an error)"))
    .addOption(churnOption("cancelled | inactive:<days>d: decides who is still active (default: the champion's; another one is an error)"))
    .addOption(segmentsOption())
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((options: unknown) => score(options));
}
