import { z } from 'zod';
import { EVENT_LIMITS, ID_PATTERN } from '../events/limits.ts';
import type { ChurnEvent, ChurnEventInput } from '../events/schemas.ts';
import { validateEvent } from '../events/validate.ts';
import { DAY_MS, parseInstant } from '../features/time.ts';
import { parseOptions } from '../validation.ts';
import { type DelimitedTable, resolveColumn } from './delimited.ts';
import { IdRegistry } from './idRegistry.ts';
import { type RowProblem, rejectionMessage } from './problems.ts';
import { type ColumnType, ColumnTypeInference, cellValue, isBlank, toAttributeName } from './values.ts';

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
function positiveValue(values: ReadonlySet<string>, given: string | undefined, column: string): string {
  if (given !== undefined) return normaliseLabel(given);
  for (const [yes, no] of POSITIVE_PAIRS) if ([...values].every((v) => v === yes || v === no)) return yes;
  const shown = [...values].slice(0, 10).join(', ');
  throw new Error(`cannot tell which value of label column ${column} means churned (values: ${shown}): pass --positive VALUE`);
}

/** Distinct label values kept: enough to tell a yes/no pair from anything else and to show ten. */
const MAX_LABEL_VALUES = 12;

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
  const planner = new TablePlanner(table.header, options);
  for (const row of table.rows) planner.checkRow(row);
  if (planner.needsSecondLook) for (const row of table.rows) planner.lookAgain(row);
  planner.endChecks();
  for (const row of table.rows) planner.inferRow(row);
  planner.endInference();
  const events = table.rows.flatMap((row) => planner.eventsOf(row));
  return { events, ...planner.summary() };
}

type Row = { line: number; cells: string[] };

/** Why the file is read (again): each pass reads it whole. `repeats` only happens when ids may repeat. */
export type TablePass = 'header' | 'checks' | 'repeats' | 'types' | 'events';

/** A table import read as a stream: the plan's summary comes after `events()` has been consumed. */
export interface TableImportStream {
  header: string[];
  planner: TablePlanner;
  /** The last pass: the events, row by row. */
  events(): AsyncGenerator<ChurnEvent>;
}

/**
 * `planTableImport` over a file read as a stream, pass after pass (`openRows` opens it again
 * each time; the first row is the header): checks and inference happen here, the events come
 * from `events()`.
 */
export async function streamTableImport(
  openRows: (pass: TablePass) => AsyncIterable<Row>,
  options: TableImportOptions,
): Promise<TableImportStream> {
  let header: string[] | undefined;
  for await (const row of openRows('header')) {
    header = row.cells;
    break;
  }
  if (header === undefined) throw new Error('the file is empty: expected a header line naming the columns');
  async function* dataRows(pass: TablePass): AsyncGenerator<Row> {
    let first = true;
    for await (const row of openRows(pass)) {
      if (!first) yield row;
      first = false;
    }
  }
  const planner = new TablePlanner(header, options);
  for await (const row of dataRows('checks')) planner.checkRow(row);
  if (planner.needsSecondLook) for await (const row of dataRows('repeats')) planner.lookAgain(row);
  planner.endChecks();
  for await (const row of dataRows('types')) planner.inferRow(row);
  planner.endInference();
  async function* events(): AsyncGenerator<ChurnEvent> {
    for await (const row of dataRows('events')) yield* planner.eventsOf(row);
  }
  return { header, planner, events };
}

/**
 * The table import one row at a time, in three passes over the rows, so that a file read as a
 * stream never sits in memory: `checkRow` (shape and ids; duplicates are known only at the end),
 * `inferRow` (column types and label values of the rows that will be imported), `eventsOf` (the
 * events of each row). What it keeps grows with the customer ids (to find duplicates) and the
 * problems, not with the cells.
 */
export class TablePlanner {
  private readonly o: z.output<typeof TableImportOptions>;
  private readonly idIndex: number;
  private readonly labelIndex: number;
  private readonly dropped: Set<number>;
  private readonly ids = new IdRegistry();
  private duplicates = new Map<string, number[]>();
  private readonly problems: RowProblem[] = [];
  private readonly inference: ColumnTypeInference[];
  private readonly labels = new Set<string>();
  private columns: Array<ImportedColumn & { index: number }> = [];
  private readonly skippedColumns: string[] = [];
  private positive: string | undefined;
  readonly timeline: TableTimeline;
  readonly counts = { rows: 0, imported: 0, churners: 0, stayers: 0, unlabelled: 0, rejected: 0 };

  constructor(
    private readonly header: readonly string[],
    options: TableImportOptions,
  ) {
    this.o = parseOptions(TableImportOptions, options, 'table import options');
    this.idIndex = this.o.idColumn === undefined ? -1 : resolveColumn(header, this.o.idColumn, '--id');
    this.labelIndex = this.o.labelColumn === undefined ? -1 : resolveColumn(header, this.o.labelColumn, '--label');
    this.dropped = new Set(this.o.drop.map((d) => resolveColumn(header, d, '--drop')));
    this.inference = header.map(() => new ColumnTypeInference());
    this.timeline = tableTimeline(this.o.asOf, this.o.horizonDays);
  }

  private idOf(row: Row): string {
    return this.idIndex < 0 ? `${this.o.idPrefix}-${row.line}` : (row.cells[this.idIndex] ?? '').trim();
  }

