import { z } from 'zod';
import { fnv1a } from '../hash.ts';
import { parseOptions } from '../validation.ts';
import { ChurnDefinition, DEFAULT_CHURN } from './churnDefinition.ts';
import { budgetGeneratedColumns, dropDuplicateColumns, MIN_CHURNERS_PER_GENERATED_COLUMN } from './columnSelection.ts';
import { NumericValues } from './columnValues.ts';
import { type CustomerHistory, sortedEvents } from './history.ts';
import { isActiveAt, type Label, labelAt } from './labels.ts';
import type { FeatureMatrix } from './matrix.ts';
import {
  type ColumnPlan,
  draftRow,
  dropUninformative,
  fitCategories,
  planColumns,
  type RowDraft,
  SchemaCollector,
  toMatrix,
} from './matrixBuilder.ts';
import { cutoffIndex, eventTimes } from './snapshot.ts';
import { DAY_MS, Instant, parseInstant, startOfNextUtcDay } from './time.ts';

const CustomEvents = z.array(z.string().min(1)).optional();

/** Options of `buildDatasets`, checked with a clear error per field. */
export const DatasetOptions = z.object({
  /** The present: scoring cutoff; nothing at or after it is used for features. */
  asOf: Instant('asOf'),
  horizonDays: z
    .number({ error: 'horizonDays must be a number' })
    .int('horizonDays must be whole days')
    .positive('horizonDays must be positive'),
  churn: ChurnDefinition,
  /** Past cutoffs before the validation cutoff that give training examples. */
  trainingCutoffs: z
    .number()
    .int()
    .min(0, 'trainingCutoffs must not be negative')
    .max(104, 'trainingCutoffs must be at most 104')
    .default(4),
  /** Days between training cutoffs; defaults to the horizon (windows do not overlap). */
  cutoffSpacingDays: z.number().int().positive('cutoffSpacingDays must be positive').optional(),
  /** Custom event names that become columns; default: every name seen before asOf. */
  customEvents: CustomEvents,
  /** Share of customers held out for validation when only one cutoff has labels. */
  validationFraction: z.number().gt(0).lt(1).default(0.2),
  /** Keep columns that are constant on the training rows (default: drop them). */
  keepConstantColumns: z.boolean().default(false),
  /** Training churners per generated column: the data's size bounds how many generated columns the model gets. */
  minChurnersPerGeneratedColumn: z.number().positive().default(MIN_CHURNERS_PER_GENERATED_COLUMN),
});
export type DatasetOptions = z.input<typeof DatasetOptions>;

export interface Datasets {
  train: FeatureMatrix;
  validation: FeatureMatrix;
  scoring: FeatureMatrix;
  /** Cutoffs, oldest first; `training` lists the cutoffs the training rows come from. */
  cutoffs: { training: string[]; validation: string; scoring: string };
  /**
   * `latest-cutoff`: validation is the latest labelled cutoff (rolling origin, the normal case).
   * `by-customer`: no training cutoff had labelled customers (e.g. an imported table, which has
   * one labelled moment), so validation is a stratified, deterministic share of the customers of
   * the validation cutoff and training is the rest.
   */
  validationSplit: 'latest-cutoff' | 'by-customer';
  /** Columns dropped because they are constant on the training rows, or equal to an earlier column there. */
  droppedColumns: string[];
  /**
   * The validation rows with every column the data offers, before any was dropped or left out of
   * the budget: the registry scores a champion trained on other columns on them.
   */
  comparison: FeatureMatrix;
  /**
   * The generated feature families (generated.ts): how many columns the data offered, how many
   * its training churners allow (`minChurnersPerGeneratedColumn`), and how many were kept.
   */
  generatedColumns: { candidates: number; budget: number; kept: number };
}

/**
 * The cutoffs of a dataset: scoring = asOf; validation = asOf − horizon (the latest cutoff whose
 * horizon is fully observed); training = validation − k·spacing for k = 1..n (oldest first).
 */
export function datasetCutoffs(options: DatasetOptions): Datasets['cutoffs'] {
  const o = parseOptions(DatasetOptions, options, 'dataset options');
  const asOfMs = Date.parse(o.asOf);
  const validationMs = asOfMs - o.horizonDays * DAY_MS;
  const spacing = (o.cutoffSpacingDays ?? o.horizonDays) * DAY_MS;
  const training = Array.from({ length: o.trainingCutoffs }, (_, i) =>
    new Date(validationMs - (o.trainingCutoffs - i) * spacing).toISOString(),
  );
  return { training, validation: new Date(validationMs).toISOString(), scoring: o.asOf };
}

