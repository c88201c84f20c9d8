import { describe, expect, it } from 'vitest';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { budgetGeneratedColumns, dropDuplicateColumns } from '../../model/features/columnSelection.ts';
import { buildDatasets, buildFeatureMatrix } from '../../model/features/datasets.ts';
import { describeFeature } from '../../model/features/explain.ts';
import { GENERATED_STATS } from '../../model/features/generated.ts';
import type { FeatureMatrix, NumericColumn } from '../../model/features/matrix.ts';
import type { ColumnPlan, RowDraft } from '../../model/features/matrixBuilder.ts';
import { at, ev, histories, session, T } from './featuresFixtures.ts';

const purchase = (occurredAt: string, dollars: number, cds?: number, customerId = 'c1') =>
  ev('payment_succeeded', occurredAt, { amountCents: dollars * 100, ...(cds === undefined ? {} : { measures: { cds } }) }, customerId);

function column(m: FeatureMatrix, name: string): NumericColumn {
  const found = m.numericColumns.find((c) => c.name === name);
  if (!found) throw new Error(`no column ${name}; have ${m.numericColumns.map((c) => c.name).join(', ')}`);
  return found;
}
const featureValue = (m: FeatureMatrix, name: string, customerId = 'c1') =>
  m.numeric[m.customerIds.indexOf(customerId) * m.numericColumns.length + m.numericColumns.indexOf(column(m, name))] as number;

describe('generated feature families of a purchase log', () => {
  // Purchases 200, 120, 100, 40 (two that day) and 10 days before T; history spans 200 days.
  const log = [
    purchase(at(-200), 10, 1),
    purchase(at(-120), 20, 2),
    purchase(at(-100), 30),
    purchase(at(-40), 15, 1),
    purchase(at(-40, 2), 5, 3),
    purchase(at(-10), 50, 4),
  ];

  it('count purchases over the lifetime and each window the history spans, and their distinct days', async () => {
    const m = await buildFeatureMatrix(histories(log), T);
    expect(featureValue(m, 'value.payment_succeeded.count')).toBe(6);
    expect(featureValue(m, 'value.payment_succeeded.count_7d')).toBe(0);
    expect(featureValue(m, 'value.payment_succeeded.count_30d')).toBe(1);
    expect(featureValue(m, 'value.payment_succeeded.count_90d')).toBe(3);
    expect(featureValue(m, 'value.payment_succeeded.active_days')).toBe(5);
    // 200 days of history: no 365-day window, which the data cannot fill.
    expect(m.numericColumns.some((c) => c.name === 'value.payment_succeeded.count_365d')).toBe(false);
  });

  it('measure recency and rhythm: the mean gap between purchase days, and the time since the last against it', async () => {
    const m = await buildFeatureMatrix(histories(log), T);
    expect(featureValue(m, 'value.payment_succeeded.days_since_last')).toBe(10);
    // 5 purchase days over 190 days: a purchase every 47.5 days; the last one 10 days ago.
    expect(featureValue(m, 'value.payment_succeeded.mean_gap_days')).toBe(47.5);
    expect(featureValue(m, 'value.payment_succeeded.last_gap_days')).toBe(30 - 2 / 24); // from day −40 (+2 h) to day −10
    expect(featureValue(m, 'value.payment_succeeded.overdue_ratio')).toBeCloseTo(10 / 47.5, 12);
    // Trends: 1 purchase in the last 30 days vs 2 (day −40) in the 30 before; 3 in the last 90 vs 2 (days −120, −100) before.
    expect(featureValue(m, 'value.payment_succeeded.trend_30d')).toBe(0.5);
    expect(featureValue(m, 'value.payment_succeeded.trend_90d')).toBe(1.5);
  });

  it('sum and average every number of the purchases: the amount and a named measure', async () => {
    const m = await buildFeatureMatrix(histories(log), T);
    expect(featureValue(m, 'value.payment_succeeded.amount.sum')).toBe(130);
    expect(featureValue(m, 'value.payment_succeeded.amount.mean')).toBeCloseTo(130 / 6, 12);
    expect(featureValue(m, 'value.payment_succeeded.amount.sum_90d')).toBe(70);
    expect(featureValue(m, 'value.payment_succeeded.cds.sum')).toBe(11);
    // The mean is over the purchases that carry the measure (5 of 6).
    expect(featureValue(m, 'value.payment_succeeded.cds.mean')).toBe(11 / 5);
  });

  it('say each value in a sentence with the stream’s words', async () => {
    const m = await buildFeatureMatrix(histories(log), T);
    const say = (name: string) => describeFeature(column(m, name), featureValue(m, name));
    expect(say('value.payment_succeeded.count')).toBe('6 payments in all');
    expect(say('value.payment_succeeded.count_7d')).toBe('no payments in the last 7 days');
    expect(say('value.payment_succeeded.days_since_last')).toBe('last payment 10 days ago');
    expect(say('value.payment_succeeded.mean_gap_days')).toBe('usually 47 days between payments');
    expect(say('value.payment_succeeded.last_gap_days')).toBe('the last two payments were 29 days apart');
    expect(say('value.payment_succeeded.overdue_ratio')).toBe('the next payment is not yet due (0.21× the usual gap since the last)');
    expect(say('value.payment_succeeded.trend_30d')).toBe('payments fell 50% against the previous 30 days');
    expect(say('value.payment_succeeded.amount.sum')).toBe('amount of all payments: 130.00');
    expect(say('value.payment_succeeded.cds.mean')).toBe('cds per payment: 2.2 on average');
  });

  it('work for any custom event, and say a customer without such events in words', async () => {
    const events = [...log, ev('custom', at(-150), { name: 'export_pdf', quantity: 3 }, 'c2'), purchase(at(-5), 1, undefined, 'c2')];
    const m = await buildFeatureMatrix(histories(events), T);
    const overdue = column(m, 'custom.export_pdf.overdue_ratio');
    expect(overdue.family).toBe('custom');
    expect(featureValue(m, 'custom.export_pdf.count', 'c2')).toBe(1);
    expect(featureValue(m, 'custom.export_pdf.quantity.sum', 'c2')).toBe(3);
    expect(describeFeature(overdue, Number.NaN)).toBe('no usual gap between "export_pdf" events yet');
    expect(describeFeature(column(m, 'custom.export_pdf.days_since_last'), Number.NaN)).toBe('no "export_pdf" events on record');
  });

  it('every generated stat has a description and a sentence for every value it can take', () => {
    for (const stat of GENERATED_STATS) {
      expect(stat.description.length).toBeGreaterThan(10);
      expect(stat.sentence.cases.some(([when]) => when === 'any')).toBe(true);
    }
  });
});

