import { describe, expect, it } from 'vitest';
import { MonthlyChurnAccumulator } from '../../model/analytics/churnByMonth.ts';
import { summariseScores } from '../../model/analytics/scoringSummary.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import type { FeatureMatrix } from '../../model/features/matrix.ts';
import { featureDistribution, featureDrift, populationStabilityIndex, quantileCuts } from '../../model/monitoring/drift.ts';
import { event, tinyMatrix } from './outreachFactories.ts';

const history = (customerId: string, events: Array<[ChurnEvent['type'], string]>) => ({
  customerId,
  events: events.map(([type, at]) => event(customerId, type, at)),
});

describe('MonthlyChurnAccumulator', () => {
  it('counts churn per month as lost ÷ customers at month start, split voluntary / involuntary / passive', () => {
    // Prepare
    const churn = new MonthlyChurnAccumulator({ asOf: '2026-04-01T00:00:00Z', inactivityDays: 30 });
    const histories = [
      history('A', [
        ['subscription_started', '2026-01-05'],
        ['session_started', '2026-02-08'],
        ['subscription_cancelled', '2026-02-10'],
      ]), // voluntary (used 2 days before), Feb
      history('B', [
        ['subscription_started', '2026-01-10'],
        ['payment_failed', '2026-02-01'],
        ['session_started', '2026-02-20'],
        ['subscription_cancelled', '2026-03-05'],
      ]), // involuntary (unrecovered), Mar
      history('C', [
        ['subscription_started', '2026-01-15'],
        ['session_started', '2026-01-20'],
      ]), // passive: gone 2026-02-19
      history('D', [
        ['subscription_started', '2026-02-03'],
        ['session_started', '2026-03-28'],
      ]), // still active
      history('E', [
        ['subscription_started', '2026-01-02'],
        ['payment_failed', '2026-01-20'],
        ['payment_succeeded', '2026-01-22'],
        ['session_started', '2026-03-01'],
        ['subscription_cancelled', '2026-03-10'],
      ]), // recovered → voluntary, Mar
      history('F', [
        ['subscription_started', '2026-01-03'],
        ['session_started', '2026-01-24'],
        ['payment_failed', '2026-01-25'],
      ]), // gone after unrecovered failure → involuntary 2026-02-23
      history('G', [
        ['subscription_started', '2026-03-01'],
        ['session_started', '2026-03-25'],
        ['subscription_cancelled', '2026-04-05'],
      ]), // cancel after asOf is not seen
    ];
    // Act
    for (const h of histories) churn.add(h);
    const rows = churn.result();
    // Assess
    expect(rows).toEqual([
      { month: '2026-01', customersAtStart: 0, voluntary: 0, involuntary: 0, passive: 0, churnRate: 0 },
      { month: '2026-02', customersAtStart: 5, voluntary: 1, involuntary: 1, passive: 1, churnRate: 3 / 5 },
      { month: '2026-03', customersAtStart: 3, voluntary: 1, involuntary: 1, passive: 0, churnRate: 2 / 3 },
      { month: '2026-04', customersAtStart: 2, voluntary: 0, involuntary: 0, passive: 0, churnRate: 0 },
    ]);
  });

  it('starts a new tenure on reactivation, so a returning customer counts again at the next month start', () => {
    const churn = new MonthlyChurnAccumulator({ asOf: '2026-03-15T00:00:00Z', inactivityDays: 60 });
    churn.add(
      history('R', [
        ['subscription_started', '2025-12-20'],
        ['session_started', '2026-01-09'],
        ['subscription_cancelled', '2026-01-10'],
        ['subscription_reactivated', '2026-02-02'],
        ['session_started', '2026-03-01'],
      ]),
    );
    expect(churn.result()).toEqual([
      { month: '2025-12', customersAtStart: 0, voluntary: 0, involuntary: 0, passive: 0, churnRate: 0 },
      { month: '2026-01', customersAtStart: 1, voluntary: 1, involuntary: 0, passive: 0, churnRate: 1 },
      { month: '2026-02', customersAtStart: 0, voluntary: 0, involuntary: 0, passive: 0, churnRate: 0 },
      { month: '2026-03', customersAtStart: 1, voluntary: 0, involuntary: 0, passive: 0, churnRate: 0 },
    ]);
  });

  it('returns no rows for no customers and rejects a bad asOf or threshold', () => {
    expect(new MonthlyChurnAccumulator({ asOf: '2026-01-01T00:00:00Z', inactivityDays: 30 }).result()).toEqual([]);
    expect(() => new MonthlyChurnAccumulator({ asOf: 'soon', inactivityDays: 30 })).toThrow(/asOf/);
    expect(() => new MonthlyChurnAccumulator({ asOf: '2026-01-01T00:00:00Z', inactivityDays: 30, passiveInactivityDays: 0 })).toThrow(
      /passiveInactivityDays must be positive/,
    );
  });
});

