import { decodeChunks, MAX_RECORD_CHARS, parseRecordText, type SourceRecord, tooLongRecord } from './sourceRecord.ts';

/**
 * Splits NDJSON text into records, one per non-blank line (`\n` or `\r\n`). A line that is not
 * JSON becomes an `UnreadableRecord` in its place; the other lines are unaffected.
 */
export function splitNdjson(text: string): SourceRecord[] {
  const records: SourceRecord[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() === '') return;
      records.push({ line: i + 1, value: parseRecordText(line, `line ${i + 1}`), bytes: line.length + 1 });
    });
  return records;
}

/**
 * Streams NDJSON records from text or byte chunks (e.g. a file read stream) without holding more
 * than one line in memory; a line longer than `MAX_RECORD_CHARS` is rejected without being kept.
 */
export async function* readNdjson(chunks: AsyncIterable<string | Uint8Array>): AsyncGenerator<SourceRecord> {
  let pending = '';
  let overlong = false;
  let line = 1;
  const finish = (text: string): SourceRecord | undefined => {
    const lineNo = line++;
    if (overlong) {
      overlong = false;
      return { line: lineNo, value: tooLongRecord(`line ${lineNo}`), bytes: MAX_RECORD_CHARS };
    }
    const body = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (body.trim() === '') return undefined;
    return { line: lineNo, value: parseRecordText(body, `line ${lineNo}`), bytes: body.length + 1 };
  };
  for await (const text of decodeChunks(chunks)) {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const record = finish(pending + text.slice(start, nl));
      pending = '';
      start = nl + 1;
      if (record) yield record;
    }
    if (!overlong) pending += text.slice(start);
    if (pending.length > MAX_RECORD_CHARS) {
      overlong = true;
      pending = '';
    }
  }
  const last = finish(pending);
  if (last) yield last;
}
