import type { ChurnEvent } from '../events/schemas.ts';
import { type NumericValues, valuesFor } from './columnValues.ts';
import { customFeatureName, FEATURE_DEFINITIONS, profileFeatureName } from './definitions.ts';
import {
  GENERATED_STATS,
  type GeneratedSource,
  type GeneratedStat,
  generatedColumnName,
  generatedDescription,
  streamWords,
} from './generated.ts';
import type { Label } from './labels.ts';
import type { CategoricalColumn, FeatureMatrix, NumericColumn } from './matrix.ts';
import { computeSnapshot, currentMrrCents, type ProfileValue } from './snapshot.ts';
import { eventMeasures, type MeasureKind, type StreamAggregate, streamKey } from './streams.ts';
import { DAY_MS } from './time.ts';

/**
 * One customer at one cutoff before the columns are known: fixed feature values, the raw profile
 * and custom counts (turned into columns once every history has been seen), the label and MRR.
 */
export interface RowDraft {
  customerId: string;
  cutoffMs: number;
  fixed: Float64Array;
  profile: Map<string, ProfileValue>;
  custom: Map<string, number>;
  streams: Map<string, StreamAggregate>;
  label: Label;
  mrrCents: number;
  /** The payment processor's dunning at the cutoff (see `CustomerSnapshot`): next retry and latest failure, NaN when none. */
  nextPaymentRetryMs?: number;
  lastPaymentFailureMs?: number;
}

/** Builds the draft of one customer's row at a cutoff from `events[0, end)`. */
export function draftRow(
  customerId: string,
  events: readonly ChurnEvent[],
  times: Float64Array,
  end: number,
  cutoffMs: number,
  label: Label,
): RowDraft {
  const snapshot = computeSnapshot(events, times, end, cutoffMs);
  const fixed = new Float64Array(FEATURE_DEFINITIONS.length);
  FEATURE_DEFINITIONS.forEach((definition, i) => {
    fixed[i] = definition.value(snapshot);
  });
  return {
    customerId,
    cutoffMs,
    fixed,
    profile: snapshot.profile,
    custom: snapshot.custom30d,
    streams: snapshot.streams,
    label,
    mrrCents: currentMrrCents(snapshot),
    nextPaymentRetryMs: snapshot.nextPaymentRetryMs,
    lastPaymentFailureMs: snapshot.lastFailureMs,
  };
}

/**
 * What the data holds beyond the fixed features: profile attributes with their type and custom
 * event names. An attribute is numeric when every non-null value seen is a number; otherwise
 * (strings, booleans, mixed) it is categorical.
 */
export class SchemaCollector {
  readonly attributes = new Map<string, { numeric: boolean }>();
  readonly customNames = new Set<string>();
  /** Every event stream seen, with the numbers its events carry (name → kind). */
  readonly streams = new Map<string, Map<string, MeasureKind>>();
  /** The earliest event of any customer: how much history the data has. */
  earliestMs = Number.POSITIVE_INFINITY;

  /** Takes note of `events[0, end)` (with their `times`). */
  observe(events: readonly ChurnEvent[], times: Float64Array, end: number): void {
    if (end > 0) this.earliestMs = Math.min(this.earliestMs, times[0] as number);
    for (let i = 0; i < end; i++) {
      const event = events[i] as ChurnEvent;
      const stream = streamKey(event);
      if (stream !== undefined) {
        let measures = this.streams.get(stream);
        if (!measures) {
          measures = new Map();
          this.streams.set(stream, measures);
        }
        for (const [name, , kind] of eventMeasures(event)) if (!measures.has(name)) measures.set(name, kind);
      }
      if (event.type === 'custom') this.customNames.add(event.properties.name);
      else if (event.type === 'customer_profile') {
        for (const [name, value] of Object.entries(event.properties.attributes)) {
          const seen = this.attributes.get(name);
          const numeric = value === null ? (seen?.numeric ?? true) : typeof value === 'number' && (seen?.numeric ?? true);
          if (!seen) this.attributes.set(name, { numeric });
          else seen.numeric = numeric;
        }
      }
    }
  }
}

export interface NumericPlan {
  column: NumericColumn;
  get(row: RowDraft): number;
  /** A generated column's stat: `NumericValues` computes it a stream at a time, as `get` would. */
  stat?: GeneratedStat;
}
interface CategoricalPlan {
  column: CategoricalColumn;
  get(row: RowDraft): string | null;
}

/** The columns of a matrix and how each reads its value from a row draft. */
export interface ColumnPlan {
  numeric: NumericPlan[];
  categorical: CategoricalPlan[];
}