/** Rows by customer id (toMatrix orders every matrix this way, whatever order the scan delivered). */
const byCustomerId = (a: RowDraft, b: RowDraft) => (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0);

/**
 * Splits labelled rows by customer, stratified by label and deterministic: within each class,
 * customers ordered by a hash of their id; the first `fraction` (at least one when the class has
 * two or more) go to validation.
 */
export function splitByCustomer(rows: readonly RowDraft[], fraction: number): { train: RowDraft[]; validation: RowDraft[] } {
  const train: RowDraft[] = [];
  const validation: RowDraft[] = [];
  for (const label of [0, 1] as const) {
    const members = rows
      .filter((row) => row.label === label)
      .map((row) => ({ row, key: fnv1a(row.customerId) }))
      .sort((a, b) => a.key - b.key || (a.row.customerId < b.row.customerId ? -1 : 1));
    const held = members.length < 2 ? 0 : Math.max(1, Math.round(members.length * fraction));
    for (const [i, { row }] of members.entries()) (i < held ? validation : train).push(row);
  }
  return { train: train.sort(byCustomerId), validation: validation.sort(byCustomerId) };
}

/**
 * Builds the training, validation and scoring matrices in one pass over the customers (each
 * history is read once and dropped: memory holds rows, not events).
 *
 * Rows: a customer is a row at a cutoff when they exist and are active there (see labels.ts).
 * Training and validation keep only rows with a known label; scoring (at asOf) has every active
 * customer with label -1. Events at or after asOf are ignored. All three matrices share their
 * columns: profile types and custom names come from every history before asOf, categories are
 * fitted on the training rows with later ones appended, and columns constant on the training
 * rows are dropped (unless `keepConstantColumns`).
 *
 * @example
 * const { train, validation, scoring } = await buildDatasets(scanCustomerHistories(documents, { tableName }), {
 *   asOf: '2026-06-30', horizonDays: 30, churn: { kind: 'cancelled' },
 * });
 */
export async function buildDatasets(customers: AsyncIterable<CustomerHistory>, options: DatasetOptions): Promise<Datasets> {
  const o = parseOptions(DatasetOptions, options, 'dataset options');
  const cutoffs = datasetCutoffs(options);
  const asOfMs = Date.parse(o.asOf);
  const labelled = [...cutoffs.training, cutoffs.validation].map((iso) => ({ iso, ms: Date.parse(iso), rows: [] as RowDraft[] }));
  const scoringRows: RowDraft[] = [];
  const schema = new SchemaCollector();
  for await (const history of customers) {
    const all = sortedEvents(history.events);
    const allTimes = eventTimes(all);
    const asOfEnd = cutoffIndex(allTimes, asOfMs);
    // Nothing at or after asOf, labels included: an event at exactly asOf is the present, not the past.
    const events = asOfEnd === all.length ? all : all.slice(0, asOfEnd);
    const times = asOfEnd === all.length ? allTimes : allTimes.subarray(0, asOfEnd);
    schema.observe(events, times, asOfEnd);
    for (const cutoff of labelled) {
      const end = cutoffIndex(times, cutoff.ms);
      if (!isActiveAt(events, times, end, cutoff.ms, o.churn)) continue;
      const label = labelAt(events, times, end, cutoff.ms, o.horizonDays, o.churn);
      if (label !== -1) cutoff.rows.push(draftRow(history.customerId, events, times, end, cutoff.ms, label));
    }
    if (isActiveAt(events, times, asOfEnd, asOfMs, o.churn))
      scoringRows.push(draftRow(history.customerId, events, times, asOfEnd, asOfMs, -1));
  }
  const validationCutoff = labelled[labelled.length - 1] as (typeof labelled)[number];
  const trainingCutoffs = labelled.slice(0, -1);
  let trainRows = trainingCutoffs.flatMap((c) => c.rows);
  let validationRows = validationCutoff.rows;
  let validationSplit: Datasets['validationSplit'] = 'latest-cutoff';
  let trainingIsos = trainingCutoffs.map((c) => c.iso);
  if (trainRows.length === 0 && validationRows.length > 0) {
    ({ train: trainRows, validation: validationRows } = splitByCustomer(validationRows, o.validationFraction));
    validationSplit = 'by-customer';
    trainingIsos = [validationCutoff.iso];
  }
  const planned = planColumns(schema, asOfMs, o.customEvents);
  fitCategories(planned, trainRows, [...validationRows, ...scoringRows]);
  // Each column's values on each set of rows, computed once for the selection and the matrices.
  const trainValues = new NumericValues(trainRows);
  const validationValues = new NumericValues(validationRows);
  const { plan, dropped, generatedColumns } = selectColumns(planned, trainValues, o);
  return {
    train: toMatrix(plan, trainRows, trainingIsos[trainingIsos.length - 1] ?? cutoffs.validation, trainValues),
    validation: toMatrix(plan, validationRows, cutoffs.validation, validationValues),
    scoring: toMatrix(plan, scoringRows, cutoffs.scoring),
    cutoffs: { training: trainingIsos, validation: cutoffs.validation, scoring: cutoffs.scoring },
    validationSplit,
    droppedColumns: dropped,
    generatedColumns,
    comparison: toMatrix(planned, validationRows, cutoffs.validation, validationValues),
  };
}

