import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { detectDelimiter, resolveDelimiter } from './delimited.ts';

/** A row of a delimited file and the line it starts on (1-based). */
export interface DelimitedRow {
  line: number;
  cells: string[];
}

/** Text read before the delimiter is guessed from the first line, at most. */
const MAX_FIRST_LINE_CHARS = 1024 * 1024;

/**
 * `parseDelimited` as a stream: the rows of CSV-like text (quoted fields, any one-character
 * delimiter, or whitespace-separated columns), header included, read chunk by chunk, so a 1 GB
 * file never sits in memory. The same csv-parse settings, so both read a file alike.
 *
 * @param delimiter as `--delimiter` takes it; default guessed from the first line
 */
export async function* streamDelimited(texts: AsyncIterable<string>, delimiter?: string): AsyncGenerator<DelimitedRow> {
  const iterator = texts[Symbol.asyncIterator]();
  const head: string[] = [];
  let seen = '';
  while (!/\r?\n/.test(seen) && seen.length < MAX_FIRST_LINE_CHARS) {
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
    seen += next.value;
  }
  const body = seen.replace(/^\uFEFF/, '');
  const chosen = delimiter === undefined ? detectDelimiter(body.slice(0, body.search(/\r?\n|$/))) : resolveDelimiter(delimiter);
  async function* all(): AsyncGenerator<string> {
    yield* head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  if (chosen === 'whitespace') yield* whitespaceRows(all());
  else yield* quotedRows(all(), chosen);
}

async function* whitespaceRows(texts: AsyncIterable<string>): AsyncGenerator<DelimitedRow> {
  let rest = '';
  let line = 0;
  const row = (raw: string): DelimitedRow | undefined => {
    line++;
    const trimmed = raw.replace(/^\uFEFF/, '').trim();
    return trimmed === '' ? undefined : { line, cells: trimmed.split(/[ \t]+/) };
  };
  for await (const text of texts) {
    const lines = (rest + text).split('\n');
    rest = lines.pop() ?? '';
    for (const raw of lines) {
      const r = row(raw);
      if (r) yield r;
    }
  }
  const last = row(rest);
  if (last) yield last;
}

async function* quotedRows(texts: AsyncIterable<string>, delimiter: string): AsyncGenerator<DelimitedRow> {
  const source = Readable.from(texts);
  const parser = source.pipe(
    parse({ delimiter, bom: true, info: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, trim: true }),
  );
  // pipe() does not pass errors on: a read error must end the rows (and a reader that stops early
  // closes the file under the source, which must not become an unhandled error).
  source.on('error', (error) => parser.destroy(error));
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    yield { line: info.lines, cells: record };
  }
}