describe('MonthlyChurnAccumulator: the kind of a cancellation', () => {
  it('calls a cancel passive when the customer had not used the product for ≥ 14 days (default), involuntary first, else voluntary', () => {
    // Prepare: everyone starts in January; the cancellations fall in February
    const churn = new MonthlyChurnAccumulator({ asOf: '2026-03-01T00:00:00Z', inactivityDays: 30 });
    const histories = [
      // last use 13 d 23 h before the cancel → voluntary
      history('V', [
        ['subscription_started', '2026-01-05T10:00:00Z'],
        ['session_started', '2026-02-01T10:00:00Z'],
        ['subscription_cancelled', '2026-02-15T09:00:00Z'],
      ]),
      // last use exactly 14 d before the cancel → passive
      history('P', [
        ['subscription_started', '2026-01-05T10:00:00Z'],
        ['feature_used', '2026-02-01T10:00:00Z'],
        ['subscription_cancelled', '2026-02-15T10:00:00Z'],
      ]),
      // last use 21 d before; a renewal payment 5 d before is not use → passive
      history('Q', [
        ['subscription_started', '2026-01-06'],
        ['session_started', '2026-01-20'],
        ['payment_succeeded', '2026-02-05'],
        ['subscription_cancelled', '2026-02-10'],
      ]),
      // quiet 23 d, but a failed payment is unrecovered: involuntary wins over passive
      history('I', [
        ['subscription_started', '2026-01-07'],
        ['session_started', '2026-01-20'],
        ['payment_failed', '2026-02-01'],
        ['subscription_cancelled', '2026-02-12'],
      ]),
      // never used the product, cancels 15 d after signing up → passive
      history('N', [
        ['subscription_started', '2026-01-20T12:00:00Z'],
        ['subscription_cancelled', '2026-02-04T12:00:00Z'],
      ]),
      // still active at asOf
      history('S', [
        ['subscription_started', '2026-01-08'],
        ['session_started', '2026-02-25'],
      ]),
    ];
    // Act
    for (const h of histories) churn.add(h);
    // Assess: 6 customers at the start of February, of whom 1 voluntary (V), 1 involuntary (I), 3 passive (P, Q, N)
    expect(churn.result()).toEqual([
      { month: '2026-01', customersAtStart: 0, voluntary: 0, involuntary: 0, passive: 0, churnRate: 0 },
      { month: '2026-02', customersAtStart: 6, voluntary: 1, involuntary: 1, passive: 3, churnRate: 5 / 6 },
      { month: '2026-03', customersAtStart: 1, voluntary: 0, involuntary: 0, passive: 0, churnRate: 0 },
    ]);
  });

  it('uses passiveInactivityDays when given', () => {
    // Prepare: one cancel 8 days after the last session, one 6 days after
    const churn = new MonthlyChurnAccumulator({ asOf: '2026-03-01T00:00:00Z', inactivityDays: 30, passiveInactivityDays: 7 });
    churn.add(
      history('Eight', [
        ['subscription_started', '2026-01-05'],
        ['session_started', '2026-02-02'],
        ['subscription_cancelled', '2026-02-10'],
      ]),
    );
    churn.add(
      history('Six', [
        ['subscription_started', '2026-01-05'],
        ['session_started', '2026-02-04'],
        ['subscription_cancelled', '2026-02-10'],
      ]),
    );
    // Act
    const february = churn.result().find((row) => row.month === '2026-02');
    // Assess
    expect(february).toMatchObject({ customersAtStart: 2, voluntary: 1, passive: 1, involuntary: 0 });
  });

  it('defaults the passive threshold to inactivityDays when that is shorter than 14 days', () => {
    // Prepare: quiet 11 days before the cancel; with inactivityDays 10 that customer was already gone
    const churn = new MonthlyChurnAccumulator({ asOf: '2026-03-01T00:00:00Z', inactivityDays: 10 });
    churn.add(
      history('Quiet', [
        ['subscription_started', '2026-01-05'],
        ['session_started', '2026-01-30'],
        ['subscription_cancelled', '2026-02-10'],
      ]),
    );
    // Act
    const february = churn.result().find((row) => row.month === '2026-02');
    // Assess
    expect(february).toMatchObject({ customersAtStart: 1, voluntary: 0, passive: 1, involuntary: 0 });
  });
});