/**
 * The columns the training rows can support: without constant columns and duplicates (unless
 * `keepConstantColumns`), and with the generated ones cut to the churners' budget, best first.
 */
function selectColumns(
  planned: ColumnPlan,
  trainValues: NumericValues,
  o: { keepConstantColumns: boolean; minChurnersPerGeneratedColumn: number },
): { plan: ColumnPlan; dropped: string[]; generatedColumns: Datasets['generatedColumns'] } {
  const trainRows = trainValues.rows;
  const candidates = planned.numeric.filter((p) => p.column.generated).length;
  if (o.keepConstantColumns || trainRows.length === 0)
    return { plan: planned, dropped: [], generatedColumns: { candidates, budget: candidates, kept: candidates } };
  const informative = dropUninformative(planned, trainRows, trainValues);
  const distinct = dropDuplicateColumns(informative.plan, trainRows, trainValues);
  const budgeted = budgetGeneratedColumns(distinct.plan, trainRows, o.minChurnersPerGeneratedColumn, trainValues);
  return {
    plan: budgeted.plan,
    dropped: [...informative.dropped, ...distinct.duplicates.keys()],
    generatedColumns: { candidates, budget: budgeted.budget, kept: budgeted.plan.numeric.filter((p) => p.column.generated).length },
  };
}

/** Options of `buildFeatureMatrix`. */
export const FeatureMatrixOptions = z.object({
  horizonDays: z.number().int().positive('horizonDays must be positive').default(30),
  churn: ChurnDefinition.default(DEFAULT_CHURN),
  customEvents: CustomEvents,
  /**
   * How far the data is known to be complete: labels are known only when cutoff + horizon is at
   * or before it. Default: the start of the UTC day after the latest event of any customer.
   */
  observedUntil: Instant('observedUntil').optional(),
  /** Include customers already churned at the cutoff (default: only active ones). */
  includeInactive: z.boolean().default(false),
});
export type FeatureMatrixOptions = z.input<typeof FeatureMatrixOptions>;

/**
 * The feature matrix of one cutoff: a row per customer that exists (and, unless
 * `includeInactive`, is active) at the cutoff, with the label when it is observable. Columns
 * (profile types, custom names, categories, sorted) come from the events before the cutoff only,
 * so events at or after the cutoff change nothing but labels.
 */
export async function buildFeatureMatrix(
  customers: AsyncIterable<CustomerHistory>,
  cutoff: string,
  options: FeatureMatrixOptions = {},
): Promise<FeatureMatrix> {
  const o = parseOptions(FeatureMatrixOptions, options, 'feature matrix options');
  const cutoffIso = parseInstant(cutoff, 'cutoff');
  const cutoffMs = Date.parse(cutoffIso);
  const schema = new SchemaCollector();
  const rows: RowDraft[] = [];
  let latestEventMs = Number.NEGATIVE_INFINITY;
  for await (const history of customers) {
    const events = sortedEvents(history.events);
    const times = eventTimes(events);
    if (times.length > 0) latestEventMs = Math.max(latestEventMs, times[times.length - 1] as number);
    const end = cutoffIndex(times, cutoffMs);
    if (end === 0) continue;
    schema.observe(events, times, end);
    const active = isActiveAt(events, times, end, cutoffMs, o.churn);
    if (!active && !o.includeInactive) continue;
    const label: Label = active ? labelAt(events, times, end, cutoffMs, o.horizonDays, o.churn) : -1;
    rows.push(draftRow(history.customerId, events, times, end, cutoffMs, label));
  }
  const observedUntilMs = o.observedUntil ? Date.parse(o.observedUntil) : startOfNextUtcDay(latestEventMs);
  if (cutoffMs + o.horizonDays * DAY_MS > observedUntilMs) for (const row of rows) row.label = -1;
  const plan = planColumns(schema, cutoffMs, o.customEvents);
  fitCategories(plan, rows);
  return toMatrix(plan, rows, cutoffIso);
}
