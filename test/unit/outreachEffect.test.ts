import { describe, expect, it } from 'vitest';
import { firstPerHorizon, resolveSelections, selectionsOf } from '../../app/outreachEffect.ts';
import type { OutreachRecord } from '../../app/ports.ts';
import { effectSummary, formatEffectLine } from '../../cli/commands/outreachEffect.ts';
import { wilsonInterval } from '../../model/analytics/intervals.ts';
import { EFFECT_RULE, estimateOutreachEffect, newcombeInterval, type ResolvedSelection } from '../../model/analytics/outreachEffect.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { latestCrmStatus, mrrAt, type OutreachOutcome, resolveOutcome } from '../../model/outreach/outcomes.ts';
import { event } from './outreachFactories.ts';

const rules = { inactivityDays: 30 };
const question = { claimAt: '2026-05-01T00:00:00.000Z', horizonDays: 30, asOf: '2026-07-01T00:00:00.000Z', rules };

/** A customer who signed up in January and uses the product weekly until `lastUse`. */
function customer(id: string, lastUse: string, extra: ChurnEvent[] = []): ChurnEvent[] {
  const events = [event(id, 'subscription_started', '2026-01-02T00:00:00.000Z', { mrrCents: 7_000 })];
  for (let ms = Date.parse('2026-01-05T10:00:00Z'); ms <= Date.parse(lastUse); ms += 7 * 86_400_000)
    events.push(event(id, 'session_started', new Date(ms).toISOString()));
  return [...events, ...extra].sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : 1));
}

describe('resolveOutcome: what became of a selected customer by the end of the horizon', () => {
  it('is pending until the horizon has passed in the data', () => {
    const outcome = resolveOutcome(customer('a', '2026-05-20'), { ...question, asOf: '2026-05-20T00:00:00.000Z' });
    expect(outcome).toEqual({ status: 'pending', resolvesAt: '2026-05-31T00:00:00.000Z' });
  });

  it('is retained when the customer stays within the horizon', () => {
    expect(resolveOutcome(customer('a', '2026-06-30'), question)).toEqual({ status: 'retained' });
  });

  it('is churned, with the kind, for a cancellation within the horizon', () => {
    const cancelled = customer('a', '2026-05-10', [event('a', 'subscription_cancelled', '2026-05-12T09:00:00.000Z')]);
    expect(resolveOutcome(cancelled, question)).toEqual({ status: 'churned', kind: 'voluntary', churnedAt: '2026-05-12T09:00:00.000Z' });
    const unpaid = customer('b', '2026-05-10', [
      event('b', 'payment_failed', '2026-05-08T03:00:00.000Z'),
      event('b', 'subscription_cancelled', '2026-05-20T09:00:00.000Z'),
    ]);
    expect(resolveOutcome(unpaid, question)).toMatchObject({ status: 'churned', kind: 'involuntary' });
  });

  it('ignores a cancellation after the horizon, and reads only events before its end (point in time)', () => {
    const late = customer('a', '2026-05-30', [event('a', 'subscription_cancelled', '2026-06-05T09:00:00.000Z')]);
    expect(resolveOutcome(late, question)).toEqual({ status: 'retained' });
  });

  it('is reactivated when the customer churned and came back within the horizon', () => {
    const back = customer('a', '2026-05-10', [
      event('a', 'subscription_cancelled', '2026-05-12T09:00:00.000Z'),
      event('a', 'subscription_reactivated', '2026-05-25T09:00:00.000Z'),
    ]);
    expect(resolveOutcome(back, question)).toEqual({ status: 'reactivated', kind: 'voluntary', churnedAt: '2026-05-12T09:00:00.000Z' });
  });

  it('reads the CRM’s latest status for the outreach and the MRR at selection', () => {
    const events = customer('a', '2026-06-30', [
      event('a', 'outreach_outcome', '2026-05-02T00:00:00.000Z', { dedupId: 'r:a', status: 'contacted' }),
      event('a', 'outreach_outcome', '2026-05-03T00:00:00.000Z', { dedupId: 'r:a', status: 'accepted' }),
      event('a', 'outreach_outcome', '2026-05-04T00:00:00.000Z', { dedupId: 'other:a', status: 'declined' }),
      event('a', 'plan_changed', '2026-05-20T00:00:00.000Z', { fromPlan: 'pro', toPlan: 'basic', mrrCents: 2_000 }),
    ]);
    expect(latestCrmStatus(events, 'r:a')).toBe('accepted');
    expect(mrrAt(events, Date.parse(question.claimAt))).toBe(7_000);
  });
});

