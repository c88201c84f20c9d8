import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { EventsApiAuthError, type EventsClient } from '../../adapters/http/eventsClient.ts';
import { eventStoreFromEnv } from '../../lambdas/ingest/config.ts';
import type { EventWriter } from '../../model/events/ingest.ts';
import { ingestRecords, type LocatedRejection, type LocatedUnstored, type RecordsSummary } from '../../model/events/ingestRecords.ts';
import { readCsv } from '../../model/events/readers/csv.ts';
import { readJsonArray } from '../../model/events/readers/jsonArray.ts';
import { readNdjson } from '../../model/events/readers/ndjson.ts';
import type { SourceRecord } from '../../model/events/readers/sourceRecord.ts';
import { dataDirOption, jsonOption, withLocalStack } from '../options.ts';
import { defaultReportFile, RejectionReport } from '../remote/rejectionReport.ts';
import { RemoteFlags, remoteClient, sendFile, withRemoteOptions } from '../remote/remoteIngest.ts';

export const FILE_FORMATS = ['ndjson', 'json', 'csv'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/** What ingesting one file did. */
export interface FileIngestSummary extends RecordsSummary {
  file: string;
  format: FileFormat;
}

/** Byte progress of one file, for a progress bar. */
export type IngestProgress = (progress: { file: string; bytesRead: number; totalBytes: number; summary: RecordsSummary }) => void;

/**
 * The format of a file: by extension (`.ndjson`/`.jsonl`, `.csv`), else by its first
 * non-blank character (`[` a JSON array, `{` NDJSON, anything else CSV).
 */
export async function detectFormat(file: string): Promise<FileFormat> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.csv') return 'csv';
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0);
    const head = buffer
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    if (head.startsWith('[')) return 'json';
    if (head.startsWith('{') || ext === '.json') return 'ndjson';
    return 'csv';
  } finally {
    await handle.close();
  }
}

const READERS: Record<FileFormat, (chunks: AsyncIterable<string | Uint8Array>) => AsyncIterable<SourceRecord>> = {
  ndjson: readNdjson,
  json: readJsonArray,
  csv: readCsv,
};

/**
 * Ingests one file of events (NDJSON, a JSON array or CSV) through the same validation and write
 * path as the API, streaming it in request-sized chunks: a 1 GB file never sits in memory.
 *
 * @example
 * const summary = await ingestFile('examples/sample-events.ndjson', eventStoreFromEnv());
 * console.log(`${summary.accepted} accepted, ${summary.rejectedCount} rejected`);
 */
export async function ingestFile(
  file: string,
  store: EventWriter,
  onProgress?: IngestProgress,
  format?: FileFormat,
): Promise<FileIngestSummary> {
  const source = await openRecords(file, format);
  try {
    const summary = await ingestRecords(store, source.records, {
      onChunk: (s) => onProgress?.({ file, bytesRead: source.bytesRead(), totalBytes: source.totalBytes, summary: s }),
    });
    return { file, format: source.format, ...summary };
  } finally {
    source.close();
  }
}

/** The records of a file, read as a stream, with how far the reading got. */
export interface RecordSource {
  format: FileFormat;
  totalBytes: number;
  bytesRead(): number;
  records: AsyncIterable<SourceRecord>;
  close(): void;
}

/** Opens a file of events (NDJSON, a JSON array or CSV) as a stream of records. */
export async function openRecords(file: string, format?: FileFormat): Promise<RecordSource> {
  const chosen = format ?? (await detectFormat(file));
  const totalBytes = (await stat(file)).size;
  let bytesRead = 0;
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytesRead += chunk.length;
      yield chunk;
    }
  }
  return { format: chosen, totalBytes, bytesRead: () => bytesRead, records: READERS[chosen](counted()), close: () => stream.destroy() };
}

const IngestOptions = RemoteFlags.extend({
  dataDir: z.string().min(1),
  json: z.boolean().optional(),
  format: z.enum(['auto', ...FILE_FORMATS]).default('auto'),
});

/** The whole run, as `--json` prints it. */
export interface IngestRunSummary {
  files: Array<{
    file: string;
    format?: FileFormat;
    records: number;
    accepted: number;
    rejected: number;
    unstored: number;
    error?: string;
  }>;
  records: number;
  accepted: number;
  rejectedCount: number;
  unstoredCount: number;
  rejected: Array<LocatedRejection & { file: string }>;
  unstored: Array<LocatedUnstored & { file: string }>;
}

/** 0 everything accepted; 2 some records rejected; 1 a file could not be read or events could not be stored. */
export function ingestExitCode(run: IngestRunSummary): 0 | 1 | 2 {
  if (run.unstoredCount > 0 || run.files.some((f) => f.error !== undefined)) return 1;
  return run.rejectedCount > 0 ? 2 : 0;
}

export function progressBar(totalBytes: number): { update: IngestProgress; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: 'ingest [{bar}] {percentage}% | {accepted} accepted, {rejected} rejected | {file}',
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  bar.start(totalBytes, 0, { accepted: 0, rejected: 0, file: '' });
  const perFile = new Map<string, { bytes: number; accepted: number; rejected: number }>();
  const sum = (key: 'bytes' | 'accepted' | 'rejected') => [...perFile.values()].reduce((n, f) => n + f[key], 0);
  return {
    update: ({ file, bytesRead, summary }) => {
      perFile.set(file, { bytes: bytesRead, accepted: summary.accepted, rejected: summary.rejectedCount });
      bar.update(sum('bytes'), { accepted: sum('accepted'), rejected: sum('rejected'), file: path.basename(file) });
    },
    stop: () => bar.stop(),
  };
}

