import { writeFile } from 'node:fs/promises';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { z } from 'zod';
import { describeQuestion } from '../../app/modelDefinition.ts';
import { type Outcomes, scoreCustomers } from '../../app/scoreCustomers.ts';
import { csvText } from '../../model/csv.ts';
import { formatChurnDefinition } from '../../model/features/churnDefinition.ts';
import type { BandGuide } from '../../model/outreach/bands.ts';
import type { ScoredCustomer } from '../../model/scoring.ts';
import { parseOptions } from '../../model/validation.ts';
import { say, withLocalJob } from '../localJob.ts';
import { PointInTimeFlags, pointInTimeOverrides, withPointInTimeOptions } from '../options.ts';

const ScoreOptions = PointInTimeFlags.extend({ out: z.string().min(1).optional() });

/** CSV of scored customers: customerId, risk, band, driver_1..3 (sentences), modelVersion. */
export function scoresCsv(scored: readonly ScoredCustomer[]): string {
  const lines = ['customerId,risk,band,driver_1,driver_2,driver_3,modelVersion'];
  for (const c of scored) {
    const drivers = c.driversNote ? [c.driversNote, '', ''] : [0, 1, 2].map((k) => c.drivers[k]?.sentence ?? '');
    lines.push([csvText(c.customerId), c.risk.toFixed(6), c.band, ...drivers.map(csvText), csvText(c.modelVersion)].join(','));
  }
  return `${lines.join('\n')}\n`;
}

async function score(raw: unknown): Promise<void> {
  const o = parseOptions(ScoreOptions, raw, 'options of churnguard score');
  const result = await withLocalJob(o.dataDir, pointInTimeOverrides(o), (deps) => scoreCustomers({ asOf: o.asOf }, deps));
  const { asOf, modelVersion, threshold, customers, question, reach, bands, outcomes } = result;
  if (o.out) {
    await writeFile(o.out, scoresCsv(customers));
    say(`wrote ${customers.length} rows to ${o.out}`);
  }
  if (o.json) {
    const definition = { churn: formatChurnDefinition(question.churn), horizonDays: question.horizonDays };
    console.log(JSON.stringify({ asOf, modelVersion, ...definition, threshold, reach, bands, outcomes, customers }, null, 2));
    return;
  }
  console.log(
    `${customers.length} customers scored as of ${asOf} by ${modelVersion}: ${describeQuestion(question)} (the model's definition), cost threshold ${threshold.toFixed(3)}`,
  );
  console.log(bandsTable(bands, outcomes));
  if (outcomes)
    console.log(
      `what happened next: ${outcomes.churners} of ${outcomes.customers} churned; the risks rank them with ROC AUC ${outcomes.rocAuc.toFixed(4)}, PR AUC ${outcomes.prAuc.toFixed(4)}`,
    );
  const table = new Table({ head: ['customer', 'risk', 'band', 'top drivers'], colWidths: [20, 8, 8, 70], wordWrap: true });
  for (const c of customers.slice(0, 15))
    table.push([c.customerId, c.risk.toFixed(3), c.band, c.driversNote ?? c.drivers.map((d) => d.sentence).join('; ')]);
  if (customers.length > 0) console.log(table.toString());
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The bands: how many customers, what the band means, the churn the model expects, its lift, and what happened when known. */
export function bandsTable(bands: readonly BandGuide[], outcomes?: Outcomes): string {
  const head = ['band', 'customers', 'meaning', 'expected churn', 'lift', ...(outcomes ? ['churned', 'actual lift'] : [])];
  const table = new Table({ head, colWidths: [8, 11, 56, 10, 7, ...(outcomes ? [9, 8] : [])], wordWrap: true });
  for (const b of bands) {
    const actual = outcomes?.bands.find((a) => a.band === b.band);
    table.push([
      b.band,
      String(b.customers),
      b.meaning,
      pct(b.meanRisk),
      `${b.lift.toFixed(2)}×`,
      ...(outcomes
        ? [actual && actual.customers > 0 ? pct(actual.rate) : '–', actual && actual.customers > 0 ? `${actual.lift.toFixed(2)}×` : '–']
        : []),
    ]);
  }
  return table.toString();
}

/** `churnguard score`: the champion scores every active customer; CSV with --out. */
export function register(program: Command): void {
  const command = program
    .command('score')
    .description('score every active customer with the champion model (risk, band, top 3 drivers of the at-risk)')
    .option('--out <file>', 'write a CSV: customerId, risk, band, driver_1..3, modelVersion');
  withPointInTimeOptions(command, {
    asOf: 'the present for scoring',
    horizon: "churn horizon (default: the champion's; another one is an error)",
    churn: "cancelled | inactive:<days>d: decides who is still active (default: the champion's; another one is an error)",
  }).action((options: unknown) => score(options));
}
