import { EVENT_LIMITS, NAME_PATTERN } from '../events/limits.ts';

/** What a column holds, inferred from its non-blank cells. */
export type ColumnType = 'number' | 'boolean' | 'category' | 'empty';

export const isBlank = (cell: string | undefined): boolean => cell === undefined || cell.trim() === '';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A number cell: plain decimal notation. A leading zero followed by digits ("02134", "00001")
 * is a code, not a number, so it stays a category and keeps its zeros.
 */
export function parseNumber(cell: string): number | undefined {
  const text = cell.trim();
  if (!NUMBER.test(text) || /^[+-]?0\d/.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** An amount or quantity cell: plain decimal notation, leading zeros allowed ("007.50"). */
export function parseAmount(cell: string): number | undefined {
  const text = cell.trim();
  if (!NUMBER.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** A boolean cell: true/false in any case, with an optional trailing dot ("True.", as in churn.txt). */
export function parseBoolean(cell: string): boolean | undefined {
  const text = cell.trim().toLowerCase().replace(/\.$/, '');
  return text === 'true' ? true : text === 'false' ? false : undefined;
}

/** Infers a column's type: every non-blank cell a number → number; every one true/false → boolean; else category. */
export function inferColumnType(cells: Iterable<string | undefined>): ColumnType {
  const inference = new ColumnTypeInference();
  for (const cell of cells) {
    inference.add(cell);
    if (inference.type() === 'category') return 'category';
  }
  return inference.type();
}

/** `inferColumnType` one cell at a time, for a file read as a stream: a few flags, whatever the rows. */
export class ColumnTypeInference {
  private seen = false;
  private numbers = true;
  private booleans = true;

  add(cell: string | undefined): void {
    if (cell === undefined || isBlank(cell) || (!this.numbers && !this.booleans)) return;
    this.seen = true;
    if (this.numbers && parseNumber(cell) === undefined) this.numbers = false;
    if (this.booleans && parseBoolean(cell) === undefined) this.booleans = false;
  }

  type(): ColumnType {
    if (!this.seen) return 'empty';
    return this.numbers ? 'number' : this.booleans ? 'boolean' : 'category';
  }
}

/** A cell as a profile attribute value of the column's type (blank → null: missing). */
export function cellValue(cell: string | undefined, type: ColumnType): string | number | boolean | null {
  if (cell === undefined || isBlank(cell)) return null;
  if (type === 'number') return parseNumber(cell) ?? null;
  if (type === 'boolean') return parseBoolean(cell) ?? null;
  return cell.trim();
}

/**
 * A column header as an event name (letters, digits, spaces and `. _ : - /`): other characters
 * become `_` ("Churn?" → "Churn_", "Int'l Plan" → "Int_l Plan").
 */
export function toAttributeName(header: string, position: number): string {
  const cleaned = header
    .trim()
    .replace(/[^A-Za-z0-9._:\-/ ]/g, '_')
    .slice(0, EVENT_LIMITS.maxNameLength);
  return cleaned === '' || !NAME_PATTERN.test(cleaned) ? `column_${position + 1}` : cleaned;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * Epoch ms of an event time cell. Accepts `YYYYMMDD` (19970101), `YYYY-MM-DD`, `YYYY/MM/DD`,
 * ISO 8601 with a zone, ISO date-time without a zone (read as UTC), and epoch seconds (10 digits)
 * or milliseconds (13 digits). Undefined when the cell is none of these or not a real date.
 */
export function parseEventTime(cell: string): number | undefined {
  const text = cell.trim();
  let m = /^(\d{4})(\d{2})(\d{2})$/.exec(text) ?? /^(\d{4})[-/](\d{2})[-/](\d{2})$/.exec(text);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const ms = Date.UTC(y, mo - 1, d);
    const back = new Date(ms);
    return back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d ? ms : undefined;
  }
  if (/^\d{10}$/.test(text)) return Number(text) * 1000;
  if (/^\d{13}$/.test(text)) return Number(text);
  m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(:\d{2}(\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?$/i.exec(text);
  if (m) {
    const ms = Date.parse(`${m[1]}T${m[2]}${m[5] ?? 'Z'}`);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** Moves an instant by whole calendar years (Feb 29 → Mar 1 in a common year). */
export function shiftYears(ms: number, years: number): number {
  if (years === 0) return ms;
  const d = new Date(ms);
  return Date.UTC(
    d.getUTCFullYear() + years,
    d.getUTCMonth(),
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
}

/** `19970101T000000000Z`: an instant as a compact, id-safe string. */
export const compactInstant = (ms: number): string => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}${pad(d.getUTCMilliseconds(), 3)}Z`;
};
