import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { UnreadableRecord } from '../ingest.ts';
import type { SourceRecord } from './sourceRecord.ts';

/** Property names that are text in the event contract: a CSV cell `123` stays "123" there. */
const TEXT_PROPERTIES = new Set([
  'feature',
  'plan',
  'fromPlan',
  'toPlan',
  'reason',
  'ticketId',
  'priority',
  'currency',
  'expiresOn',
  'comment',
  'name',
]);
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Reads a CSV cell as JSON would have said it: numbers and booleans inferred, empty cells absent. */
export function inferCell(cell: string, textOnly: boolean): unknown {
  if (textOnly) return cell;
  if (cell === 'true' || cell === 'false') return cell === 'true';
  if (NUMBER.test(cell.trim())) return Number(cell);
  return cell;
}

const setPath = (target: Record<string, unknown>, path: string[], value: unknown): void => {
  let node = target;
  path.slice(0, -1).forEach((key) => {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  });
  node[path[path.length - 1] ?? ''] = value;
};

/**
 * Turns one CSV row into an event-shaped object. Columns: `eventId`, `customerId`, `type`,
 * `occurredAt` (text as is), `properties` (a JSON object), and `properties.<name>` cells
 * (dotted names nest: `properties.attributes.country`). Other columns are kept, so validation
 * names them as unknown fields.
 */
export function csvRowToEvent(header: readonly string[], cells: readonly string[]): unknown {
  const event: Record<string, unknown> = {};
  for (const [i, column] of header.entries()) {
    const cell = cells[i];
    if (cell === undefined || cell === '') continue;
    if (column === 'properties') {
      try {
        const parsed: unknown = JSON.parse(cell);
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
          return new UnreadableRecord('the properties column must hold a JSON object', 'properties');
        event.properties = { ...(event.properties as object | undefined), ...parsed };
      } catch (error) {
        return new UnreadableRecord(
          `the properties column is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
          'properties',
        );
      }
    } else if (column.startsWith('properties.')) {
      const path = column.split('.').slice(1);
      // A header like `properties.__proto__.x` must not reach Object.prototype.
      if (path.some((key) => UNSAFE_KEYS.has(key) || key === ''))
        return new UnreadableRecord(`column "${column}" is not a usable property path`, column);
      const textOnly = path.length === 1 && TEXT_PROPERTIES.has(path[0] ?? '');
      event.properties ??= {};
      const properties = event.properties as Record<string, unknown>;
      setPath(properties, path, inferCell(cell, textOnly));
    } else if (column === 'schemaVersion') {
      event[column] = inferCell(cell, false);
    } else {
      event[column] = cell;
    }
  }
  if (cells.length > header.length)
    return new UnreadableRecord(`row has ${cells.length} cells but the header has ${header.length} columns`);
  return event;
}

/**
 * Streams events from CSV text or byte chunks; the first row is the header. Every event-type
 * needs only its own `properties.*` cells; the others stay empty.
 */
export async function* readCsv(chunks: AsyncIterable<string | Uint8Array>): AsyncGenerator<SourceRecord> {
  const parser = Readable.from(chunks).pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true }));
  let header: string[] | undefined;
  for await (const row of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    if (header === undefined) {
      header = row.record.map((h) => h.trim());
      continue;
    }
    // Size as JSON: the cells plus, roughly, the keys they become.
    yield { line: row.info.lines, value: csvRowToEvent(header, row.record), bytes: row.record.reduce((n, c) => n + c.length + 1, 0) + 64 };
  }
}
