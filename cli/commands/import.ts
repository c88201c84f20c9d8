import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Presets, SingleBar } from 'cli-progress';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { eventStoreFromEnv } from '../../lambdas/ingest/config.ts';
import { type EventWriter, ingestEvents } from '../../model/events/ingest.ts';
import { EVENT_LIMITS } from '../../model/events/limits.ts';
import { decodeChunks } from '../../model/events/readers/sourceRecord.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { parseDuration } from '../../model/features/churnDefinition.ts';
import { DAY_MS, parseInstant } from '../../model/features/time.ts';
import { parseDelimited } from '../../model/import/delimited.ts';
import { type DelimitedRow, streamDelimited } from '../../model/import/delimitedStream.ts';
import { planEventLogImport } from '../../model/import/eventLogImport.ts';
import type { RowProblem } from '../../model/import/problems.ts';
import { streamTableImport, type TablePass } from '../../model/import/tableImport.ts';
import { parseOptions } from '../../model/validation.ts';
import { dataDirOption, jsonOption, withLocalStack } from '../options.ts';
import { defaultReportFile, RejectionReport } from '../remote/rejectionReport.ts';
import { RemoteFlags, remoteClient, sendEvents, withRemoteOptions } from '../remote/remoteIngest.ts';

/** Problems printed on stderr in human mode; `--json` lists them all. */
const SHOWN_PROBLEMS = 20;

/** What writing the planned events did. */
export interface WriteOutcome {
  stored: number;
  /** Every event not stored; `unstored` may list only the first ones (a remote import's report file has them all). */
  unstoredCount: number;
  unstored: Array<{ eventId: string; reason: string }>;
}

/**
 * Writes events through the ingest path (validation + idempotent BatchWrite), in request-sized
 * chunks as they come.
 */
export async function writeEvents(
  writer: EventWriter,
  events: AsyncIterable<ChurnEvent> | Iterable<ChurnEvent>,
  onProgress?: (done: number) => void,
): Promise<WriteOutcome> {
  const outcome: WriteOutcome = { stored: 0, unstoredCount: 0, unstored: [] };
  let chunk: ChurnEvent[] = [];
  let done = 0;
  const flush = async () => {
    const result = await ingestEvents(writer, chunk, done);
    outcome.stored += result.accepted;
    outcome.unstored.push(...result.unstored.map((u) => ({ eventId: u.eventId, reason: u.reason })));
    // The plan only holds valid events; a rejection here would be a bug in the importer.
    for (const r of result.rejected)
      outcome.unstored.push({ eventId: r.eventId ?? `#${r.index}`, reason: r.errors.map((e) => `${e.path}: ${e.message}`).join('; ') });
    outcome.unstoredCount = outcome.unstored.length;
    done += chunk.length;
    chunk = [];
    onProgress?.(done);
  };
  for await (const event of events) {
    chunk.push(event);
    if (chunk.length >= EVENT_LIMITS.maxEventsPerRequest) await flush();
  }
  if (chunk.length > 0) await flush();
  return outcome;
}

/** Where an import's events go: the local stack, a deployed ingest API (`--endpoint`), or nowhere (`--dry-run`). */
type EventSink = (events: AsyncIterable<ChurnEvent>) => Promise<WriteOutcome>;

const RemoteImportFlags = RemoteFlags.extend({ dryRun: z.boolean().optional(), dataDir: z.string() });

/** Runs `fn` with the sink the flags choose; with --endpoint, reports where the rejections went. */
async function withSink<T>(flags: z.output<typeof RemoteImportFlags>, source: string, fn: (sink: EventSink) => Promise<T>): Promise<T> {
  if (flags.dryRun)
    return fn(async (events) => {
      for await (const _ of events); // pass 3 still runs: its counts and problems are the summary
      return { stored: 0, unstoredCount: 0, unstored: [] };
    });
  const { endpoint } = flags;
  if (endpoint === undefined) return withLocalStack(flags.dataDir, () => fn((events) => writeEvents(eventStoreFromEnv(), events)));
  const client = remoteClient({ ...flags, endpoint });
  console.error(`sending to ${client.endpoint} (SigV4 for execute-api in ${client.region})`);
  const report = new RejectionReport(flags.report ?? defaultReportFile('import'));
  try {
    return await fn((events) => sendEvents(events, client, report, source));
  } finally {
    const written = await report.close();
    if (written) console.error(`${report.entries} rejected or unstored event(s) written to ${written}`);
  }
}