describe('Newcombe’s hybrid score interval', () => {
  it('reproduces the published examples (Newcombe 1998, table II, method 10)', () => {
    const round = ([lo, hi]: [number, number]) => [Number(lo.toFixed(4)), Number(hi.toFixed(4))];
    expect(round(newcombeInterval(56, 70, 48, 80))).toEqual([0.0524, 0.3339]);
    expect(round(newcombeInterval(9, 10, 3, 10))).toEqual([0.1705, 0.809]);
    expect(round(newcombeInterval(5, 56, 0, 29))).toEqual([-0.0381, 0.1926]);
    expect(round(newcombeInterval(0, 10, 0, 20))).toEqual([-0.1611, 0.2775]);
  });

  it('builds on the Wilson interval, which stays within [0, 1]', () => {
    const { low: lo, high: hi } = wilsonInterval(0, 20);
    expect(lo).toBe(0);
    expect(hi).toBeCloseTo(0.1611, 4);
  });
});

const sel = (playbook: string, arm: 'treated' | 'control', outcome: OutreachOutcome, i: number): ResolvedSelection => ({
  customerId: `${playbook}-${arm}-${i}`,
  runId: 'r',
  playbook,
  arm,
  outcome,
  mrrCents: 10_000,
});
const churned: OutreachOutcome = { status: 'churned', kind: 'involuntary', churnedAt: '2026-05-10T00:00:00.000Z' };
const retained: OutreachOutcome = { status: 'retained' };
/** `n` selections of which `k` churned. */
const arm = (playbook: string, which: 'treated' | 'control', n: number, k: number) =>
  Array.from({ length: n }, (_, i) => sel(playbook, which, i < k ? churned : retained, i));

describe('estimateOutreachEffect', () => {
  it('gives churn rates, uplift with its interval, and the customers and MRR saved per playbook', () => {
    // Prepare: payment recovery 300 treated (30 churned) against 40 control (12 churned)
    const selections = [...arm('payment_recovery', 'treated', 300, 30), ...arm('payment_recovery', 'control', 40, 12)];
    // Act
    const report = estimateOutreachEffect(selections, { asOf: '2026-07-01T00:00:00.000Z', horizonDays: 30 });
    // Assess
    const [effect] = report.playbooks;
    expect(effect).toMatchObject({ playbook: 'payment_recovery', shown: true });
    expect(effect?.treated).toMatchObject({ resolved: 300, churned: 30, churnRate: 0.1 });
    expect(effect?.control).toMatchObject({ resolved: 40, churned: 12, churnRate: 0.3 });
    expect(effect?.uplift).toBeCloseTo(0.2, 10);
    expect(effect?.interval).toEqual(newcombeInterval(12, 40, 30, 300));
    expect(effect?.savedCustomers).toBeCloseTo(60, 8);
    expect(effect?.savedMrrCentsPerMonth).toBeCloseTo(0.2 * 300 * 10_000, 4);
    expect(report.method).toBe('newcombe-hybrid-wilson');
  });

  it(`hides an estimate until each arm has ${EFFECT_RULE.minResolvedPerArm} resolved outcomes and ${EFFECT_RULE.minChurned} churned, and says what is missing`, () => {
    const pending: OutreachOutcome = { status: 'pending', resolvesAt: '2026-08-01T00:00:00.000Z' };
    const selections = [
      ...arm('offer', 'treated', 100, 10),
      ...arm('offer', 'control', 29, 3),
      sel('offer', 'control', pending, 99),
      ...arm('loyalty_reward', 'treated', 60, 2),
      ...arm('loyalty_reward', 'control', 30, 2),
    ];
    const report = estimateOutreachEffect(selections, { asOf: '2026-07-01T00:00:00.000Z', horizonDays: 30 });
    const offer = report.playbooks.find((p) => p.playbook === 'offer');
    expect(offer).toMatchObject({
      shown: false,
      uplift: null,
      interval: null,
      reason: 'needs ≥ 30 resolved outcomes per arm: 29 control resolved',
    });
    expect(offer?.control.pending).toBe(1);
    expect(report.playbooks.find((p) => p.playbook === 'loyalty_reward')).toMatchObject({
      shown: false,
      reason: 'needs ≥ 5 churned customers in the two arms, has 4',
    });
    // Together they are enough
    expect(report.overall).toMatchObject({ playbook: 'all', shown: true });
    expect(report.overall.treated.resolved).toBe(160);
  });

  it('carries the true uplift of simulated data beside the measured one', () => {
    const selections = [...arm('offer', 'treated', 50, 5), ...arm('offer', 'control', 50, 10)];
    const report = estimateOutreachEffect(selections, { asOf: 'x', horizonDays: 30, trueUplift: { offer: 0.12, all: 0.12 } });
    expect(report.playbooks[0]?.trueUplift).toBe(0.12);
    expect(report.overall.trueUplift).toBe(0.12);
    // What the demo table, `run` and `outreach effect` print
    expect(effectSummary(report)).toBe('offer +10.0 pts [-4.3, +24.2] (true +12.0); all +10.0 pts [-4.3, +24.2] (true +12.0)');
    expect(formatEffectLine(report.overall)).toBe(
      'all: treated 50 (churn 10.0%), control 50 (churn 20.0%); uplift +10.0 pts (95% -4.3 pts to +24.2 pts), saved 5.0 customers, $500 MRR/month; true +12.0 pts',
    );
  });
});

