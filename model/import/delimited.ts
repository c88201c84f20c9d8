import { parse } from 'csv-parse/sync';

/** A delimited text file: header and rows, each row with the line it starts on (1-based). */
export interface DelimitedTable {
  /** The delimiter used: a character, or `whitespace` (runs of spaces and tabs). */
  delimiter: string;
  header: string[];
  rows: Array<{ line: number; cells: string[] }>;
}

export interface DelimitedOptions {
  /** `,` `;` `|` a tab, or `comma`, `tab`, `semicolon`, `pipe`, `whitespace`. Default: guessed from the first line. */
  delimiter?: string | undefined;
  /** Whether the first line names the columns (default true); otherwise columns are named 1, 2, 3... */
  header?: boolean | undefined;
}

const ALIASES: Record<string, string> = {
  comma: ',',
  tab: '\t',
  '\\t': '\t',
  semicolon: ';',
  pipe: '|',
  whitespace: 'whitespace',
  space: 'whitespace',
  ws: 'whitespace',
};

/** Resolves a `--delimiter` value; throws naming the accepted forms. */
export function resolveDelimiter(value: string): string {
  const resolved = ALIASES[value.toLowerCase()] ?? (value.length === 1 ? value : undefined);
  if (resolved === undefined)
    throw new Error(`delimiter "${value}" is not supported: use one character or comma, tab, semicolon, pipe, whitespace`);
  return resolved;
}

/** Guesses the delimiter from the first line: comma, tab, semicolon, pipe, else whitespace. */
export function detectDelimiter(firstLine: string): string {
  for (const candidate of [',', '\t', ';', '|']) if (firstLine.includes(candidate)) return candidate;
  return 'whitespace';
}

function splitWhitespace(text: string): Array<{ line: number; cells: string[] }> {
  const rows: Array<{ line: number; cells: string[] }> = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed !== '') rows.push({ line: i + 1, cells: trimmed.split(/[ \t]+/) });
  });
  return rows;
}

function splitQuoted(text: string, delimiter: string): Array<{ line: number; cells: string[] }> {
  const records = parse(text, {
    delimiter,
    bom: true,
    info: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    trim: true,
  }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  return records.map(({ record, info }) => ({ line: info.lines, cells: record }));
}

/**
 * Reads CSV-like text (quoted fields, any single-character delimiter, or whitespace-separated
 * columns like the CDNOW log). Cells are trimmed. Rows keep their line numbers so that problems
 * can point at them; a row with the wrong number of cells is kept for the caller to report.
 */
export function parseDelimited(text: string, options: DelimitedOptions = {}): DelimitedTable {
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = body.slice(0, body.search(/\r?\n|$/));
  const delimiter = options.delimiter === undefined ? detectDelimiter(firstLine) : resolveDelimiter(options.delimiter);
  const rows = delimiter === 'whitespace' ? splitWhitespace(body) : splitQuoted(body, delimiter);
  if (options.header === false) {
    const width = Math.max(0, ...rows.map((r) => r.cells.length));
    return { delimiter, header: Array.from({ length: width }, (_, i) => String(i + 1)), rows };
  }
  const [head, ...data] = rows;
  if (!head) throw new Error('the file is empty: expected a header line naming the columns');
  return { delimiter, header: head.cells, rows: data };
}

/**
 * Finds a column by name (exact, then ignoring case) or by 1-based position (`3`).
 *
 * @param what the option naming it, for the error, e.g. `--id`
 */
export function resolveColumn(header: readonly string[], spec: string, what: string): number {
  const exact = header.indexOf(spec);
  if (exact >= 0) return exact;
  const folded = header.findIndex((h) => h.toLowerCase() === spec.toLowerCase());
  if (folded >= 0) return folded;
  if (/^\d+$/.test(spec) && Number(spec) >= 1 && Number(spec) <= header.length) return Number(spec) - 1;
  throw new Error(`${what} ${spec}: no such column; the columns are: ${header.join(', ')}`);
}
