import { z } from 'zod';
import { EVENT_LIMITS, ID_PATTERN, NAME_PATTERN } from '../events/limits.ts';
import type { ChurnEvent, ChurnEventInput } from '../events/schemas.ts';
import { validateEvent } from '../events/validate.ts';
import { parseOptions } from '../validation.ts';
import { type DelimitedTable, resolveColumn } from './delimited.ts';
import { type RowProblem, rejectionMessage } from './problems.ts';
import { compactInstant, isBlank, parseAmount, parseEventTime, shiftYears, toAttributeName } from './values.ts';

export const EventLogImportOptions = z.object({
  customerColumn: z.string().min(1),
  timeColumn: z.string().min(1),
  /** Column naming each row's event type; without it every row is `eventType`. */
  typeColumn: z.string().min(1).optional(),
  eventType: z.string().min(1).default('purchase'),
  /** Column with the amount (purchases, payments) or quantity (custom events). */
  valueColumn: z.string().min(1).optional(),
  /** Whether amounts are currency units (default, × 100) or cents. */
  valueUnit: z.enum(['units', 'cents']).default('units'),
  /** Whole years added to every time, e.g. to move a 1997 log into the accepted range (2000–2099). */
  shiftYears: z.number().int().default(0),
  /** Further number columns, each kept as a named measure of the event (`--property cds=number_of_cds`). */
  measureColumns: z
    .array(
      z.object({
        name: z
          .string()
          .regex(NAME_PATTERN, 'a measure name may contain only letters, digits, spaces and . _ : - /')
          .max(EVENT_LIMITS.maxNameLength),
        column: z.string().min(1),
      }),
    )
    .max(EVENT_LIMITS.maxMeasures, `at most ${EVENT_LIMITS.maxMeasures} measure columns`)
    .default([]),
});
export type EventLogImportOptions = z.input<typeof EventLogImportOptions>;

/** Which churnguard event a row becomes, by its type value (compared in lower case, `-`/space as `_`). */
export type MappedType =
  | 'payment_succeeded'
  | 'payment_failed'
  | 'session_started'
  | 'subscription_started'
  | 'subscription_cancelled'
  | 'subscription_reactivated'
  | 'custom';

const TYPE_MAP: ReadonlyArray<readonly [MappedType, readonly string[]]> = [
  ['payment_succeeded', ['purchase', 'order', 'payment', 'transaction', 'sale', 'payment_succeeded']],
  ['payment_failed', ['payment_failed', 'failed_payment']],
  ['session_started', ['session', 'session_started', 'login', 'visit']],
  ['subscription_started', ['subscription_started', 'signup', 'subscribe']],
  ['subscription_cancelled', ['subscription_cancelled', 'cancel', 'cancelled', 'cancellation', 'churn']],
  ['subscription_reactivated', ['subscription_reactivated', 'reactivate', 'reactivation']],
];

/** The event type a row's type value maps to; anything unknown becomes a `custom` event named after it. */
export function mapEventType(value: string): MappedType {
  const key = value
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  return TYPE_MAP.find(([, names]) => names.includes(key))?.[0] ?? 'custom';
}

export interface EventLogImportPlan {
  events: ChurnEvent[];
  problems: RowProblem[];
  counts: { rows: number; imported: number; rejected: number; customers: number; byType: Record<string, number> };
  /** Earliest and latest event time after any shift (ISO), undefined when nothing was imported. */
  range: { first: string; last: string } | undefined;
}

/**
 * Plans the import of an event log (one row per event): customer, time and optionally type and
 * value columns. Types map onto churnguard events (`mapEventType`): purchases and payments become
 * `payment_succeeded` with `amountCents` from the value, sessions, sign-ups, cancellations and
 * reactivations their own types, anything else a `custom` event named after the type with the
 * value as quantity (1 without one). Further number columns (`measureColumns`) become named
 * `measures` of purchases, payments, sessions and custom events. Event ids are deterministic
 * (`import:<customer>:<time>:<type>:<n>`, n counting identical rows in file order), so a re-import
 * is idempotent. Bad rows are reported with their line and kept out.
 *
 * @throws Error for problems of the whole file (unknown columns)
 */
