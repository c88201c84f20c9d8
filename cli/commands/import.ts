import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { eventStoreFromEnv } from '../../lambdas/ingest/config.ts';
import { type EventWriter, ingestEvents } from '../../model/events/ingest.ts';
import { EVENT_LIMITS } from '../../model/events/limits.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { parseDuration } from '../../model/features/churnDefinition.ts';
import { DAY_MS, parseInstant } from '../../model/features/time.ts';
import { parseDelimited } from '../../model/import/delimited.ts';
import { planEventLogImport } from '../../model/import/eventLogImport.ts';
import type { RowProblem } from '../../model/import/problems.ts';
import { planTableImport } from '../../model/import/tableImport.ts';
import { parseOptions } from '../../model/validation.ts';
import { dataDirOption, jsonOption, withLocalStack } from '../options.ts';

/** Problems printed on stderr in human mode; `--json` lists them all. */
const SHOWN_PROBLEMS = 20;

/** What writing the planned events did. */
export interface WriteOutcome {
  stored: number;
  unstored: Array<{ eventId: string; reason: string }>;
}

/**
 * Writes events through the ingest path (validation + idempotent BatchWrite), in request-sized
 * chunks, reporting progress on stderr.
 */
export async function writeEvents(
  writer: EventWriter,
  events: readonly ChurnEvent[],
  onProgress?: (done: number) => void,
): Promise<WriteOutcome> {
  const outcome: WriteOutcome = { stored: 0, unstored: [] };
  for (let i = 0; i < events.length; i += EVENT_LIMITS.maxEventsPerRequest) {
    const chunk = events.slice(i, i + EVENT_LIMITS.maxEventsPerRequest);
    const result = await ingestEvents(writer, chunk, i);
    outcome.stored += result.accepted;
    outcome.unstored.push(...result.unstored.map((u) => ({ eventId: u.eventId, reason: u.reason })));
    // The plan only holds valid events; a rejection here would be a bug in the importer.
    for (const r of result.rejected)
      outcome.unstored.push({ eventId: r.eventId ?? `#${r.index}`, reason: r.errors.map((e) => `${e.path}: ${e.message}`).join('; ') });
    onProgress?.(Math.min(events.length, i + chunk.length));
  }
  return outcome;
}

const progress = (total: number) => (done: number) => {
  if (process.stderr.isTTY) process.stderr.write(`\rimport: ${done}/${total} events written`);
  if (done === total && process.stderr.isTTY) process.stderr.write('\n');
};

const printProblems = (problems: RowProblem[], file: string) => {
  for (const p of problems.slice(0, SHOWN_PROBLEMS)) console.error(`${file}:${p.line}: ${p.message}`);
  if (problems.length > SHOWN_PROBLEMS) console.error(`... and ${problems.length - SHOWN_PROBLEMS} more problems (--json lists them all)`);
};

const exitCode = (problems: number, unstored: number) => (unstored > 0 ? 1 : problems > 0 ? 2 : 0);

/** Tomorrow 00:00 UTC: nothing the importer writes is then in the future (the latest event is today 00:00). */
const defaultAsOf = () => new Date((Math.floor(Date.now() / DAY_MS) + 1) * DAY_MS).toISOString();

const list = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

const TableCliOptions = z.object({
  id: z.string().optional(),
  label: z.string().optional(),
  positive: z.string().optional(),
  drop: z.array(z.string()).default([]),
  asOf: z.string().optional(),
  horizon: z.string().default('30d'),
  delimiter: z.string().optional(),
  dryRun: z.boolean().optional(),
  dataDir: z.string(),
  json: z.boolean().optional(),
});

async function importTable(file: string, raw: unknown): Promise<void> {
  const o = parseOptions(TableCliOptions, raw, 'options');
  const table = parseDelimited(await readFile(file, 'utf8'), { delimiter: o.delimiter });
  const asOf = o.asOf === undefined ? defaultAsOf() : parseInstant(o.asOf, '--as-of');
  const horizonDays = parseDuration(o.horizon);
  const plan = planTableImport(table, { idColumn: o.id, labelColumn: o.label, positive: o.positive, drop: o.drop, asOf, horizonDays });
  const write = o.dryRun
    ? { stored: 0, unstored: [] }
    : await withLocalStack(o.dataDir, () => writeEvents(eventStoreFromEnv(), plan.events, progress(plan.events.length)));
  const { counts, timeline } = plan;
  const trainHint = `churnguard train --as-of ${timeline.asOf} --horizon ${horizonDays}d`;
  if (o.json) {
    console.log(
      JSON.stringify(
        {
          file,
          ...counts,
          events: plan.events.length,
          stored: write.stored,
          unstored: write.unstored,
          positive: plan.positive,
          columns: plan.columns,
          skippedColumns: plan.skippedColumns,
          timeline,
          problems: plan.problems,
        },
        null,
        2,
      ),
    );
  } else {
    printProblems(plan.problems, file);
    console.log(
      `${file}: ${counts.imported} of ${counts.rows} rows imported (${counts.churners} churned, ${counts.stayers} stayed, ${counts.unlabelled} unlabelled), ${counts.rejected} kept out`,
    );
    console.log(
      `${plan.columns.length} profile attributes: ${plan.columns.map((c) => `${c.attribute}${c.attribute === c.column ? '' : ` (from "${c.column}")`} ${c.type}`).join(', ')}`,
    );
    if (plan.positive !== undefined) console.log(`churned when ${o.label} is "${o.positive ?? plan.positive}"`);
    console.log(
      o.dryRun
        ? `dry run: ${plan.events.length} events not written`
        : `${write.stored} events written${write.unstored.length > 0 ? `, ${write.unstored.length} NOT stored (re-run the import: it is idempotent)` : ''}`,
    );
    console.log(`labelled customers are examples at ${timeline.labelledCutoff}; train and score with the same as-of: ${trainHint}`);
  }
  process.exitCode = exitCode(plan.problems.length, write.unstored.length);
}

