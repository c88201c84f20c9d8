import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { churnTenures, DEFAULT_PASSIVE_INACTIVITY_DAYS } from '../../model/analytics/churnByMonth.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { validateEvent } from '../../model/events/validate.ts';
import { falseAlarmChance } from '../../model/simulate/catalog.ts';
import { type CustomerTruth, monthlyChurnRates, simulateBusiness, simulateCustomers } from '../../model/simulate/index.ts';

const DAY = 86_400_000;
// One mid-sized business shared by the statistical specifications (simulating it takes ~0.5 s).
const business = simulateBusiness({ customers: 1500, days: 180, seed: 11 });
const eventsByCustomer = new Map<string, ChurnEvent[]>();
for (const event of business.events) {
  const list = eventsByCustomer.get(event.customerId) ?? [];
  list.push(event);
  eventsByCustomer.set(event.customerId, list);
}
const eventsOf = (t: CustomerTruth) => eventsByCustomer.get(t.customerId) ?? [];
const churnersBy = (cause: CustomerTruth['cause']) =>
  business.truth.filter((t) => t.churned && t.cause === cause && Date.parse(t.churnedAt!) > Date.parse(business.window.start));
const share = <T>(items: T[], predicate: (item: T) => boolean) => items.filter(predicate).length / items.length;

