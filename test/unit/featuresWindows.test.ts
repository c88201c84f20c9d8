import { describe, expect, it } from 'vitest';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { sortedEvents } from '../../model/features/history.ts';
import { type CustomerSnapshot, computeSnapshot, cutoffIndex, eventTimes } from '../../model/features/snapshot.ts';
import { DAY_MS, HOUR_MS } from '../../model/features/time.ts';
import { at, ev, session, start, T, T_MS } from './featuresFixtures.ts';

/**
 * The snapshot windows, specified at the millisecond: a w-day window is [T − w, T), so an event at
 * T − w − 1 ms is out, one at T − w and at T − w + 1 ms is in, and nothing at or after the cutoff T
 * is read.
 */

/** The snapshot of one customer's events at the cutoff (default T), the way the builders take it. */
function snapshotOf(events: ChurnEvent[], cutoffMs = T_MS): CustomerSnapshot {
  const sorted = sortedEvents(events);
  const times = eventTimes(sorted);
  return computeSnapshot(sorted, times, cutoffIndex(times, cutoffMs), cutoffMs);
}

/** The instant `days` days before T, shifted by `ms` milliseconds (ms precision). */
const ago = (days: number, ms = 0): string => new Date(T_MS - days * DAY_MS + ms).toISOString();

/** The instants around the edge of a w-day window: just out, exactly on it, just in. */
const edge = (days: number) => ({ justOut: ago(days, -1), onEdge: ago(days), justIn: ago(days, 1) });

const failed = (occurredAt: string) => ev('payment_failed', occurredAt, { amountCents: 900, reason: 'card_declined' });
const paid = (occurredAt: string, amountCents = 900) => ev('payment_succeeded', occurredAt, { amountCents });
const opened = (occurredAt: string, ticketId: string) => ev('support_ticket_opened', occurredAt, { ticketId, priority: 'normal' });
const resolved = (occurredAt: string, ticketId: string) => ev('support_ticket_resolved', occurredAt, { ticketId });
const used = (occurredAt: string, feature: string, quantity = 1) => ev('feature_used', occurredAt, { feature, quantity });
const custom = (occurredAt: string, name: string, quantity = 1) => ev('custom', occurredAt, { name, quantity });
const planChange = (occurredAt: string, mrrCents: number) => ev('plan_changed', occurredAt, { fromPlan: 'a', toPlan: 'b', mrrCents });

interface CountWindow {
  name: string;
  days: number;
  event: (occurredAt: string, i: number) => ChurnEvent;
  read: (s: CustomerSnapshot) => number;
}

/** Every window that counts events (or sums one per event: quantities of 1, amounts of 900). */
const COUNT_WINDOWS: CountWindow[] = [
  { name: 'sessions_7d', days: 7, event: (t) => session(t), read: (s) => s.sessions7d },
  { name: 'sessions_30d', days: 30, event: (t) => session(t), read: (s) => s.sessions30d },
  { name: 'failed payments 14d', days: 14, event: failed, read: (s) => s.failedPayments14d },
  { name: 'failed payments 90d', days: 90, event: failed, read: (s) => s.failedPayments90d },
  { name: 'paid 90d (cents)', days: 90, event: (t) => paid(t, 1), read: (s) => s.paidCents90d },
  { name: 'tickets_30d', days: 30, event: (t, i) => opened(t, `T${i}`), read: (s) => s.tickets30d },
  { name: 'tickets_90d', days: 90, event: (t, i) => opened(t, `T${i}`), read: (s) => s.tickets90d },
  { name: 'feature uses 30d', days: 30, event: (t) => used(t, 'reports'), read: (s) => s.featureUses30d },
  { name: 'distinct features 30d', days: 30, event: (t, i) => used(t, `f${i}`), read: (s) => s.distinctFeatures30d },
  { name: 'custom 30d', days: 30, event: (t) => custom(t, 'invoice_sent'), read: (s) => s.custom30d.get('invoice_sent') ?? 0 },
  { name: 'activity last 3 weeks', days: 21, event: (t) => session(t), read: (s) => s.activityLast3w },
  { name: 'downgrades 90d', days: 90, event: (t, i) => planChange(t, 10_000 - i), read: (s) => s.downgrades90d },
];

