import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { EventResult } from '../../adapters/http/eventsClient.ts';

/** One line of the report: an event that was not stored, where it came from, and why. */
export type ReportEntry = Exclude<EventResult, { status: 'accepted' }> & { source: string; line?: number };

/**
 * The one file a remote ingest or import writes every rejected and unstored event to, as NDJSON,
 * line by line as the answers come (a million rejections never sit in memory). It is created on
 * the first entry only: a clean run leaves no file behind.
 */
export class RejectionReport {
  private stream: WriteStream | undefined;
  entries = 0;

  constructor(readonly file: string) {}

  /** Appends an entry (buffered by the stream: the disk outpaces the API answers it records). */
  add(entry: ReportEntry): void {
    this.stream ??= createWriteStream(path.resolve(this.file), { flags: 'w' });
    this.entries++;
    this.stream.write(`${JSON.stringify(entry)}\n`);
  }

  /** Flushes and closes the file; the path when anything was written. */
  async close(): Promise<string | undefined> {
    if (!this.stream) return undefined;
    const stream = this.stream;
    await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
    return path.resolve(this.file);
  }
}

/** `churnguard-report-<time>.ndjson` in the working directory. */
export const defaultReportFile = (command: string) =>
  `churnguard-${command}-report-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`;