describe('simulateBusiness', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    // Prepare
    const options = { customers: 60, days: 60, seed: 5 };
    // Act
    const first = simulateBusiness(options);
    const again = simulateBusiness(options);
    const other = simulateBusiness({ ...options, seed: 6 });
    // Assess
    expect(JSON.stringify(again)).toBe(JSON.stringify(first));
    expect(JSON.stringify(other.events)).not.toBe(JSON.stringify(first.events));
  });

  it('streams the same customers it collects', () => {
    // Prepare
    const options = { customers: 40, days: 60, seed: 9 };
    // Act
    const streamed = [...simulateCustomers(options)];
    const collected = simulateBusiness(options);
    // Assess
    expect(streamed.flatMap((c) => c.events)).toEqual(collected.events);
    expect(streamed.map((c) => c.truth)).toEqual(collected.truth);
  });

  it('produces only events that pass the public event contract unchanged', () => {
    // Act
    const problems = business.events
      .map((event, index) => ({ event, result: validateEvent(event, index) }))
      .filter(({ event, result }) => !result.ok || !isDeepStrictEqual(result.event, event));
    // Assess
    expect(problems.slice(0, 3)).toEqual([]);
  });

  it('uses every event type a retention team needs and unique event ids', () => {
    const types = new Set(business.events.map((e) => e.type));
    for (const type of [
      'session_started',
      'feature_used',
      'payment_succeeded',
      'payment_failed',
      'card_expiring',
      'support_ticket_opened',
      'support_ticket_resolved',
      'survey_response',
      'subscription_started',
      'plan_changed',
      'subscription_cancelled',
      'customer_profile',
    ] as const) {
      expect(types, type).toContain(type);
    }
    expect(new Set(business.events.map((e) => e.eventId)).size).toBe(business.events.length);
  });

  it('defaults to a fixed window ending 2026-06-30 so runs are reproducible', () => {
    const { window } = simulateBusiness({ customers: 1, days: 30 });
    expect(window).toEqual({ start: '2026-05-31T00:00:00.000Z', end: '2026-06-30T00:00:00.000Z' });
  });

  it('gives each customer one subscription start and a profile with country, company size and channel, in time order', () => {
    for (const truth of business.truth) {
      const events = eventsOf(truth);
      expect(events.filter((e) => e.type === 'subscription_started')).toHaveLength(1);
      const profile = events.find((e) => e.type === 'customer_profile');
      expect(profile?.type === 'customer_profile' && Object.keys(profile.properties.attributes)).toEqual(
        expect.arrayContaining(['country', 'companySize', 'acquisitionChannel']),
      );
      const times = events.map((e) => e.occurredAt);
      expect(times).toEqual([...times].sort());
      expect(events[0]!.type).toBe('subscription_started');
      expect(times.at(-1)! < business.window.end).toBe(true);
    }
  });

  it('records the truth: a churner cancels on its churn day and sends nothing afterwards', () => {
    for (const truth of business.truth) {
      const events = eventsOf(truth);
      const cancels = events.filter((e) => e.type === 'subscription_cancelled');
      if (truth.churned) {
        expect(cancels).toHaveLength(1);
        expect(cancels[0]!.occurredAt.slice(0, 10)).toBe(truth.churnedAt!.slice(0, 10));
        expect(events.at(-1)).toBe(cancels[0]);
        expect(truth.cause).not.toBeNull();
      } else {
        expect(cancels).toHaveLength(0);
        expect(truth.cause).toBeNull();
      }
    }
  });

  it('churns 3–6% of customers a month, with signups during the window', () => {
    const rates = monthlyChurnRates(business.truth, business.window).map((m) => m.rate);
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
    expect(rates.length).toBeGreaterThanOrEqual(5);
    expect(mean).toBeGreaterThan(0.03);
    expect(mean).toBeLessThan(0.06);
    expect(business.truth.filter((t) => t.signedUpAt >= business.window.start).length).toBeGreaterThan(business.truth.length * 0.2);
  });

  it('precedes most involuntary churn by failed payments 1–3 weeks before', () => {
    const churners = churnersBy('involuntary');
    const warned = share(churners, (t) =>
      eventsOf(t).some(
        (e) =>
          e.type === 'payment_failed' &&
          Date.parse(t.churnedAt!) - Date.parse(e.occurredAt) >= 7 * DAY &&
          Date.parse(t.churnedAt!) - Date.parse(e.occurredAt) <= 22 * DAY,
      ),
    );
    expect(churners.length).toBeGreaterThan(30);
    expect(warned).toBeGreaterThan(0.8);
  });

  it('precedes most passive churn by usage that decays to a fraction of its earlier level', () => {
    const sessionsBetween = (events: ChurnEvent[], from: number, to: number) =>
      events.filter((e) => e.type === 'session_started' && Date.parse(e.occurredAt) >= from && Date.parse(e.occurredAt) < to).length;
    const churners = churnersBy('passive').filter((t) => Date.parse(t.churnedAt!) - Date.parse(t.signedUpAt) > 90 * DAY);
    const decayed = share(churners, (t) => {
      const end = Date.parse(t.churnedAt!);
      const recent = sessionsBetween(eventsOf(t), end - 14 * DAY, end);
      const earlier = sessionsBetween(eventsOf(t), end - 84 * DAY, end - 56 * DAY) / 2;
      return recent < 0.35 * earlier || (recent === 0 && earlier > 0);
    });
    expect(churners.length).toBeGreaterThan(20);
    expect(decayed).toBeGreaterThan(0.75);
  });

  it("has every passive churner go quiet for at least the analytics' passive threshold (14 days) before cancelling", () => {
    const usage = new Set<ChurnEvent['type']>(['session_started', 'feature_used', 'custom']);
    const quietDays = (t: CustomerTruth) => {
      const events = eventsOf(t);
      const lastUse = events.findLast((e) => usage.has(e.type)) ?? events[0]!;
      return (Date.parse(events.at(-1)!.occurredAt) - Date.parse(lastUse.occurredAt)) / DAY;
    };
    const churners = churnersBy('passive');
    expect(churners.length).toBeGreaterThan(20);
    expect(Math.min(...churners.map(quietDays))).toBeGreaterThanOrEqual(DEFAULT_PASSIVE_INACTIVITY_DAYS);
  });

  it("lets the run summary's churn analytics read the simulated causes back (passive all, involuntary ≥ 90%, voluntary and support rarely passive)", () => {
    // Prepare
    const end = Date.parse(business.window.end);
    const kindOf = (t: CustomerTruth) => churnTenures(eventsOf(t), end, { inactivityDays: 30 }).at(-1)?.end?.kind;
    // Act
    const passive = churnersBy('passive').map(kindOf);
    const involuntary = churnersBy('involuntary').map(kindOf);
    const engaged = [...churnersBy('voluntary'), ...churnersBy('support')].map(kindOf);
    // Assess
    expect(passive.every((kind) => kind === 'passive')).toBe(true);
    expect(share(involuntary, (kind) => kind === 'involuntary')).toBeGreaterThanOrEqual(0.9);
    expect(share(engaged, (kind) => kind === 'passive')).toBeLessThanOrEqual(0.05);
  });

  it('precedes most voluntary churn by a downgrade or a price complaint, and support churn by tickets', () => {
    const happenedBefore = (t: CustomerTruth, type: ChurnEvent['type']) =>
      eventsOf(t).some((e) => e.type === type && Date.parse(e.occurredAt) > Date.parse(t.churnedAt!) - 60 * DAY);
    expect(
      share(churnersBy('voluntary'), (t) => happenedBefore(t, 'plan_changed') || happenedBefore(t, 'survey_response')),
    ).toBeGreaterThan(0.8);
    expect(share(churnersBy('support'), (t) => happenedBefore(t, 'support_ticket_opened'))).toBeGreaterThan(0.8);
  });

  it('keeps loyal customers: long-tenured customers churn less than new ones', () => {
    const start = Date.parse(business.window.start);
    const tenured = business.truth.filter((t) => start - Date.parse(t.signedUpAt) > 365 * DAY);
    const newcomers = business.truth.filter(
      (t) => Date.parse(t.signedUpAt) >= start - 60 * DAY && Date.parse(t.signedUpAt) < start + 30 * DAY,
    );
    expect(share(tenured, (t) => t.churned)).toBeLessThan(share(newcomers, (t) => t.churned));
  });

  it('produces valid events inside the window for any seed, size and end date (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 14, max: 90 }),
        fc.date({ min: new Date('2001-01-01'), max: new Date('2099-01-01'), noInvalidDate: true }),
        (seed, customers, days, end) => {
          const { events, truth, window } = simulateBusiness({ customers, days, seed, end: end.toISOString() });
          expect(truth).toHaveLength(customers);
          for (const [i, event] of events.entries()) {
            expect(validateEvent(event, i).ok).toBe(true);
            expect(event.occurredAt < window.end).toBe(true);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('makes the same warning sign riskier for disengaged, newer customers (an interaction a model can learn)', () => {
    expect(falseAlarmChance(2, 30)).toBeGreaterThan(falseAlarmChance(1, 30));
    expect(falseAlarmChance(1, 30)).toBeGreaterThan(falseAlarmChance(0.3, 30));
    expect(falseAlarmChance(1, 400)).toBeGreaterThan(falseAlarmChance(1, 30));
    expect(falseAlarmChance(100, 400)).toBeLessThanOrEqual(0.85);
  });

  it('rejects options it cannot simulate with the field and the rule', () => {
    expect(() => simulateBusiness({ customers: 0 })).toThrow(/customers must be at least 1/);
    expect(() => simulateBusiness({ days: 3 })).toThrow(/days must be at least 14/);
    expect(() => simulateBusiness({ end: 'soon' })).toThrow(/end must be a date/);
    expect(() => simulateBusiness({ end: '2000-01-10', days: 30 })).toThrow(/the window must lie between 2000-01-01 and 2100-01-01/);
  });
});