describe('selections of the ledger', () => {
  const record = (customerId: string, status: OutreachRecord['status'], claimAt: string): OutreachRecord => ({
    customerId,
    runId: `run-${claimAt.slice(0, 10)}`,
    dedupId: `run-${claimAt.slice(0, 10)}:${customerId}`,
    status,
    claimAt,
    playbook: 'offer',
  });

  it('keeps every arm as assigned (intention to treat) and leaves out selections before --since', () => {
    const records = [
      record('a', 'delivered', '2026-05-01T00:00:00.000Z'),
      record('b', 'failed', '2026-05-01T00:00:00.000Z'),
      record('c', 'control', '2026-05-01T00:00:00.000Z'),
      record('d', 'delivered', '2026-03-01T00:00:00.000Z'),
    ];
    expect(selectionsOf(records, '2026-04-01').map((r) => r.customerId)).toEqual(['a', 'b', 'c']);
    const resolved = resolveSelections(selectionsOf(records, '2026-04-01'), customer('a', '2026-06-30'), question);
    expect(resolved.map((s) => [s.customerId, s.arm, s.outcome.status])).toEqual([
      ['a', 'treated', 'retained'],
      ['b', 'treated', 'retained'],
      ['c', 'control', 'retained'],
    ]);
  });

  it('counts at-risk selections only: win-back and exit-survey records (customers already gone) are left out', () => {
    const records = [
      record('a', 'delivered', '2026-05-01T00:00:00.000Z'),
      { ...record('w', 'delivered', '2026-05-01T00:00:00.000Z'), playbook: 'win_back' },
      { ...record('x', 'control', '2026-05-01T00:00:00.000Z'), playbook: 'win_back' },
      { ...record('s', 'delivered', '2026-05-01T00:00:00.000Z'), playbook: 'exit_survey' },
    ];
    expect(selectionsOf(records).map((r) => r.customerId)).toEqual(['a']);
  });
  it('counts a customer once per horizon: a selection inside the horizon of the one counted before is the same experiment', () => {
    const records = [
      record('a', 'delivered', '2026-05-20T00:00:00.000Z'),
      record('a', 'control', '2026-05-01T00:00:00.000Z'),
      record('a', 'delivered', '2026-05-31T00:00:00.000Z'),
      record('a', 'delivered', '2026-06-15T00:00:00.000Z'),
    ];
    // Counted: May 1 (control); May 20 is inside its 30 days; May 31 is the first after them; June 15 is inside May 31's.
    expect(firstPerHorizon(records, 30).map((r) => [r.claimAt.slice(0, 10), r.status])).toEqual([
      ['2026-05-01', 'control'],
      ['2026-05-31', 'delivered'],
    ]);
  });
});
