import { type EventWriter, ingestEvents } from './ingest.ts';
import { EVENT_LIMITS } from './limits.ts';
import type { SourceRecord } from './readers/sourceRecord.ts';
import type { FieldError } from './validate.ts';

/** A record of a file that was not ingested, located by line and by record index. */
export interface LocatedRejection {
  /** 1-based line where the record starts. */
  line: number;
  /** 0-based position of the record in the file. */
  index: number;
  eventId?: string;
  errors: FieldError[];
}

export interface LocatedUnstored {
  line: number;
  index: number;
  eventId: string;
  reason: string;
}

/** What ingesting a stream of records did. Details are capped; the counts are complete. */
export interface RecordsSummary {
  records: number;
  accepted: number;
  rejectedCount: number;
  unstoredCount: number;
  /** The first `maxDetails` rejections. */
  rejected: LocatedRejection[];
  /** The first `maxDetails` unstored events. */
  unstored: LocatedUnstored[];
}

export interface IngestRecordsOptions {
  /** Called after each request-sized chunk with the running summary. */
  onChunk?: (summary: RecordsSummary) => void;
  /** Rejections and unstored events kept in detail (default 1000), so a bad 1 GB file does not fill memory. */
  maxDetails?: number;
}

/**
 * Ingests a stream of records through `ingestEvents` in request-sized chunks (at most 500
 * records and 1 MiB each, the limits of one HTTP request), one chunk after another so that a
 * later duplicate of an event wins, as it would over HTTP.
 */
export async function ingestRecords(
  writer: EventWriter,
  records: AsyncIterable<SourceRecord>,
  options: IngestRecordsOptions = {},
): Promise<RecordsSummary> {
  const maxDetails = options.maxDetails ?? 1000;
  const summary: RecordsSummary = { records: 0, accepted: 0, rejectedCount: 0, unstoredCount: 0, rejected: [], unstored: [] };
  let chunk: SourceRecord[] = [];
  let chunkBytes = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    const first = summary.records;
    const lines = chunk.map((r) => r.line);
    const outcome = await ingestEvents(
      writer,
      chunk.map((r) => r.value),
      first,
    );
    summary.records += chunk.length;
    summary.accepted += outcome.accepted;
    summary.rejectedCount += outcome.rejected.length;
    summary.unstoredCount += outcome.unstored.length;
    for (const r of outcome.rejected) {
      if (summary.rejected.length < maxDetails) summary.rejected.push({ line: lines[r.index - first] ?? 0, ...r });
    }
    for (const u of outcome.unstored) {
      if (summary.unstored.length < maxDetails) summary.unstored.push({ line: lines[u.index - first] ?? 0, ...u });
    }
    chunk = [];
    chunkBytes = 0;
    options.onChunk?.(summary);
  };
  for await (const record of records) {
    if (chunk.length >= EVENT_LIMITS.maxEventsPerRequest || (chunk.length > 0 && chunkBytes + record.bytes > EVENT_LIMITS.maxRequestBytes))
      await flush();
    chunk.push(record);
    chunkBytes += record.bytes;
  }
  await flush();
  return summary;
}
