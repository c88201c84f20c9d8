import { UnreadableRecord } from '../ingest.ts';
import { EVENT_LIMITS } from '../limits.ts';

/** One record read from a file or body: its 1-based line and its JSON value (or why it is unreadable). */
export interface SourceRecord {
  line: number;
  value: unknown;
  /** Approximate size of the record's text in bytes, for request-sized chunking. */
  bytes: number;
}

/**
 * Longest record text a reader buffers. A longer one is rejected without being kept in memory:
 * the event limit is far smaller, so nothing valid is lost.
 */
export const MAX_RECORD_CHARS = EVENT_LIMITS.maxRequestBytes;

/** Parses one record's JSON text; a syntax error becomes an `UnreadableRecord` at that place. */
export function parseRecordText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    return new UnreadableRecord(`${what} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export const tooLongRecord = (what: string) => new UnreadableRecord(`${what} is longer than ${MAX_RECORD_CHARS} characters`);

/** Decodes byte or string chunks as UTF-8 text, keeping multi-byte characters split across chunks whole. */
export async function* decodeChunks(chunks: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let first = true;
  for await (const chunk of chunks) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (first && text.length > 0) {
      text = text.replace(/^\uFEFF/, '');
      first = false;
    }
    if (text.length > 0) yield text;
  }
  const rest = decoder.decode();
  if (rest.length > 0) yield rest;
}