const category = (value: ProfileValue | undefined): string | null => {
  if (value === null || value === undefined) return null;
  const text = String(value);
  return text.trim() === '' ? null : text;
};

const sortedNames = (names: Iterable<string>) => [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * The generated columns (generated.ts) of every stream seen, sorted, and of every number its
 * events carry, sorted: the stats whose window the history before the cutoff spans. With
 * `customEvents`, only those custom event names.
 */
function generatedPlans(schema: SchemaCollector, cutoffMs: number, customEvents?: readonly string[]): NumericPlan[] {
  const historyDays = Number.isFinite(schema.earliestMs) ? (cutoffMs - schema.earliestMs) / DAY_MS : 0;
  const plans: NumericPlan[] = [];
  const add = (source: GeneratedSource, stat: GeneratedStat) => {
    const { stream, measure } = source;
    plans.push({
      column: {
        kind: 'numeric',
        name: generatedColumnName(source),
        family: streamWords(stream).family,
        description: generatedDescription(source),
        generated: source,
      },
      stat,
      get: (row) => {
        const aggregate = row.streams.get(stream);
        return stat.value(aggregate, row.cutoffMs, measure === undefined ? undefined : aggregate?.measures.get(measure));
      },
    });
  };
  const supported = GENERATED_STATS.filter((stat) => stat.needsHistoryDays <= historyDays);
  const configured = customEvents && new Set(customEvents.map((name) => `custom:${name}`));
  for (const stream of sortedNames(schema.streams.keys())) {
    // Configured custom event names are the only custom streams that become columns.
    if (configured && stream.startsWith('custom:') && !configured.has(stream)) continue;
    for (const stat of supported) if (stat.scope === 'stream') add({ stream, stat: stat.stat }, stat);
    const measures = schema.streams.get(stream) ?? new Map<string, MeasureKind>();
    for (const measure of sortedNames(measures.keys())) {
      const measureKind = measures.get(measure) as MeasureKind;
      for (const stat of supported) {
        if (stat.scope === 'measure' && (measureKind !== 'level' || stat.forLevels))
          add({ stream, measure, measureKind, stat: stat.stat }, stat);
      }
    }
  }
  // Names are unique by construction, unless a custom event's name mimics another's path: keep the first.
  const seen = new Set<string>();
  return plans.filter((p) => !seen.has(p.column.name) && seen.add(p.column.name));
}

/**
 * Decides the columns: fixed features, then one count per custom event name (`customEvents`, or
 * every name seen, sorted), then the generated families of every stream and number (for the
 * history before `cutoffMs`), then profile attributes (sorted): numeric ones as numeric columns,
 * the rest as categorical columns whose categories `fitCategories` fills.
 */
export function planColumns(schema: SchemaCollector, cutoffMs: number, customEvents?: readonly string[]): ColumnPlan {
  const numeric: NumericPlan[] = FEATURE_DEFINITIONS.map((d, i) => ({
    column: { kind: 'numeric', name: d.name, family: d.family, description: d.description },
    get: (row) => row.fixed[i] as number,
  }));
  for (const name of customEvents ?? sortedNames(schema.customNames)) {
    numeric.push({
      column: {
        kind: 'numeric',
        name: customFeatureName(name),
        family: 'custom',
        description: `"${name}" custom events in the last 30 days (sum of quantities)`,
      },
      get: (row) => row.custom.get(name) ?? 0,
    });
  }
  numeric.push(...generatedPlans(schema, cutoffMs, customEvents));
  const categorical: CategoricalPlan[] = [];
  for (const name of sortedNames(schema.attributes.keys())) {
    const description = `Profile attribute "${name}" (latest value before the cutoff)`;
    if (schema.attributes.get(name)?.numeric) {
      numeric.push({
        column: { kind: 'numeric', name: profileFeatureName(name), family: 'profile', description },
        get: (row) => {
          const value = row.profile.get(name);
          return typeof value === 'number' ? value : Number.NaN;
        },
      });
    } else {
      categorical.push({
        column: { kind: 'categorical', name: profileFeatureName(name), family: 'profile', description, categories: [] },
        get: (row) => category(row.profile.get(name)),
      });
    }
  }
  return { numeric, categorical };
}

/**
 * Lists each categorical column's categories: those of `fitRows` sorted, then any seen only in
 * `laterRows`, sorted, appended (so codes of fitted categories never move; the model treats the
 * appended ones as unknown).
 */
export function fitCategories(plan: ColumnPlan, fitRows: readonly RowDraft[], laterRows: readonly RowDraft[] = []): void {
  for (const { column, get } of plan.categorical) {
    const fitted = new Set<string>();
    for (const row of fitRows) {
      const value = get(row);
      if (value !== null) fitted.add(value);
    }
    const later = new Set<string>();
    for (const row of laterRows) {
      const value = get(row);
      if (value !== null && !fitted.has(value)) later.add(value);
    }
    column.categories = [...sortedNames(fitted), ...sortedNames(later)];
  }
}

/**
 * Removes columns that carry no information in `rows` (the training rows): a numeric column with
 * a single value and no missing ones, or all missing; a categorical column with at most one value
 * and no missing ones, or all missing. Such a column cannot help a model, and one whose value only
 * differs at scoring time (a tabular import's synthetic timeline) would mislead it.
 */
export function dropUninformative(
  plan: ColumnPlan,
  rows: readonly RowDraft[],
  values?: NumericValues,
): { plan: ColumnPlan; dropped: string[] } {
  const informative = <V>(value: (r: number) => V, isMissing: (v: V) => boolean): boolean => {
    let first: V | undefined;
    let missing = 0;
    let varies = false;
    for (let r = 0; r < rows.length; r++) {
      const v = value(r);
      if (isMissing(v)) missing++;
      else if (first === undefined) first = v;
      else if (v !== first) varies = true;
    }
    if (first === undefined) return false;
    return varies || missing > 0;
  };
  const cache = valuesFor(rows, values);
  const numeric = plan.numeric.filter((p) => {
    const column = cache.of(p);
    return informative((r) => column[r] as number, Number.isNaN);
  });
  const categorical = plan.categorical.filter((p) =>
    informative(
      (r) => p.get(rows[r] as RowDraft),
      (v) => v === null,
    ),
  );
  const kept = new Set([...numeric, ...categorical].map((p) => p.column.name));
  const dropped = [...plan.numeric, ...plan.categorical].map((p) => p.column.name).filter((name) => !kept.has(name));
  return { plan: { numeric, categorical }, dropped };
}

const byCustomerId = (a: RowDraft, b: RowDraft): number => (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0);

/**
 * Fills the typed arrays of a matrix from row drafts, ordered by customer id (stable, so rows of
 * one customer keep their cutoff order). A parallel Scan delivers customers in a different order
 * on every run; without this order, training on the same data would not be reproducible.
 */
export function toMatrix(plan: ColumnPlan, unorderedRows: readonly RowDraft[], cutoff: string, values?: NumericValues): FeatureMatrix {
  // Indices sorted instead of rows (Array#sort is stable, so the order is the same): the cached
  // columns are in the order of `unorderedRows`.
  const order = unorderedRows.map((_, i) => i).sort((a, b) => byCustomerId(unorderedRows[a] as RowDraft, unorderedRows[b] as RowDraft));
  const rows = order.map((i) => unorderedRows[i] as RowDraft);
  const nNum = plan.numeric.length;
  const nCat = plan.categorical.length;
  const numeric = new Float64Array(rows.length * nNum);
  const categorical = new Int32Array(rows.length * nCat);
  const labels = new Int8Array(rows.length);
  const mrrCents = new Float64Array(rows.length);
  const nextRetryMs = new Float64Array(rows.length);
  const lastFailureMs = new Float64Array(rows.length);
  const cache = valuesFor(unorderedRows, values);
  plan.numeric.forEach((p, c) => {
    const column = cache.of(p);
    for (let r = 0; r < order.length; r++) numeric[r * nNum + c] = column[order[r] as number] as number;
  });
  const codes = plan.categorical.map(({ column }) => new Map(column.categories.map((c, i) => [c, i])));
  rows.forEach((row, r) => {
    plan.categorical.forEach(({ get }, c) => {
      const value = get(row);
      categorical[r * nCat + c] = value === null ? -1 : (codes[c]?.get(value) ?? -1);
    });
    labels[r] = row.label;
    mrrCents[r] = row.mrrCents;
    nextRetryMs[r] = row.nextPaymentRetryMs ?? Number.NaN;
    lastFailureMs[r] = row.lastPaymentFailureMs ?? Number.NaN;
  });
  return {
    cutoff,
    customerIds: rows.map((row) => row.customerId),
    numericColumns: plan.numeric.map((p) => ({ ...p.column })),
    categoricalColumns: plan.categorical.map((p) => ({ ...p.column, categories: [...p.column.categories] })),
    numeric,
    categorical,
    labels,
    mrrCents,
    paymentDunning: { nextRetryMs, lastFailureMs },
  };
}
