import { z } from 'zod';
import { EVENT_LIMITS, ID_PATTERN } from '../events/limits.ts';
import type { ChurnEvent, ChurnEventInput } from '../events/schemas.ts';
import { validateEvent } from '../events/validate.ts';
import { DAY_MS, parseInstant } from '../features/time.ts';
import { parseOptions } from '../validation.ts';
import { type DelimitedTable, resolveColumn } from './delimited.ts';
import { type RowProblem, rejectionMessage } from './problems.ts';
import { type ColumnType, cellValue, inferColumnType, isBlank, toAttributeName } from './values.ts';

export const TableImportOptions = z.object({
  /** Column of customer ids; without one, ids are `<idPrefix>-<line>`. */
  idColumn: z.string().min(1).optional(),
  idPrefix: z.string().regex(ID_PATTERN, 'idPrefix may contain only letters, digits and . _ : @ -').default('row'),
  /** Column saying whether the customer churned; blank cells are unlabelled rows. */
  labelColumn: z.string().min(1).optional(),
  /** The label value meaning "churned"; default: Yes, True or 1 when the column holds such pairs. */
  positive: z.string().optional(),
  /** Columns left out of the profile (besides id and label). */
  drop: z.array(z.string()).default([]),
  /** The present of the imported data: training and scoring must use the same as-of. */
  asOf: z.string().transform((s) => parseInstant(s, 'asOf')),
  horizonDays: z.number().int().positive().default(30),
});
export type TableImportOptions = z.input<typeof TableImportOptions>;

export interface ImportedColumn {
  column: string;
  /** The profile attribute name (differs when the header has characters names cannot hold). */
  attribute: string;
  type: ColumnType;
}

/** When the importer places each kind of row, so train and score see the table's labels. */
export interface TableTimeline {
  asOf: string;
  /** asOf − horizon: the cutoff whose labels train and validation use. */
  labelledCutoff: string;
  /** Profile (and a session) of labelled rows: 3 days before the labelled cutoff. */
  labelledProfileAt: string;
  /** Cancellation of churners: 1 day after the labelled cutoff, inside its horizon. */
  churnAt: string;
  /** A session of stayers and the profile of unlabelled rows: 1 day before asOf. */
  recentAt: string;
}

export interface TableImportPlan {
  events: ChurnEvent[];
  problems: RowProblem[];
  columns: ImportedColumn[];
  /** Columns left out: id, label, dropped, and those with no values. */
  skippedColumns: string[];
  positive: string | undefined;
  counts: { rows: number; imported: number; churners: number; stayers: number; unlabelled: number; rejected: number };
  timeline: TableTimeline;
}

const normaliseLabel = (s: string) => s.trim().toLowerCase().replace(/\.$/, '');
const POSITIVE_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['yes', 'no'],
  ['true', 'false'],
  ['1', '0'],
  ['y', 'n'],
  ['churned', 'retained'],
  ['churned', 'active'],
];

/** The label value that means churned: the one given, or the positive side of a yes/no, true/false or 1/0 column. */
function positiveValue(cells: string[], given: string | undefined, column: string): string {
  if (given !== undefined) return normaliseLabel(given);
  const values = new Set(cells.filter((c) => !isBlank(c)).map(normaliseLabel));
  for (const [yes, no] of POSITIVE_PAIRS) if ([...values].every((v) => v === yes || v === no)) return yes;
  const shown = [...values].slice(0, 10).join(', ');
  throw new Error(`cannot tell which value of label column ${column} means churned (values: ${shown}): pass --positive VALUE`);
}

/**
 * The timeline (see README): a table has no time, so the importer gives it one that lines up with
 * `buildDatasets` cutoffs. With A = asOf and h = horizon, the labelled cutoff is V = A − h:
 * labelled rows appear at V − 3d (profile + a session), churners cancel at V + 1d (label 1 at V),
 * stayers have a session at A − 1d (label 0 at V, active at A). Unlabelled rows appear at A − 1d:
 * they exist only at scoring time and are never examples. Only one cutoff has labels, so
 * `buildDatasets` splits validation off by customer. Nothing is placed after A − 1d, so a train
 * run with asOf = the latest event + 1 ms, or "now" within a day after A − 1d, sees the same.
 */
export function tableTimeline(asOf: string, horizonDays: number): TableTimeline {
  const a = Date.parse(asOf);
  const v = a - horizonDays * DAY_MS;
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    asOf: iso(a),
    labelledCutoff: iso(v),
    labelledProfileAt: iso(v - 3 * DAY_MS),
    churnAt: iso(v + DAY_MS),
    recentAt: iso(a - DAY_MS),
  };
}

/**
 * Plans the import of a customer table (one row per customer): a `customer_profile` event per
 * row with every other column as an attribute (types inferred: numbers, true/false, categories;
 * blanks missing), plus events that carry the label (see `tableTimeline`). Event ids are
 * deterministic (`import:<id>:profile`...), so importing the same file with the same asOf again
 * stores nothing new. Bad rows (wrong number of cells, empty, invalid or duplicate id, a value
 * the event contract refuses) are reported with their line and kept out; the rest are imported.
 *
 * @throws Error for problems of the whole file: unknown column, ambiguous label values
 */
