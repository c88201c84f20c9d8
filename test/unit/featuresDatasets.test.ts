import { describe, expect, it } from 'vitest';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { buildDatasets, datasetCutoffs } from '../../model/features/datasets.ts';
import { at, cancel, histories, profile, session, start, T } from './featuresFixtures.ts';

const CANCELLED = { kind: 'cancelled' as const };

describe('datasetCutoffs', () => {
  it('puts validation at asOf − horizon and training cutoffs every spacing before it, oldest first', () => {
    const cutoffs = datasetCutoffs({ asOf: '2026-06-30', horizonDays: 30, churn: CANCELLED, trainingCutoffs: 3, cutoffSpacingDays: 14 });
    expect(cutoffs).toEqual({
      training: ['2026-04-19T00:00:00.000Z', '2026-05-03T00:00:00.000Z', '2026-05-17T00:00:00.000Z'],
      validation: '2026-05-31T00:00:00.000Z',
      scoring: '2026-06-30T00:00:00.000Z',
    });
  });

  it('defaults to 4 training cutoffs spaced by the horizon', () => {
    const { training } = datasetCutoffs({ asOf: '2026-06-30', horizonDays: 30, churn: CANCELLED });
    expect(training).toEqual([
      '2026-01-31T00:00:00.000Z',
      '2026-03-02T00:00:00.000Z',
      '2026-04-01T00:00:00.000Z',
      '2026-05-01T00:00:00.000Z',
    ]);
  });

  it('rejects a bad asOf and horizon with the field named', () => {
    expect(() => datasetCutoffs({ asOf: 'yesterday', horizonDays: 30, churn: CANCELLED })).toThrow(/asOf must be a date YYYY-MM-DD/);
    expect(() => datasetCutoffs({ asOf: '2026-06-30', horizonDays: 0, churn: CANCELLED })).toThrow(/horizonDays must be positive/);
  });
});

/** Customers over a year: a loyal one, one who cancels in the validation window, one who starts late, one already gone. */
function business(): ChurnEvent[] {
  const monthly = (id: string, fromDay: number, toDay: number) => {
    const out: ChurnEvent[] = [];
    for (let d = fromDay; d < toDay; d += 7) out.push(session(at(d), id));
    return out;
  };
  return [
    start(at(-200), 4900, 'loyal'),
    profile(at(-200), { Contract: 'Two year' }, 'loyal'),
    ...monthly('loyal', -200, 60),
    start(at(-200), 2900, 'leaver'),
    profile(at(-200), { Contract: 'Month-to-month' }, 'leaver'),
    ...monthly('leaver', -200, 0),
    cancel(at(10), 'leaver'),
    start(at(-10), 2900, 'late'),
    profile(at(-10), { Contract: 'Monthly promo' }, 'late'),
    ...monthly('late', -10, 60),
    start(at(-200), 2900, 'gone'),
    profile(at(-200), { Contract: 'Month-to-month' }, 'gone'),
    cancel(at(-150), 'gone'),
  ];
}

