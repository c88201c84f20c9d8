import { type Command, Option } from 'commander';
import { z } from 'zod';
import { createEventsClient, type EventResult, type EventsClient } from '../../adapters/http/eventsClient.ts';
import type { RecordsSummary } from '../../model/events/ingestRecords.ts';
import type { FileFormat, FileIngestSummary, IngestProgress, RecordSource } from '../commands/ingest.ts';
import type { RejectionReport } from './rejectionReport.ts';

/** Rejections and unstored events kept in the summary (the report file has them all). */
const MAX_DETAILS = 1000;

/** The options of `ingest` and `import` that send to a deployed ingest API instead of the local stack. */
export const withRemoteOptions = (command: Command): Command =>
  command
    .addOption(new Option('--endpoint <url>', 'send to a deployed ingest API (…/events), SigV4-signed with the default AWS credentials'))
    .addOption(new Option('--region <region>', 'signing region with --endpoint (default AWS_REGION, or from an execute-api host name)'))
    .addOption(new Option('--concurrency <n>', 'requests in flight with --endpoint').default('4'))
    .addOption(new Option('--report <file>', 'with --endpoint: where every rejected or unstored event is written (NDJSON)'));

export const RemoteFlags = z.object({
  endpoint: z.string().min(1).optional(),
  region: z.string().min(1).optional(),
  concurrency: z.coerce
    .number({ error: '--concurrency must be a number' })
    .int('--concurrency must be a whole number')
    .min(1, '--concurrency must be 1 to 32')
    .max(32, '--concurrency must be 1 to 32')
    .default(4),
  report: z.string().min(1).optional(),
});
export type RemoteFlags = z.output<typeof RemoteFlags>;

export function remoteClient(flags: RemoteFlags & { endpoint: string }): EventsClient {
  return createEventsClient({
    endpoint: flags.endpoint,
    concurrency: flags.concurrency,
    ...(flags.region ? { region: flags.region } : {}),
    onUnsigned: (reason) =>
      console.error(
        `churnguard: no AWS credentials in the default chain (${reason}): sending unsigned requests, which an API with IAM auth refuses`,
      ),
  });
}

/** Counts one batch of results into a summary, and every failure into the report. */
function recordResults(
  summary: RecordsSummary,
  results: EventResult[],
  report: RejectionReport,
  source: string,
  lineOf: (index: number) => number | undefined,
): void {
  for (const r of results) {
    const line = lineOf(r.index);
    if (r.status === 'accepted') {
      summary.accepted++;
      continue;
    }
    report.add({ source, ...(line === undefined ? {} : { line }), ...r });
    if (r.status === 'rejected') {
      summary.rejectedCount++;
      if (summary.rejected.length < MAX_DETAILS)
        summary.rejected.push({ line: line ?? 0, index: r.index, ...(r.eventId ? { eventId: r.eventId } : {}), errors: r.errors });
    } else {
      summary.unstoredCount++;
      if (summary.unstored.length < MAX_DETAILS)
        summary.unstored.push({ line: line ?? 0, index: r.index, eventId: r.eventId ?? `#${r.index}`, reason: r.reason });
    }
  }
}

const emptySummary = (): RecordsSummary => ({ records: 0, accepted: 0, rejectedCount: 0, unstoredCount: 0, rejected: [], unstored: [] });

/**
 * Sends one file's records to the ingest API as they are read: memory holds the batches in
 * flight and the line numbers of their records, never the file.
 */
export async function sendFile(
  file: string,
  source: RecordSource,
  client: EventsClient,
  report: RejectionReport,
  onProgress?: IngestProgress,
): Promise<FileIngestSummary> {
  const summary = emptySummary();
  const lines = new Map<number, number>();
  async function* values(): AsyncGenerator<unknown> {
    for await (const record of source.records) {
      lines.set(summary.records++, record.line);
      yield record.value;
    }
  }
  try {
    await client.sendStream(values(), (results) => {
      recordResults(summary, results, report, file, (index) => lines.get(index));
      for (const r of results) lines.delete(r.index);
      onProgress?.({ file, bytesRead: source.bytesRead(), totalBytes: source.totalBytes, summary });
    });
  } finally {
    source.close();
  }
  return { file, format: source.format as FileFormat, ...summary };
}

/** What sending planned events did, as the importers report it. */
export interface SendOutcome {
  stored: number;
  /** Every event not stored (the details below stop at MAX_DETAILS; the report file has them all). */
  unstoredCount: number;
  unstored: Array<{ eventId: string; reason: string }>;
}

/**
 * Sends an importer's events (already valid) to the ingest API; any the API still rejects or
 * cannot store go to the report and come back as not stored.
 */
export async function sendEvents(
  events: AsyncIterable<unknown>,
  client: EventsClient,
  report: RejectionReport,
  source: string,
  onProgress?: (done: number) => void,
): Promise<SendOutcome> {
  const summary = emptySummary();
  const outcome: SendOutcome = { stored: 0, unstoredCount: 0, unstored: [] };
  let done = 0;
  await client.sendStream(events, (results) => {
    recordResults(summary, results, report, source, () => undefined);
    for (const r of results) {
      if (r.status !== 'accepted') outcome.unstoredCount++;
      if (r.status === 'rejected' && outcome.unstored.length < MAX_DETAILS)
        outcome.unstored.push({ eventId: r.eventId ?? `#${r.index}`, reason: r.errors.map((e) => `${e.path}: ${e.message}`).join('; ') });
      if (r.status === 'unstored' && outcome.unstored.length < MAX_DETAILS)
        outcome.unstored.push({ eventId: r.eventId ?? `#${r.index}`, reason: r.reason });
    }
    done += results.length;
    onProgress?.(done);
  });
  outcome.stored = summary.accepted;
  return outcome;
}