const EventsCliOptions = z.object({
  customer: z.string(),
  time: z.string(),
  type: z.string().optional(),
  eventType: z.string().default('purchase'),
  value: z.string().optional(),
  valueUnit: z.enum(['units', 'cents']).default('units'),
  property: z.array(z.string()).default([]),
  shiftYears: z.coerce.number().int().default(0),
  delimiter: z.string().optional(),
  header: z.boolean().default(true),
  dryRun: z.boolean().optional(),
  dataDir: z.string(),
  json: z.boolean().optional(),
});

/** `--property cds=number_of_cds`: a measure name and the column it comes from. */
export function parsePropertyOption(text: string): { name: string; column: string } {
  const at = text.indexOf('=');
  const name = at < 0 ? '' : text.slice(0, at).trim();
  const column = at < 0 ? '' : text.slice(at + 1).trim();
  if (name === '' || column === '') throw new Error(`--property "${text}" must be name=column, e.g. --property cds=number_of_cds`);
  return { name, column };
}

async function importEventLog(file: string, raw: unknown): Promise<void> {
  const o = parseOptions(EventsCliOptions, raw, 'options');
  const measureColumns = o.property.map(parsePropertyOption);
  const table = parseDelimited(await readFile(file, 'utf8'), { delimiter: o.delimiter, header: o.header });
  const plan = planEventLogImport(table, {
    customerColumn: o.customer,
    timeColumn: o.time,
    typeColumn: o.type,
    eventType: o.eventType,
    valueColumn: o.value,
    valueUnit: o.valueUnit,
    shiftYears: o.shiftYears,
    measureColumns,
  });
  const write = o.dryRun
    ? { stored: 0, unstored: [] }
    : await withLocalStack(o.dataDir, () => writeEvents(eventStoreFromEnv(), plan.events, progress(plan.events.length)));
  if (o.json) {
    console.log(
      JSON.stringify(
        { file, ...plan.counts, range: plan.range, stored: write.stored, unstored: write.unstored, problems: plan.problems },
        null,
        2,
      ),
    );
  } else {
    printProblems(plan.problems, file);
    const types = Object.entries(plan.counts.byType)
      .map(([t, n]) => `${n} ${t}`)
      .join(', ');
    console.log(
      `${file}: ${plan.counts.imported} of ${plan.counts.rows} rows imported as events of ${plan.counts.customers} customers (${types}), ${plan.counts.rejected} kept out`,
    );
    if (plan.range) console.log(`events from ${plan.range.first} to ${plan.range.last}`);
    console.log(
      o.dryRun
        ? `dry run: ${plan.events.length} events not written`
        : `${write.stored} events written${write.unstored.length > 0 ? `, ${write.unstored.length} NOT stored (re-run the import: it is idempotent)` : ''}`,
    );
  }
  process.exitCode = exitCode(plan.problems.length, write.unstored.length);
}

/** `churnguard import table|events FILE`: bring your own data. */
export function register(program: Command): void {
  const command = program.command('import').description('import your own data: a customer table (one row per customer) or an event log');
  command
    .command('table <file>')
    .description('import a customer table: each row becomes a profile; a label column becomes churn events that train learns from')
    .option('--id <column>', 'column of customer ids (default: row-<line>)')
    .option('--label <column>', 'column saying whether the customer churned (blank: unlabelled, scored only)')
    .option('--positive <value>', 'label value meaning churned (default: Yes / True / 1)')
    .option('--drop <columns>', 'comma-separated columns to leave out (repeatable)', list)
    .option('--as-of <date>', 'the present of the table; train and score with the same --as-of (default: tomorrow 00:00 UTC)')
    .option('--horizon <duration>', 'churn horizon the labels describe', '30d')
    .option('--delimiter <char>', 'field delimiter: , ; | tab whitespace (default: guessed)')
    .option('--dry-run', 'check and summarise the file without writing')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((file: string, options: unknown) => importTable(file, options));
  command
    .command('events <file>')
    .description('import an event log (one row per event), e.g. purchases')
    .requiredOption('--customer <column>', 'column of customer ids (name or 1-based position)')
    .requiredOption('--time <column>', 'column of event times: YYYYMMDD, YYYY-MM-DD, ISO 8601, epoch s/ms')
    .option('--type <column>', 'column of event types (purchase, session, cancel... others become custom events)')
    .option('--event-type <name>', 'event type of every row when there is no --type column', 'purchase')
    .option('--value <column>', 'column of amounts (purchases) or quantities (custom events)')
    .addOption(new Option('--value-unit <unit>', 'amounts in currency units or cents').choices(['units', 'cents']).default('units'))
    .option('--property <name=column>', 'a further number column kept as a named measure, e.g. cds=number_of_cds (repeatable)', list)
    .option('--shift-years <n>', 'add whole years to every time (events must fall in 2000-2099)', '0')
    .option('--delimiter <char>', 'field delimiter: , ; | tab whitespace (default: guessed)')
    .option('--no-header', 'the first line is data; name columns by position (1, 2, ...)')
    .option('--dry-run', 'check and summarise the file without writing')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((file: string, options: unknown) => importEventLog(file, options));
}