describe('choosing the columns the training rows can carry', () => {
  /** Rows with a label and one numeric value per column. */
  const rows = (labels: number[]): RowDraft[] =>
    labels.map((label, i) => ({
      customerId: `c${i}`,
      cutoffMs: 0,
      fixed: new Float64Array(0),
      profile: new Map(),
      custom: new Map(),
      streams: new Map(),
      label: label as 0 | 1,
      mrrCents: Number.NaN,
    }));
  const numeric = (name: string, get: (row: RowDraft, i: number) => number, generated = true) => ({
    column: {
      kind: 'numeric' as const,
      name,
      family: 'value' as const,
      description: name,
      ...(generated ? { generated: { stream: 'x', stat: name } } : {}),
    },
    get: (row: RowDraft) => get(row, Number(row.customerId.slice(1))),
  });

  it('drops a column equal to an earlier one, row by row, and keeps the earlier', () => {
    const r = rows([0, 1, 0, 1]);
    const plan: ColumnPlan = {
      numeric: [
        numeric('fixed.recency', (_, i) => i, false),
        numeric('gen.recency', (_, i) => i),
        numeric('gen.other', (_, i) => (i % 2 ? Number.NaN : i)),
      ],
      categorical: [],
    };
    const { plan: kept, duplicates } = dropDuplicateColumns(plan, r);
    expect(kept.numeric.map((p) => p.column.name)).toEqual(['fixed.recency', 'gen.other']);
    expect([...duplicates]).toEqual([['gen.recency', 'fixed.recency']]);
  });

  it('counts a column equal but for floating-point rounding as a duplicate (cents summed ÷ 100 against units summed)', () => {
    const r = rows([0, 1, 0]);
    const cents = [1999, 301, 7];
    const plan: ColumnPlan = {
      numeric: [numeric('paid', (_, i) => (cents[i] as number) / 100, false), numeric('sum', (_, i) => (cents[i] as number) * 0.01)],
      categorical: [],
    };
    expect(dropDuplicateColumns(plan, r).plan.numeric.map((p) => p.column.name)).toEqual(['paid']);
  });

  it('keeps what one column per 10 training churners leaves after the other columns: the best separating, none redundant', () => {
    // 30 churners: 3 columns in all; "fixed" takes one, so 2 generated columns.
    const r = rows(Array.from({ length: 90 }, (_, i) => (i < 30 ? 1 : 0)));
    const strong = (i: number) => (i < 30 ? 5 : 0) + (i % 3);
    const plan: ColumnPlan = {
      numeric: [
        numeric('fixed', (_, i) => i % 2, false),
        numeric('noise', (_, i) => (i * 7) % 11),
        numeric('strong', (_, i) => strong(i)),
        numeric('strong twice', (_, i) => 2 * strong(i) + (i % 2) * 0.01),
        numeric('weak', (_, i) => (i < 30 ? 1 : 0) + (i % 5)),
      ],
      categorical: [],
    };
    const { plan: kept, budget, overBudget } = budgetGeneratedColumns(plan, r);
    expect(budget).toBe(2);
    expect(kept.numeric.map((p) => p.column.name)).toEqual(['fixed', 'strong', 'weak']);
    expect(overBudget).toEqual(['noise', 'strong twice']);
  });

  it('lets a small base keep none of them, and says so', async () => {
    const events: ChurnEvent[] = [];
    for (let c = 0; c < 8; c++) {
      const id = `k${c}`;
      events.push(session(at(-100), id), purchase(at(-95), 10, undefined, id));
      // Half of them leave: no activity after day −70.
      if (c % 2 === 0) events.push(session(at(-40), id), session(at(-5), id));
    }
    const datasets = await buildDatasets(histories(events), {
      asOf: T,
      horizonDays: 30,
      churn: { kind: 'inactive', days: 30 },
      trainingCutoffs: 2,
    });
    expect(datasets.generatedColumns.budget).toBe(0);
    expect(datasets.generatedColumns.kept).toBe(0);
    expect(datasets.generatedColumns.candidates).toBeGreaterThan(10);
    expect(datasets.train.numericColumns.some((c) => c.generated)).toBe(false);
  });
});