  /** Why a row is kept out for its shape or its id, or undefined. */
  private rowProblem(row: Row): string | undefined {
    const width = this.header.length;
    if (row.cells.length !== width) return `has ${row.cells.length} fields, the header has ${width}`;
    const id = this.idOf(row);
    if (id === '') return `empty customer id in column ${this.header[this.idIndex]}`;
    if (!ID_PATTERN.test(id) || id.length > EVENT_LIMITS.maxIdLength)
      return `customer id "${id}" may contain only letters, digits and . _ : @ - (at most ${EVENT_LIMITS.maxIdLength} characters)`;
    return undefined;
  }

  private usable(row: Row): boolean {
    return this.rowProblem(row) === undefined && !this.duplicates.has(this.idOf(row));
  }

  /** Pass 1: shape and id of every row. */
  checkRow(row: Row): void {
    this.counts.rows++;
    const problem = this.rowProblem(row);
    if (problem !== undefined) {
      this.problems.push({ line: row.line, message: problem });
      return;
    }
    if (this.idIndex >= 0) this.ids.add(this.idOf(row)); // ids by line never repeat
  }

  /** Whether some ids may repeat: then `lookAgain` must see every row before `endChecks`. */
  get needsSecondLook(): boolean {
    return this.ids.hasSuspects;
  }

  /** Pass 1b: the lines of the ids that may repeat. */
  lookAgain(row: Row): void {
    if (this.idIndex >= 0 && this.rowProblem(row) === undefined) this.ids.confirm(this.idOf(row), row.line);
  }

  /** After pass 1: every row of a duplicated id is kept out. */
  endChecks(): void {
    this.duplicates = this.ids.duplicates();
    for (const [id, lines] of this.duplicates)
      for (const line of lines)
        this.problems.push({ line, message: `duplicate customer id "${id}" (lines ${lines.join(', ')}): none of them is imported` });
  }

  /** Pass 2: column types and label values, from the rows that will be imported. */
  inferRow(row: Row): void {
    if (!this.usable(row)) return;
    for (const [index, inference] of this.inference.entries()) inference.add(row.cells[index]);
    const label = this.labelIndex < 0 ? '' : (row.cells[this.labelIndex] ?? '');
    if (!isBlank(label) && this.labels.size < MAX_LABEL_VALUES) this.labels.add(normaliseLabel(label));
  }

  /**
   * After pass 2: the attribute columns and the positive label value.
   *
   * @throws Error when there are more attribute columns than a profile holds, or the label values are ambiguous
   */
  endInference(): void {
    const usedNames = new Set<string>();
    for (const [index, name] of this.header.entries()) {
      const skip = index === this.idIndex || index === this.labelIndex || this.dropped.has(index);
      const type = skip ? 'empty' : (this.inference[index]?.type() ?? 'empty');
      if (type === 'empty') {
        this.skippedColumns.push(name);
        continue;
      }
      let attribute = toAttributeName(name, index);
      for (let k = 2; usedNames.has(attribute); k++) attribute = `${toAttributeName(name, index)}_${k}`;
      usedNames.add(attribute);
      this.columns.push({ column: name, attribute, type, index });
    }
    if (this.columns.length > EVENT_LIMITS.maxProfileAttributes) {
      throw new Error(
        `the table has ${this.columns.length} attribute columns, a profile holds at most ${EVENT_LIMITS.maxProfileAttributes}: leave some out with --drop`,
      );
    }
    this.positive = this.labelIndex < 0 ? undefined : positiveValue(this.labels, this.o.positive, this.header[this.labelIndex] ?? '');
  }

  /** Pass 3: the events of one row (none for a row kept out), validated by the event contract. */
  eventsOf(row: Row): ChurnEvent[] {
    if (!this.usable(row)) return [];
    const { timeline } = this;
    const customerId = this.idOf(row);
    const labelCell = this.labelIndex < 0 ? '' : (row.cells[this.labelIndex] ?? '');
    const kind = isBlank(labelCell) ? 'unlabelled' : normaliseLabel(labelCell) === this.positive ? 'churner' : 'stayer';
    const seenAt = kind === 'unlabelled' ? timeline.recentAt : timeline.labelledProfileAt;
    const attributes = Object.fromEntries(this.columns.map((c) => [c.attribute, cellValue(row.cells[c.index], c.type)]));
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
    const events: ChurnEvent[] = [];
    for (const c of checked) {
      if (!c.ok) {
        this.problems.push({ line: row.line, message: rejectionMessage(c.rejection) });
        return [];
      }
      events.push(c.event);
    }
    this.counts.imported++;
    if (kind === 'churner') this.counts.churners++;
    else if (kind === 'stayer') this.counts.stayers++;
    else this.counts.unlabelled++;
    return events;
  }

  /** After pass 3: everything but the events. */
  summary(): Omit<TableImportPlan, 'events'> {
    this.counts.rejected = this.counts.rows - this.counts.imported;
    this.problems.sort((a, b) => a.line - b.line);
    return {
      problems: this.problems,
      columns: this.columns.map(({ column, attribute, type }) => ({ column, attribute, type })),
      skippedColumns: this.skippedColumns,
      positive: this.positive,
      counts: { ...this.counts },
      timeline: this.timeline,
    };
  }
}