describe('every window is [T − w, T) to the millisecond', () => {
  it.for(COUNT_WINDOWS.map((w) => [w.name, w] as const))(
    '%s counts the events at T − w and T − w + 1 ms, not at T − w − 1 ms',
    ([, { days, event, read }]) => {
      const { justOut, onEdge, justIn } = edge(days);
      const events = [start(at(-400), 10_000), event(justOut, 1), event(onEdge, 2), event(justIn, 3)];
      expect(read(snapshotOf(events))).toBe(2);
    },
  );

  it.for(COUNT_WINDOWS.map((w) => [w.name, w] as const))(
    '%s counts an event 1 ms before T and none at T or after',
    ([, { event, read }]) => {
      const events = [start(at(-400), 10_000), event(ago(0, -1), 1), event(T, 2), event(ago(0, 1), 3)];
      expect(read(snapshotOf(events))).toBe(1);
    },
  );

  it('activity in the previous 3 weeks is [T − 42d, T − 21d): T − 21d − 1 ms is in, T − 21d is not, T − 42d − 1 ms is not', () => {
    const events = [
      session(edge(42).justOut),
      session(edge(42).onEdge),
      session(edge(42).justIn),
      session(edge(21).justOut),
      session(edge(21).onEdge),
    ];
    const s = snapshotOf(events);
    expect(s.activityPrevious3w).toBe(3);
    expect(s.activityLast3w).toBe(1);
  });

  it('active days count the distinct UTC days with activity from T − 30d on', () => {
    // T is midnight UTC, so T − 30d − 1 ms is the last instant of a day outside the window.
    const events = [session(edge(30).justOut), paid(edge(30).onEdge), session(at(-1)), custom(ago(0, -1), 'x')];
    expect(snapshotOf(events).activeDays30d).toBe(2);
  });

  it('resolution times count the tickets resolved from T − 90d on, whenever they were opened', () => {
    const events = [
      opened(at(-100), 'A'),
      resolved(edge(90).justOut, 'A'),
      opened(at(-100), 'B'),
      resolved(edge(90).onEdge, 'B'), // 10 days = 240 h
      opened(at(-91), 'C'),
      resolved(edge(90).justIn, 'C'), // 24 h + 1 ms
    ];
    const s = snapshotOf(events);
    expect(s.resolved90d).toBe(2);
    expect(s.resolutionHoursSum90d).toBeCloseTo(240 + 24 + 1 / HOUR_MS, 9);
    expect(s.openTickets).toBe(0);
  });
});

describe('an event between a shorter and a longer window counts in the longer one only', () => {
  it('a session 10 and 25 days ago counts in sessions_30d, not sessions_7d; one 20 days ago not in a 14- or 21-day window', () => {
    const s = snapshotOf([session(at(-25)), session(at(-20)), session(at(-10)), session(at(-3))]);
    expect(s.sessions7d).toBe(1);
    expect(s.sessions30d).toBe(4);
  });

  it('a ticket opened 20 days ago counts in tickets_90d, not tickets_30d; one opened 25 days ago counts in both', () => {
    const s = snapshotOf([opened(at(-60), 'A'), opened(at(-25), 'B'), opened(at(-20), 'C')]);
    expect(s.tickets30d).toBe(2);
    expect(s.tickets90d).toBe(3);
  });

  it('a payment failure 20 and 60 days ago counts in the 90-day window, not the 14-day one', () => {
    const s = snapshotOf([failed(at(-60)), failed(at(-20)), failed(at(-13))]);
    expect(s.failedPayments14d).toBe(1);
    expect(s.failedPayments90d).toBe(3);
  });

  it('feature uses and custom events 20 days ago still count in their 30-day windows', () => {
    const s = snapshotOf([
      used(at(-20), 'export', 4),
      used(at(-16), 'reports', 2),
      custom(at(-20), 'api_call', 5),
      custom(at(-16), 'api_call', 1),
    ]);
    expect(s.distinctFeatures30d).toBe(2);
    expect(s.featureUses30d).toBe(6);
    expect(s.custom30d.get('api_call')).toBe(6);
  });

  it('activity 25 days ago is in the previous 3 weeks, not the last 3', () => {
    const s = snapshotOf([session(at(-25)), custom(at(-22), 'x'), paid(at(-20))]);
    expect(s.activityPrevious3w).toBe(2);
    expect(s.activityLast3w).toBe(1);
  });

  it('a payment 60 days ago counts in paid_90d and one 100 days ago does not', () => {
    expect(snapshotOf([paid(at(-100), 500), paid(at(-60), 700), paid(at(-10), 900)]).paidCents90d).toBe(1600);
  });
});

describe('cutoffIndex: features read events strictly before the cutoff', () => {
  it('is the index of the first event at or after the cutoff', () => {
    const times = Float64Array.from([T_MS - 2, T_MS - 1, T_MS, T_MS, T_MS + 1]);
    expect(cutoffIndex(times, T_MS)).toBe(2);
    expect(cutoffIndex(times, T_MS + 1)).toBe(4);
    expect(cutoffIndex(times, T_MS + 2)).toBe(5);
    expect(cutoffIndex(times, T_MS - 2)).toBe(0);
    expect(cutoffIndex(new Float64Array(0), T_MS)).toBe(0);
  });
});