export function planEventLogImport(table: DelimitedTable, options: EventLogImportOptions): EventLogImportPlan {
  const o = parseOptions(EventLogImportOptions, options, 'event log import options');
  const col = {
    customer: resolveColumn(table.header, o.customerColumn, '--customer'),
    time: resolveColumn(table.header, o.timeColumn, '--time'),
    type: o.typeColumn === undefined ? -1 : resolveColumn(table.header, o.typeColumn, '--type'),
    value: o.valueColumn === undefined ? -1 : resolveColumn(table.header, o.valueColumn, '--value'),
    measures: o.measureColumns.map(({ name, column }) => ({ name, index: resolveColumn(table.header, column, `--property ${name}`) })),
  };
  const names = o.measureColumns.map((m) => m.name);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated !== undefined) throw new Error(`--property ${repeated} is given twice: each measure needs its own name`);
  assertTimesInRange(table, col.time, o.shiftYears);
  const width = table.header.length;
  const problems: RowProblem[] = [];
  const events: ChurnEvent[] = [];
  const occurrences = new Map<string, number>();
  const customers = new Set<string>();
  const byType: Record<string, number> = {};
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const { line, cells } of table.rows) {
    const problem = (message: string) => problems.push({ line, message });
    if (cells.length !== width) {
      problem(`has ${cells.length} fields, the header has ${width}`);
      continue;
    }
    const customerId = (cells[col.customer] ?? '').trim();
    if (customerId === '' || !ID_PATTERN.test(customerId) || customerId.length > EVENT_LIMITS.maxIdLength) {
      problem(customerId === '' ? 'empty customer id' : `customer id "${customerId}" may contain only letters, digits and . _ : @ -`);
      continue;
    }
    const timeCell = cells[col.time] ?? '';
    const parsedTime = parseEventTime(timeCell);
    if (parsedTime === undefined) {
      problem(`time "${timeCell}" is not a date (YYYYMMDD, YYYY-MM-DD, ISO 8601, epoch seconds or ms)`);
      continue;
    }
    const ms = shiftYears(parsedTime, o.shiftYears);
    const typeValue = col.type < 0 ? o.eventType : (cells[col.type] ?? '').trim();
    if (typeValue === '') {
      problem('empty event type');
      continue;
    }
    const valueCell = col.value < 0 ? undefined : (cells[col.value] ?? '');
    const value = valueCell === undefined || isBlank(valueCell) ? undefined : parseAmount(valueCell);
    if (valueCell !== undefined && !isBlank(valueCell) && value === undefined) {
      problem(`value "${valueCell}" is not a number`);
      continue;
    }
    const measures = measuresOf(cells, col.measures);
    if (typeof measures === 'string') {
      problem(measures);
      continue;
    }
    const mapped = mapEventType(typeValue);
    const cents = value === undefined ? 0 : Math.round(o.valueUnit === 'units' ? value * 100 : value);
    const properties = propertiesOf(mapped, typeValue, value, cents);
    if (Object.keys(measures).length > 0 && MEASURED_TYPES.has(mapped)) properties.measures = measures;
    const occurredAt = new Date(ms).toISOString();
    const slug = mapped === 'custom' ? toAttributeName(typeValue, 0).replace(/[^A-Za-z0-9._:@-]/g, '_') : mapped;
    const base = `import:${customerId}:${compactInstant(ms)}:${slug}`;
    const n = occurrences.get(base) ?? 0;
    occurrences.set(base, n + 1);
    const draft = {
      eventId: `${base}:${n}`.slice(0, EVENT_LIMITS.maxIdLength),
      customerId,
      type: mapped,
      occurredAt,
      properties,
    } as ChurnEventInput;
    const checked = validateEvent(draft, line);
    if (!checked.ok) {
      problem(rejectionMessage(checked.rejection));
      continue;
    }
    events.push(checked.event);
    customers.add(customerId);
    byType[mapped === 'custom' ? `custom:${typeValue}` : mapped] = (byType[mapped === 'custom' ? `custom:${typeValue}` : mapped] ?? 0) + 1;
    first = Math.min(first, ms);
    last = Math.max(last, ms);
  }
  return {
    events,
    problems,
    counts: {
      rows: table.rows.length,
      imported: events.length,
      rejected: table.rows.length - events.length,
      customers: customers.size,
      byType,
    },
    range: events.length === 0 ? undefined : { first: new Date(first).toISOString(), last: new Date(last).toISOString() },
  };
}

/**
 * A log from before 2000 (CDNOW is 1997–98) cannot be stored as it is: the event contract accepts
 * 2000–2099. Rather than reject every row, say once how to shift the whole log.
 */
function assertTimesInRange(table: DelimitedTable, timeIndex: number, years: number): void {
  let earliest = Number.POSITIVE_INFINITY;
  for (const row of table.rows) {
    const ms = parseEventTime(row.cells[timeIndex] ?? '');
    if (ms !== undefined) earliest = Math.min(earliest, shiftYears(ms, years));
  }
  const min = Date.parse(EVENT_LIMITS.minTimestamp);
  if (earliest < min) {
    const needed = 2000 - new Date(earliest).getUTCFullYear() + years;
    throw new Error(
      `the log starts on ${new Date(earliest).toISOString().slice(0, 10)}, before ${EVENT_LIMITS.minTimestamp.slice(0, 10)} (the earliest time events accept): move the whole log with --shift-years ${needed} (or more)`,
    );
  }
}

/** Event types whose properties carry `measures` (the event contract's activity and payment types). */
const MEASURED_TYPES: ReadonlySet<MappedType> = new Set(['payment_succeeded', 'payment_failed', 'session_started', 'custom']);

/** The row's measures by name (blank cells left out), or a problem naming the cell that is not a number. */
function measuresOf(cells: readonly string[], columns: ReadonlyArray<{ name: string; index: number }>): Record<string, number> | string {
  const measures: Record<string, number> = {};
  for (const { name, index } of columns) {
    const cell = cells[index] ?? '';
    if (isBlank(cell)) continue;
    const n = parseAmount(cell);
    if (n === undefined) return `${name} "${cell}" is not a number`;
    measures[name] = n;
  }
  return measures;
}

function propertiesOf(type: MappedType, typeValue: string, value: number | undefined, cents: number): Record<string, unknown> {
  switch (type) {
    case 'payment_succeeded':
      return { amountCents: cents };
    case 'payment_failed':
      return { amountCents: cents, reason: 'other' };
    case 'subscription_started':
      return { plan: 'imported', mrrCents: cents };
    case 'custom':
      return { name: toAttributeName(typeValue, 0), quantity: value ?? 1 };
    default:
      return {};
  }
}
