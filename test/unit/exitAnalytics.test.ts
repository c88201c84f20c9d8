import { describe, expect, it } from 'vitest';
import { MonthlyChurnAccumulator } from '../../model/analytics/churnByMonth.ts';
import { ChurnByReasonAccumulator } from '../../model/analytics/churnByReason.ts';
import { ChurnBySegmentAccumulator } from '../../model/analytics/churnBySegment.ts';
import { customerExits } from '../../model/analytics/exits.ts';
import { wilsonInterval } from '../../model/analytics/intervals.ts';
import { avoidableReasons, ExitReasonMapping, reasonFromText } from '../../model/events/exitReasons.ts';
import { ChurnEvent } from '../../model/events/schemas.ts';
import { event } from './outreachFactories.ts';

const rules = { inactivityDays: 30 };
const asOf = '2026-04-01T00:00:00Z';

describe('the exit-reason taxonomy', () => {
  it('marks need-ended and other unavoidable and the rest avoidable by default, and the user can remap any reason', () => {
    expect([...avoidableReasons()].sort()).toEqual(['competitor', 'missing_feature', 'payment_failure', 'price', 'support_experience']);
    const edited = avoidableReasons(ExitReasonMapping.parse({ other: 'avoidable', competitor: 'unavoidable' }));
    expect(edited.has('other')).toBe(true);
    expect(edited.has('competitor')).toBe(false);
  });

  it('rejects a mapping with an unknown reason or value, naming the accepted ones', () => {
    expect(() => ExitReasonMapping.parse({ boredom: 'avoidable' })).toThrow(/price, missing_feature/);
    expect(() => ExitReasonMapping.parse({ price: 'maybe' })).toThrow(/each reason maps to .*avoidable.* or .*unavoidable/);
  });

  it('reads older free-text reasons only when they clearly name a reason', () => {
    expect(reasonFromText('too_expensive')).toBe('price');
    expect(reasonFromText('switched_to_competitor')).toBe('competitor');
    expect(reasonFromText('no_longer_needed')).toBe('no_longer_needed');
    expect(reasonFromText('product_issues')).toBeUndefined();
    expect(reasonFromText(undefined)).toBeUndefined();
  });

  it('is accepted on subscription_cancelled (code and free text) and on survey responses, and a wrong code is named', () => {
    const base = { eventId: 'e1', customerId: 'c1', occurredAt: '2026-03-01T00:00:00Z' };
    const cancel = ChurnEvent.parse({ ...base, type: 'subscription_cancelled', properties: { reasonCode: 'price', comment: 'too dear' } });
    expect(cancel.properties).toEqual({ reasonCode: 'price', comment: 'too dear' });
    const survey = ChurnEvent.parse({ ...base, type: 'survey_response', properties: { score: 3, exitReasonCode: 'missing_feature' } });
    expect(survey.properties).toMatchObject({ exitReasonCode: 'missing_feature' });
    const bad = ChurnEvent.safeParse({ ...base, type: 'subscription_cancelled', properties: { reasonCode: 'boredom' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/reasonCode must be one of: price/);
    expect(bad.error?.issues[0]?.path).toEqual(['properties', 'reasonCode']);
  });
});

describe('customerExits', () => {
  it('takes the reason from the cancellation, else a later exit survey, else a failed payment; and sees a return', () => {
    const coded = customerExits(
      [
        event('A', 'subscription_started', '2026-01-05', { plan: 'pro', mrrCents: 9_900 }),
        event('A', 'session_started', '2026-02-08'),
        event('A', 'subscription_cancelled', '2026-02-10', { reasonCode: 'price' }),
        event('A', 'subscription_reactivated', '2026-03-01'),
      ],
      Date.parse(asOf),
      rules,
    );
    expect(coded[0]).toMatchObject({ reason: 'price', reasonSource: 'cancellation', cancelled: true, mrrCents: 9_900 });
    expect(coded[0]?.returnedAtMs).toBe(Date.parse('2026-03-01'));

    const surveyed = customerExits(
      [
        event('B', 'subscription_started', '2026-01-05'),
        event('B', 'session_started', '2026-02-08'),
        event('B', 'subscription_cancelled', '2026-02-10'),
        event('B', 'survey_response', '2026-02-12', { score: 2, exitReasonCode: 'support_experience' }),
      ],
      Date.parse(asOf),
      rules,
    );
    // The survey answer does not bring the customer back: one exit, no return.
    expect(surveyed).toHaveLength(1);
    expect(surveyed[0]).toMatchObject({ reason: 'support_experience', reasonSource: 'exit_survey' });
    expect(surveyed[0]?.returnedAtMs).toBeUndefined();

    const failed = customerExits(
      [
        event('C', 'subscription_started', '2026-01-05'),
        event('C', 'payment_failed', '2026-02-01'),
        event('C', 'session_started', '2026-02-08'),
        event('C', 'subscription_cancelled', '2026-02-10'),
      ],
      Date.parse(asOf),
      rules,
    );
    expect(failed[0]).toMatchObject({ kind: 'involuntary', reason: 'payment_failure', reasonSource: 'failed_payment' });

    const unknown = customerExits(
      [event('D', 'subscription_started', '2026-01-05'), event('D', 'session_started', '2026-01-08')],
      Date.parse(asOf),
      rules,
    );
    expect(unknown[0]).toMatchObject({ kind: 'passive', cancelled: false });
    expect(unknown[0]?.reason).toBeUndefined();
  });
});

describe('ChurnByReasonAccumulator', () => {
  it('splits each month into avoidable, unavoidable and unknown, by reason, adding up to the standard churn rate', () => {
    const histories = [
      ['A', 'price'],
      ['B', 'no_longer_needed'],
      ['C', undefined],
      ['D', 'support_experience'],
    ].map(([id, reasonCode]) => ({
      customerId: id as string,
      events: [
        event(id as string, 'subscription_started', '2026-01-05'),
        event(id as string, 'session_started', '2026-02-08'),
        event(id as string, 'subscription_cancelled', '2026-02-10', reasonCode ? { reasonCode } : {}),
      ],
    }));
    const stayer = {
      customerId: 'E',
      events: [event('E', 'subscription_started', '2026-01-06'), event('E', 'session_started', '2026-03-20')],
    };
    const byReason = new ChurnByReasonAccumulator({ asOf, ...rules });
    const totals = new MonthlyChurnAccumulator({ asOf, ...rules });
    for (const h of [...histories, stayer]) {
      byReason.add(h);
      totals.add(h);
    }
    const feb = byReason.result().find((row) => row.month === '2026-02');
    expect(feb).toMatchObject({ customersAtStart: 5, lost: 4, avoidable: 2, unavoidable: 1, unknown: 1 });
    expect(feb?.byReason).toMatchObject({ price: 1, no_longer_needed: 1, support_experience: 1, unknown: 1, competitor: 0 });
    expect(feb?.avoidableRate).toBeCloseTo(2 / 5);
    expect(feb?.churnRate).toBe(totals.result().find((row) => row.month === '2026-02')?.churnRate);
    expect((feb?.avoidableRate ?? 0) + (feb?.unavoidableRate ?? 0) + (feb?.unknown ?? 0) / 5).toBeCloseTo(feb?.churnRate ?? -1);

    const remapped = new ChurnByReasonAccumulator({ asOf, ...rules, exitReasons: { no_longer_needed: 'avoidable' } });
    for (const h of histories) remapped.add(h);
    expect(remapped.result().find((row) => row.month === '2026-02')).toMatchObject({ avoidable: 3, unavoidable: 0 });
  });
});

describe('ChurnBySegmentAccumulator', () => {
  it('gives the Wilson 95% interval', () => {
    const { low, high } = wilsonInterval(3, 30);
    expect(low).toBeCloseTo(0.0346, 3);
    expect(high).toBeCloseTo(0.2562, 3);
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });

  it('rates churn per plan, profile attribute and tenure band at the period start, hiding segments under the minimum', () => {
    const customer = (id: string, plan: string, country: string, lostOn?: string) => ({
      customerId: id,
      events: [
        event(id, 'subscription_started', '2025-06-01', { plan, mrrCents: 5_000 }),
        event(id, 'customer_profile', '2025-06-01', { attributes: { country, companySize: '1-10', acquisitionChannel: 'organic' } }),
        event(id, 'session_started', '2026-03-20'),
        ...(lostOn ? [event(id, 'subscription_cancelled', lostOn)] : []),
      ],
    });
    const histories = [
      ...Array.from({ length: 40 }, (_, i) => customer(`p${i}`, 'pro', 'DE', i < 10 ? '2026-03-25' : undefined)),
      ...Array.from({ length: 5 }, (_, i) => customer(`s${i}`, 'starter', 'FR', i < 1 ? '2026-03-25' : undefined)),
      // Left before the period: not in it.
      {
        customerId: 'old',
        events: [event('old', 'subscription_started', '2025-06-01'), event('old', 'subscription_cancelled', '2025-10-01')],
      },
    ];
    const segments = new ChurnBySegmentAccumulator({ asOf, ...rules, periodDays: 90, minCustomers: 30 });
    for (const h of histories) segments.add(h);
    const result = segments.result();
    const pro = result.segments.find((s) => s.dimension === 'plan' && s.segment === 'pro');
    expect(pro).toMatchObject({ customersAtStart: 40, lost: 10, churnRate: 0.25 });
    expect(pro?.low).toBeLessThan(0.25);
    expect(pro?.high).toBeGreaterThan(0.25);
    expect(result.segments.find((s) => s.segment === 'starter')).toBeUndefined();
    expect(result.segments.find((s) => s.dimension === 'tenureBand')).toMatchObject({
      segment: '3–12 months',
      customersAtStart: 45,
      lost: 11,
    });
    expect(result.segments.find((s) => s.dimension === 'companySize')).toMatchObject({ segment: '1-10', customersAtStart: 45 });
    // starter and FR are under 30 customers.
    expect(result.hidden).toBe(2);
  });
});