/** A progress bar on stderr over the bytes of the passes an import reads the file in. */
function passesBar(totalBytes: number, passes: string[]): { onBytes(pass: number, bytes: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { onBytes: () => {}, stop: () => {} };
  const bar = new SingleBar(
    { stream: process.stderr, format: 'import [{bar}] {percentage}% | {pass}', hideCursor: true },
    Presets.shades_classic,
  );
  bar.start(Math.max(1, totalBytes * passes.length), 0, { pass: passes[0] });
  return {
    onBytes: (pass, bytes) => bar.update(pass * totalBytes + bytes, { pass: passes[pass] }),
    stop: () => bar.stop(),
  };
}

/** The rows of a delimited file, read as a stream; the file closes when the reader stops. */
async function* fileRows(file: string, delimiter: string | undefined, onBytes: (bytes: number) => void): AsyncGenerator<DelimitedRow> {
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  let bytes = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      onBytes(bytes);
      yield chunk;
    }
  }
  try {
    yield* streamDelimited(decodeChunks(counted()), delimiter);
  } finally {
    stream.destroy();
  }
}

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

/** The passes over the file a progress bar shows (the header read counts as the checks; `repeats` only when ids may repeat). */
const PASS_STAGES: TablePass[] = ['checks', 'repeats', 'types', 'events'];
const PASS_NAMES = ['checking rows', 'confirming repeated ids', 'inferring column types', 'writing events'];

const TableCliOptions = RemoteImportFlags.extend({
  id: z.string().optional(),
  label: z.string().optional(),
  positive: z.string().optional(),
  drop: z.array(z.string()).default([]),
  asOf: z.string().optional(),
  horizon: z.string().default('30d'),
  delimiter: z.string().optional(),
  json: z.boolean().optional(),
});

async function importTable(file: string, raw: unknown): Promise<void> {
  const o = parseOptions(TableCliOptions, raw, 'options');
  const asOf = o.asOf === undefined ? defaultAsOf() : parseInstant(o.asOf, '--as-of');
  const horizonDays = parseDuration(o.horizon);
  // Passes over the file as a stream (checks, types, events; repeated ids when some may repeat):
  // memory holds at most 16 bytes per customer id, never the rows.
  const bar = passesBar((await stat(file)).size, PASS_NAMES);
  const stream = await streamTableImport(
    (pass) => fileRows(file, o.delimiter, (bytes) => bar.onBytes(Math.max(0, PASS_STAGES.indexOf(pass)), bytes)),
    { idColumn: o.id, labelColumn: o.label, positive: o.positive, drop: o.drop, asOf, horizonDays },
  ).catch((error: unknown) => {
    bar.stop();
    throw error;
  });
  let events = 0;
  async function* counted(): AsyncGenerator<ChurnEvent> {
    for await (const event of stream.events()) {
      events++;
      yield event;
    }
  }
  const write = await withSink(o, file, (sink) => sink(counted())).finally(() => bar.stop());
  const plan = { ...stream.planner.summary(), events: { length: events } };
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
        : `${write.stored} events written${write.unstoredCount > 0 ? `, ${write.unstoredCount} NOT stored (re-run the import: it is idempotent)` : ''}`,
    );
    console.log(`labelled customers are examples at ${timeline.labelledCutoff}; train and score with the same as-of: ${trainHint}`);
  }
  process.exitCode = exitCode(plan.problems.length, write.unstoredCount);
}

const EventsCliOptions = RemoteImportFlags.extend({
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
  async function* planned(): AsyncGenerator<ChurnEvent> {
    yield* plan.events;
  }
  const write = await withSink(o, file, (sink) => sink(planned()));
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
        : `${write.stored} events written${write.unstoredCount > 0 ? `, ${write.unstoredCount} NOT stored (re-run the import: it is idempotent)` : ''}`,
    );
  }
  process.exitCode = exitCode(plan.problems.length, write.unstoredCount);
}

/** `churnguard import table|events FILE`: bring your own data. */
export function register(program: Command): void {
  const command = program.command('import').description('import your own data: a customer table (one row per customer) or an event log');
  const table = command
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
    .addOption(jsonOption());
  withRemoteOptions(table).action((file: string, options: unknown) => importTable(file, options));
  const events = command
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
    .addOption(jsonOption());
  withRemoteOptions(events).action((file: string, options: unknown) => importEventLog(file, options));
}