describe('population stability index', () => {
  it('uses 10 quantile bins of the training values plus a missing bin (hand-computed)', () => {
    // Prepare: training 1..10 → cuts 1..9, one value per bin; scoring piles up in the first bin
    const train = tinyMatrix([...'abcdefghij'], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const scoring = tinyMatrix([...'klmnopqrst'], [1, 1, 1, 1, 1, 2, 3, 4, 5, Number.NaN]);
    // Act
    const [drift] = featureDrift(featureDistribution(train), scoring);
    // Assess: bin 1: (0.5−0.1)·ln 5; bins 6–10 empty: 5 × (1e-4 − 0.1)·ln(1e-4/0.1); missing: (0.1 − 1e-4)·ln(0.1/1e-4)
    const expected = 0.4 * Math.log(5) + 6 * (0.1 - 1e-4) * Math.log(0.1 / 1e-4);
    expect(quantileCuts([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(drift?.feature).toBe('payments.failed_90d');
    expect(drift?.psi).toBeCloseTo(expected, 10);
    expect(drift?.flagged).toBe(true);
  });

  it('is 0 and not flagged for an identical distribution', () => {
    const train = tinyMatrix(['a', 'b', 'c', 'd'], [0, 0, 1, 3]);
    const [drift] = featureDrift(featureDistribution(train), tinyMatrix(['e', 'f', 'g', 'h'], [3, 1, 0, 0]));
    expect(drift).toEqual({ feature: 'payments.failed_90d', psi: 0, flagged: false });
  });

  it('compares categorical features category by category, matching categories by name', () => {
    const matrix = (ids: string[], categories: string[], codes: number[]): FeatureMatrix => ({
      ...tinyMatrix(
        ids,
        ids.map(() => 0),
      ),
      numericColumns: [],
      numeric: new Float64Array(0),
      categoricalColumns: [{ kind: 'categorical', name: 'profile.contract', family: 'profile', description: 'contract', categories }],
      categorical: Int32Array.from(codes),
    });
    const train = matrix(['1', '2', '3', '4'], ['a', 'b'], [0, 0, 1, 1]);
    const scoring = matrix(['5', '6', '7', '8'], ['b', 'a', 'c'], [0, 0, 0, 1]); // b, b, b, a
    const [drift] = featureDrift(featureDistribution(train), scoring);
    const expected = (0.25 - 0.5) * Math.log(0.25 / 0.5) + (0.75 - 0.5) * Math.log(0.75 / 0.5);
    expect(drift?.psi).toBeCloseTo(expected, 10);
    expect(drift?.flagged).toBe(true);
  });

  it('floors empty bins instead of returning infinity, and refuses mismatched bins', () => {
    expect(Number.isFinite(populationStabilityIndex([1, 0], [0, 1]))).toBe(true);
    expect(() => populationStabilityIndex([1], [0.5, 0.5])).toThrow(/same bins/);
  });
});

describe('summariseScores', () => {
  it('counts bands, sums risk × MRR over customers with known MRR, and histograms risk in 20 bins', () => {
    const summary = summariseScores([
      { risk: 0.9, band: 'high', mrrCents: 10_000 },
      { risk: 0.31, band: 'medium', mrrCents: null },
      { risk: 0.04, band: 'low', mrrCents: 1_000 },
      { risk: 1, band: 'high', mrrCents: 100 },
    ]);
    expect(summary.customersScored).toBe(4);
    expect(summary.bands).toEqual({ high: 2, medium: 1, low: 1 });
    expect(summary.expectedMrrAtRiskCents).toBeCloseTo(9_000 + 40 + 100, 9);
    expect(summary.riskHistogram).toHaveLength(20);
    expect(summary.riskHistogram[0]).toEqual({ from: 0, to: 0.05, count: 1 });
    expect(summary.riskHistogram[6]?.count).toBe(1);
    expect(summary.riskHistogram[18]?.count).toBe(1);
    expect(summary.riskHistogram[19]?.count).toBe(1); // risk 1 lands in the last bin
  });
});

describe('drift of a feature that was constant in training', () => {
  it('is flagged when scoring values move above anything seen in training', () => {
    const train = tinyMatrix(['a', 'b', 'c', 'd'], [0, 0, 0, 0]);
    const scoring = tinyMatrix(['e', 'f', 'g', 'h'], [0, 2, 3, 0]);
    const [drift] = featureDrift(featureDistribution(train), scoring);
    const expected = (0.5 - 1) * Math.log(0.5 / 1) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4);
    expect(drift?.psi).toBeCloseTo(expected, 10);
    expect(drift?.flagged).toBe(true);
  });
});
