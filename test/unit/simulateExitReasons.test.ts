import { describe, expect, it } from 'vitest';
import { ChurnByReasonAccumulator } from '../../model/analytics/churnByReason.ts';
import { avoidableReasons, EXIT_REASON_CODES } from '../../model/events/exitReasons.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import {
  type CustomerTruth,
  REASON_RECORDED_SHARE,
  simulateAfterExitResponse,
  simulateBusiness,
  WIN_BACK_RETURN_CHANCE,
} from '../../model/simulate/index.ts';

const business = simulateBusiness({ customers: 800, days: 180, seed: 5 });
const byCustomer = new Map<string, ChurnEvent[]>();
for (const event of business.events) byCustomer.set(event.customerId, [...(byCustomer.get(event.customerId) ?? []), event]);
const churned = business.truth.filter((t) => t.churned);

describe('simulated exit reasons', () => {
  it('gives every churned customer a true reason, states it on about 60% of cancellations, and none on stayers', () => {
    expect(churned.length).toBeGreaterThan(100);
    expect(churned.every((t) => t.exitReason !== null)).toBe(true);
    expect(business.truth.filter((t) => !t.churned).every((t) => t.exitReason === null && !t.exitReasonRecorded)).toBe(true);
    const recordedShare = churned.filter((t) => t.exitReasonRecorded).length / churned.length;
    // Binomial: ±4 standard errors of the stated share.
    const se = Math.sqrt((REASON_RECORDED_SHARE * (1 - REASON_RECORDED_SHARE)) / churned.length);
    expect(Math.abs(recordedShare - REASON_RECORDED_SHARE)).toBeLessThan(4 * se);
    for (const t of churned) {
      const cancel = (byCustomer.get(t.customerId) ?? []).find((e) => e.type === 'subscription_cancelled');
      expect(cancel?.properties).toEqual(t.exitReasonRecorded ? { reasonCode: t.exitReason } : {});
    }
  });

  it('lets the analytics recover the stated reasons exactly, and bound the true avoidable churn by what is known', () => {
    const accumulator = new ChurnByReasonAccumulator({ asOf: business.window.end, inactivityDays: 30 });
    for (const [customerId, events] of byCustomer) accumulator.add({ customerId, events });
    const rows = accumulator.result().filter((row) => row.month >= business.window.start.slice(0, 7));
    const months = new Set(rows.map((row) => row.month));
    const inMonths = (t: CustomerTruth) => t.churnedAt !== null && months.has(t.churnedAt.slice(0, 7));
    const truthChurned = churned.filter(inMonths);
    const sum = (f: (row: (typeof rows)[number]) => number) => rows.reduce((s, row) => s + f(row), 0);
    for (const code of EXIT_REASON_CODES) {
      const stated = truthChurned.filter((t) => t.exitReasonRecorded && t.exitReason === code).length;
      const all = truthChurned.filter((t) => t.exitReason === code).length;
      const seen = sum((row) => row.byReason[code] ?? 0);
      if (code === 'payment_failure') {
        // Stated, or read from the unrecovered failed payment: between the stated and the true count.
        expect(seen).toBeGreaterThanOrEqual(stated);
        expect(seen).toBeLessThanOrEqual(all);
      } else {
        expect(seen, code).toBe(stated);
      }
    }
    const avoidable = avoidableReasons();
    const trueAvoidable = truthChurned.filter((t) => t.exitReason !== null && avoidable.has(t.exitReason)).length;
    expect(sum((row) => row.avoidable)).toBeLessThanOrEqual(trueAvoidable);
    expect(sum((row) => row.avoidable + row.unknown)).toBeGreaterThanOrEqual(trueAvoidable);
    expect(sum((row) => row.lost)).toBe(truthChurned.length);
  });
});

describe('simulateAfterExitResponse', () => {
  const customer = { customerId: 'cus-1', exitReason: 'price' as const, plan: 'pro', mrrCents: 9_900 };

  it('answers the same way every time for the same seed, customer and message', () => {
    const contact = { kind: 'win_back' as const, offer: 'discount_or_cheaper_plan' as const, sentAt: '2026-06-30T00:00:00.000Z' };
    expect(simulateAfterExitResponse(7, customer, contact)).toEqual(simulateAfterExitResponse(7, customer, contact));
  });

  it('brings back about the stated share of price leavers with the fitting offer, far fewer with another offer', () => {
    const returns = (offer: 'discount_or_cheaper_plan' | 'feature_news') =>
      Array.from({ length: 2_000 }, (_, i) =>
        simulateAfterExitResponse(
          3,
          { ...customer, customerId: `cus-${i}` },
          { kind: 'win_back', offer, sentAt: '2026-06-30T00:00:00.000Z' },
        ),
      ).filter((events) => events.length > 0);
    const fitting = returns('discount_or_cheaper_plan');
    const p = WIN_BACK_RETURN_CHANCE.price;
    expect(Math.abs(fitting.length / 2_000 - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / 2_000));
    expect(returns('feature_news').length).toBeLessThan(fitting.length / 2);
    const reactivation = fitting[0]?.[0];
    expect(reactivation).toMatchObject({ type: 'subscription_reactivated', properties: { plan: 'pro', mrrCents: 9_900 } });
    expect(Date.parse(reactivation?.occurredAt ?? '')).toBeGreaterThan(Date.parse('2026-06-30'));
  });

  it('answers about half the exit surveys with the true reason, and nothing for a customer who never left', () => {
    const answers = Array.from({ length: 1_000 }, (_, i) =>
      simulateAfterExitResponse(3, { ...customer, customerId: `cus-${i}` }, { kind: 'exit_survey', sentAt: '2026-06-30T00:00:00.000Z' }),
    ).flat();
    expect(answers.length).toBeGreaterThan(430);
    expect(answers.length).toBeLessThan(570);
    expect(answers.every((e) => e.type === 'survey_response' && e.properties.exitReasonCode === 'price')).toBe(true);
    expect(
      simulateAfterExitResponse(3, { ...customer, exitReason: null }, { kind: 'exit_survey', sentAt: '2026-06-30T00:00:00Z' }),
    ).toEqual([]);
  });
});