/** Ingests every file (a file that cannot be read is reported and the others still go). */
export async function ingestFiles(
  files: readonly string[],
  store: EventWriter,
  format: FileFormat | undefined,
  onProgress?: IngestProgress,
): Promise<IngestRunSummary> {
  return runFiles(files, (file) => ingestFile(file, store, onProgress, format));
}

/** Runs `one` on every file (a file that cannot be read is reported and the others still go) and sums up. */
export async function runFiles(files: readonly string[], one: (file: string) => Promise<FileIngestSummary>): Promise<IngestRunSummary> {
  const run: IngestRunSummary = { files: [], records: 0, accepted: 0, rejectedCount: 0, unstoredCount: 0, rejected: [], unstored: [] };
  for (const file of files) {
    try {
      const s = await one(file);
      run.files.push({
        file,
        format: s.format,
        records: s.records,
        accepted: s.accepted,
        rejected: s.rejectedCount,
        unstored: s.unstoredCount,
      });
      run.records += s.records;
      run.accepted += s.accepted;
      run.rejectedCount += s.rejectedCount;
      run.unstoredCount += s.unstoredCount;
      run.rejected.push(...s.rejected.map((r) => ({ file, ...r })));
      run.unstored.push(...s.unstored.map((u) => ({ file, ...u })));
    } catch (error) {
      run.files.push({
        file,
        records: 0,
        accepted: 0,
        rejected: 0,
        unstored: 0,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return run;
}

const MAX_PRINTED = 20;

function printHuman(run: IngestRunSummary): void {
  for (const f of run.files) {
    if (f.error !== undefined) console.log(`${f.file}: not ingested: ${f.error}`);
    else
      console.log(
        `${f.file} (${f.format}): ${f.records} records, ${f.accepted} accepted, ${f.rejected} rejected${f.unstored ? `, ${f.unstored} NOT STORED` : ''}`,
      );
  }
  for (const r of run.rejected.slice(0, MAX_PRINTED)) {
    const where = `${r.file}:${r.line}${r.eventId ? ` (${r.eventId})` : ''}`;
    console.log(`  rejected ${where}: ${r.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  }
  if (run.rejectedCount > MAX_PRINTED)
    console.log(`  ... and ${run.rejectedCount - MAX_PRINTED} more rejected (use --json for the details)`);
  for (const u of run.unstored.slice(0, MAX_PRINTED)) console.log(`  not stored ${u.file}:${u.line} (${u.eventId}): ${u.reason}`);
  if (run.files.length > 1) console.log(`total: ${run.records} records, ${run.accepted} accepted, ${run.rejectedCount} rejected`);
}

/** Sends every file to a deployed ingest API; an authorization failure stops the run (every request would fail alike). */
async function ingestRemote(
  files: readonly string[],
  client: EventsClient,
  report: RejectionReport,
  format: FileFormat | undefined,
  onProgress: IngestProgress,
): Promise<IngestRunSummary> {
  console.error(`sending to ${client.endpoint} (SigV4 for execute-api in ${client.region})`);
  let authFailure: EventsApiAuthError | undefined;
  const run = await runFiles(files, async (file) => {
    if (authFailure) throw authFailure;
    try {
      return await sendFile(file, await openRecords(file, format), client, report, onProgress);
    } catch (error) {
      if (error instanceof EventsApiAuthError) authFailure = error;
      throw error;
    }
  });
  if (authFailure) throw authFailure;
  return run;
}

export function register(program: Command): void {
  const command = program
    .command('ingest')
    .description('ingest events from NDJSON, JSON-array or CSV files into the local stack (same validation as POST /events)')
    .argument('<files...>', 'event files (.ndjson/.jsonl, .json, .csv)')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .addOption(
      new Option('--format <format>', 'file format (default: from the extension or the first character)')
        .choices(['auto', ...FILE_FORMATS])
        .default('auto'),
    );
  withRemoteOptions(command)
    .addHelpText(
      'after',
      '\nWith --endpoint the files go to a deployed ingest API instead (SigV4, credentials from the default AWS chain);\nevery rejected or unstored event is written to the --report file.\n\nExit code: 0 all accepted, 2 some records rejected, 1 a file could not be read or events could not be stored.',
    )
    .action(async (files: string[], raw: unknown) => {
      const options = IngestOptions.parse(raw);
      const format = options.format === 'auto' ? undefined : options.format;
      const totalBytes = (
        await Promise.all(
          files.map((f) =>
            stat(f).then(
              (s) => s.size,
              () => 0,
            ),
          ),
        )
      ).reduce((a, b) => a + b, 0);
      const { endpoint } = options;
      const report = new RejectionReport(options.report ?? defaultReportFile('ingest'));
      const bar = progressBar(totalBytes);
      let run: IngestRunSummary;
      try {
        run =
          endpoint === undefined
            ? await withLocalStack(options.dataDir, () => ingestFiles(files, eventStoreFromEnv(), format, bar.update))
            : await ingestRemote(files, remoteClient({ ...options, endpoint }), report, format, bar.update);
      } finally {
        bar.stop();
        const written = await report.close();
        if (written) console.error(`${report.entries} rejected or unstored event(s) written to ${written}`);
      }
      if (options.json) console.log(JSON.stringify(run, null, 2));
      else printHuman(run);
      process.exitCode = ingestExitCode(run);
    });
}