describe('buildDatasets', () => {
  const options = { asOf: at(30), horizonDays: 30, churn: CANCELLED, trainingCutoffs: 3 };

  it('labels the validation cutoff by churn in its horizon and scores every customer active at asOf', async () => {
    const d = await buildDatasets(histories(business()), options);
    expect(d.cutoffs.validation).toBe(T);
    expect(d.validationSplit).toBe('latest-cutoff');
    expect(d.validation.customerIds).toEqual(['late', 'leaver', 'loyal']);
    expect([...d.validation.labels]).toEqual([0, 1, 0]);
    expect(d.scoring.customerIds).toEqual(['late', 'loyal']);
    expect([...d.scoring.labels]).toEqual([-1, -1]);
  });

  it('takes training rows from past cutoffs only for customers who existed and were active then', async () => {
    const d = await buildDatasets(histories(business()), options);
    expect(d.cutoffs.training).toEqual([at(-90), at(-60), at(-30)]);
    expect(d.train.customerIds).toEqual(['leaver', 'leaver', 'leaver', 'loyal', 'loyal', 'loyal']);
    expect([...d.train.labels]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('orders rows by customer id whatever order the scan delivers customers in, so training is reproducible', async () => {
    const inOrder = await buildDatasets(histories(business()), options);
    const reversed = await buildDatasets(histories([...business()].reverse()), options);
    expect(reversed.train.customerIds).toEqual(inOrder.train.customerIds);
    expect([...reversed.train.numeric]).toEqual([...inOrder.train.numeric]);
    expect(reversed.validation.customerIds).toEqual(inOrder.validation.customerIds);
    expect(reversed.scoring.customerIds).toEqual(inOrder.scoring.customerIds);
  });

  it('gives all three sets the same columns, with categories fitted on training rows and later ones appended', async () => {
    const d = await buildDatasets(histories(business()), options);
    expect(d.validation.numericColumns).toEqual(d.train.numericColumns);
    expect(d.scoring.categoricalColumns).toEqual(d.train.categoricalColumns);
    const contract = d.train.categoricalColumns.find((c) => c.name === 'profile.Contract');
    expect(contract?.categories).toEqual(['Month-to-month', 'Two year', 'Monthly promo']);
  });

  it('drops columns that are constant on the training rows from every set, and says which', async () => {
    const d = await buildDatasets(histories(business()), options);
    expect(d.droppedColumns).toContain('payments.failed_14d');
    expect(d.train.numericColumns.map((c) => c.name)).not.toContain('payments.failed_14d');
    expect(d.scoring.numericColumns.map((c) => c.name)).not.toContain('payments.failed_14d');
    const kept = await buildDatasets(histories(business()), { ...options, keepConstantColumns: true });
    expect(kept.droppedColumns).toEqual([]);
    expect(kept.train.numericColumns.map((c) => c.name)).toContain('payments.failed_14d');
  });

  it('labels with no event at or after asOf: one at exactly asOf is the present, not the past', async () => {
    // "quiet" was last active 31 days before the validation cutoff's horizon end (asOf): churned by inactive:30d,
    // unless an event at exactly asOf counted.
    const quiet = [session(at(-45), 'quiet'), session(at(-1), 'quiet')];
    const inactive = { ...options, churn: { kind: 'inactive' as const, days: 30 } };
    const without = await buildDatasets(histories(quiet), inactive);
    const withPresent = await buildDatasets(histories([...quiet, session(at(30), 'quiet')]), inactive);
    expect([...withPresent.validation.labels]).toEqual([...without.validation.labels]);
    expect([...without.validation.labels]).toEqual([1]);
  });

  it('never uses a row with an unknown label for training or validation', async () => {
    const events = [...business(), session(at(-3), 'edge'), cancel(T, 'edge')]; // cancels at exactly T: label unknown
    const d = await buildDatasets(histories(events), options);
    expect(d.validation.customerIds).not.toContain('edge');
    expect([...d.train.labels, ...d.validation.labels].every((l) => l === 0 || l === 1)).toBe(true);
  });

  it('splits validation off by customer, stratified and deterministic, when only the validation cutoff has labels', async () => {
    // Prepare: 20 stayers and 10 churners that all appear 3 days before the validation cutoff
    const events: ChurnEvent[] = [];
    for (let i = 0; i < 30; i++) {
      const id = `k${i}`;
      events.push(session(at(-3), id));
      if (i < 10) events.push(cancel(at(1), id));
      else events.push(session(at(29), id));
    }
    // Act
    const first = await buildDatasets(histories(events), options);
    const again = await buildDatasets(histories([...events].reverse()), options);
    // Assess
    expect(first.validationSplit).toBe('by-customer');
    expect(first.cutoffs.training).toEqual([T]);
    expect(first.validation.customerIds.length).toBe(6);
    expect([...first.validation.labels].filter((l) => l === 1).length).toBe(2);
    expect([...first.train.labels].filter((l) => l === 1).length).toBe(8);
    expect(new Set([...first.train.customerIds, ...first.validation.customerIds]).size).toBe(30);
    expect(again.validation.customerIds).toEqual(first.validation.customerIds);
  });
});