export function planTableImport(table: DelimitedTable, options: TableImportOptions): TableImportPlan {
  const o = parseOptions(TableImportOptions, options, 'table import options');
  const idIndex = o.idColumn === undefined ? -1 : resolveColumn(table.header, o.idColumn, '--id');
  const labelIndex = o.labelColumn === undefined ? -1 : resolveColumn(table.header, o.labelColumn, '--label');
  const dropped = new Set(o.drop.map((d) => resolveColumn(table.header, d, '--drop')));
  const problems: RowProblem[] = [];
  const keepOut = (line: number, message: string): false => {
    problems.push({ line, message });
    return false;
  };
  const width = table.header.length;

  const shaped = table.rows.filter((row) => {
    return row.cells.length === width || keepOut(row.line, `has ${row.cells.length} fields, the header has ${width}`);
  });
  const idOf = (row: { line: number; cells: string[] }) => (idIndex < 0 ? `${o.idPrefix}-${row.line}` : (row.cells[idIndex] ?? '').trim());
  const linesById = new Map<string, number[]>();
  for (const row of shaped) {
    const id = idOf(row);
    linesById.set(id, [...(linesById.get(id) ?? []), row.line]);
  }
  const rows = shaped.filter((row) => {
    const id = idOf(row);
    if (id === '') return keepOut(row.line, `empty customer id in column ${table.header[idIndex]}`);
    if (!ID_PATTERN.test(id) || id.length > EVENT_LIMITS.maxIdLength) {
      return keepOut(
        row.line,
        `customer id "${id}" may contain only letters, digits and . _ : @ - (at most ${EVENT_LIMITS.maxIdLength} characters)`,
      );
    }
    const lines = linesById.get(id) ?? [];
    return lines.length === 1 || keepOut(row.line, `duplicate customer id "${id}" (lines ${lines.join(', ')}): none of them is imported`);
  });

  const skippedColumns: string[] = [];
  const columns: Array<ImportedColumn & { index: number }> = [];
  const usedNames = new Set<string>();
  for (const [index, name] of table.header.entries()) {
    const type =
      index === idIndex || index === labelIndex || dropped.has(index) ? 'empty' : inferColumnType(rows.map((row) => row.cells[index]));
    if (type === 'empty') {
      skippedColumns.push(name);
      continue;
    }
    let attribute = toAttributeName(name, index);
    for (let k = 2; usedNames.has(attribute); k++) attribute = `${toAttributeName(name, index)}_${k}`;
    usedNames.add(attribute);
    columns.push({ column: name, attribute, type, index });
  }
  if (columns.length > EVENT_LIMITS.maxProfileAttributes) {
    throw new Error(
      `the table has ${columns.length} attribute columns, a profile holds at most ${EVENT_LIMITS.maxProfileAttributes}: leave some out with --drop`,
    );
  }

  const positive =
    labelIndex < 0
      ? undefined
      : positiveValue(
          rows.map((r) => r.cells[labelIndex] ?? ''),
          o.positive,
          table.header[labelIndex] ?? '',
        );
  const timeline = tableTimeline(o.asOf, o.horizonDays);
  const events: ChurnEvent[] = [];
  const counts = { rows: table.rows.length, imported: 0, churners: 0, stayers: 0, unlabelled: 0, rejected: 0 };
  for (const row of rows) {
    const customerId = idOf(row);
    const labelCell = labelIndex < 0 ? '' : (row.cells[labelIndex] ?? '');
    const kind = isBlank(labelCell) ? 'unlabelled' : normaliseLabel(labelCell) === positive ? 'churner' : 'stayer';
    const seenAt = kind === 'unlabelled' ? timeline.recentAt : timeline.labelledProfileAt;
    const attributes = Object.fromEntries(columns.map((c) => [c.attribute, cellValue(row.cells[c.index], c.type)]));
    const drafts: ChurnEventInput[] = [
      { eventId: `import:${customerId}:profile`, customerId, type: 'customer_profile', occurredAt: seenAt, properties: { attributes } },
      { eventId: `import:${customerId}:seen`, customerId, type: 'session_started', occurredAt: seenAt, properties: {} },
    ];
    if (kind === 'churner')
      drafts.push({
        eventId: `import:${customerId}:churned`,
        customerId,
        type: 'subscription_cancelled',
        occurredAt: timeline.churnAt,
        properties: { reason: 'imported label' },
      });
    if (kind === 'stayer')
      drafts.push({
        eventId: `import:${customerId}:stayed`,
        customerId,
        type: 'session_started',
        occurredAt: timeline.recentAt,
        properties: {},
      });
    const checked = drafts.map((draft) => validateEvent(draft, row.line));
    const failed = checked.find((c) => !c.ok);
    if (failed && !failed.ok) {
      problems.push({ line: row.line, message: rejectionMessage(failed.rejection) });
      continue;
    }
    for (const c of checked) if (c.ok) events.push(c.event);
    counts.imported++;
    if (kind === 'churner') counts.churners++;
    else if (kind === 'stayer') counts.stayers++;
    else counts.unlabelled++;
  }
  counts.rejected = counts.rows - counts.imported;
  problems.sort((a, b) => a.line - b.line);
  return {
    events,
    problems,
    columns: columns.map(({ column, attribute, type }) => ({ column, attribute, type })),
    skippedColumns,
    positive,
    counts,
    timeline,
  };
}
