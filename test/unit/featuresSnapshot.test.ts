import { describe, expect, it } from 'vitest';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { sortedEvents } from '../../model/features/history.ts';
import {
  type CustomerSnapshot,
  computeSnapshot,
  currentMrrCents,
  cutoffIndex,
  eventTimes,
  mrrCents90dAgo,
  profileMrrCents,
} from '../../model/features/snapshot.ts';
import { DAY_MS } from '../../model/features/time.ts';
import { at, cancel, ev, profile, session, start, T, T_MS } from './featuresFixtures.ts';

/** The state the snapshot carries forward: MRR and its aliases, reactivation, cards, tickets, latest values. */

function snapshotOf(events: ChurnEvent[], cutoffMs = T_MS): CustomerSnapshot {
  const sorted = sortedEvents(events);
  const times = eventTimes(sorted);
  return computeSnapshot(sorted, times, cutoffIndex(times, cutoffMs), cutoffMs);
}

const ago = (days: number, ms = 0): string => new Date(T_MS - days * DAY_MS + ms).toISOString();
const paid = (occurredAt: string, amountCents = 900) => ev('payment_succeeded', occurredAt, { amountCents });
const failed = (occurredAt: string) => ev('payment_failed', occurredAt, { amountCents: 900, reason: 'card_declined' });
const notice = (occurredAt: string, expiresOn: string) => ev('card_expiring', occurredAt, { expiresOn });
const opened = (occurredAt: string, ticketId: string) => ev('support_ticket_opened', occurredAt, { ticketId, priority: 'normal' });
const resolved = (occurredAt: string, ticketId: string) => ev('support_ticket_resolved', occurredAt, { ticketId });
const planChange = (occurredAt: string, mrrCents: number) => ev('plan_changed', occurredAt, { fromPlan: 'a', toPlan: 'b', mrrCents });
const reactivate = (occurredAt: string, mrrCents?: number) =>
  ev('subscription_reactivated', occurredAt, mrrCents === undefined ? {} : { mrrCents });

describe('profile MRR attributes', () => {
  it.each([
    ['mrrCents', 4990, 4990],
    ['mrr', 49.9, 4990],
    ['MonthlyCharges', 49.9, 4990],
    ['monthly_charge', 49.9, 4990],
    ['monthlyRevenue', 49.9, 4990],
    ['monthlyFee', 49.9, 4990],
    ['monthlyPrice', 49.9, 4990],
  ])('%s = %d is %d cents', (name, value, cents) => {
    expect(profileMrrCents(name, value)).toBe(cents);
  });

  it('compares names without case, spaces, underscores or dashes', () => {
    expect(profileMrrCents('MRR_CENTS', 100)).toBe(100);
    expect(profileMrrCents(' Monthly - Charges ', 2)).toBe(200);
    expect(profileMrrCents('monthly-fee', 3)).toBe(300);
  });

  it('rounds currency units to whole cents', () => {
    expect(profileMrrCents('mrr', 19.999)).toBe(2000);
    expect(profileMrrCents('mrrCents', 99.4)).toBe(99);
  });

  it('is undefined for another attribute, or for an MRR name whose value is not a number', () => {
    expect(profileMrrCents('seats', 12)).toBeUndefined();
    expect(profileMrrCents('mrr2', 12)).toBeUndefined();
    expect(profileMrrCents('mrr', '49.90')).toBeUndefined();
    expect(profileMrrCents('mrrCents', null)).toBeUndefined();
    expect(profileMrrCents('mrr', true)).toBeUndefined();
  });

  it('takes the latest MRR attribute of the profile events as the current MRR, in cents', () => {
    const s = snapshotOf([profile(at(-20), { mrrCents: 1500, seats: 3 }), profile(at(-5), { MonthlyCharges: 29.85, note: null })]);
    expect(s.profileMrrCents).toBe(2985);
    expect(currentMrrCents(s)).toBe(2985);
    expect(s.profile).toEqual(
      new Map<string, unknown>([
        ['mrrCents', 1500],
        ['seats', 3],
        ['MonthlyCharges', 29.85],
        ['note', null],
      ]),
    );
  });
});

describe('MRR from subscription events', () => {
  it('is the latest of started, plan changed and reactivated, ahead of any profile MRR', () => {
    const events = [start(at(-200), 4900), planChange(at(-100), 9900), profile(at(-3), { mrr: 10 })];
    const s = snapshotOf(events);
    expect(s.eventMrrCents).toBe(9900);
    expect(currentMrrCents(s)).toBe(9900);
    expect(s.profileMrrCents).toBe(1000);
  });

  it('takes the MRR of a reactivation that states one', () => {
    const s = snapshotOf([start(at(-200), 4900), cancel(at(-60)), reactivate(at(-30), 2900)]);
    expect(s.eventMrrCents).toBe(2900);
    expect(currentMrrCents(s)).toBe(2900);
  });

  it('keeps the MRR from before when a reactivation states none', () => {
    expect(snapshotOf([start(at(-200), 4900), cancel(at(-60)), reactivate(at(-30))]).eventMrrCents).toBe(4900);
  });

  it('keeps the first subscription start as the start, and the latest start’s MRR', () => {
    const s = snapshotOf([session(at(-300)), start(at(-200), 4900), cancel(at(-100)), start(at(-50), 6900)]);
    expect(s.subscriptionStartMs).toBe(T_MS - 200 * DAY_MS);
    expect(s.firstEventMs).toBe(T_MS - 300 * DAY_MS);
    expect(s.eventMrrCents).toBe(6900);
  });

  it('is NaN, like the start, when no event tells it', () => {
    const s = snapshotOf([session(at(-3))]);
    expect(s.eventMrrCents).toBeNaN();
    expect(s.subscriptionStartMs).toBeNaN();
    expect(currentMrrCents(s)).toBeNaN();
    expect(mrrCents90dAgo(s)).toBeNaN();
  });
});

describe('MRR 90 days before the cutoff', () => {
  it('is the subscription MRR as it stood before T − 90d: a change at exactly T − 90d is in the window', () => {
    const events = [start(at(-200), 4900), planChange(ago(90, -1), 5900), planChange(ago(90), 6900), planChange(at(-10), 7900)];
    const s = snapshotOf(events);
    expect(s.eventMrrCents90dAgo).toBe(5900);
    expect(mrrCents90dAgo(s)).toBe(5900);
    expect(currentMrrCents(s)).toBe(7900);
  });

  it('is the profile MRR as it stood 90 days before when no subscription event has one, not the current profile value', () => {
    const events = [profile(at(-120), { mrr: 10 }), profile(at(-10), { mrr: 20 })];
    const s = snapshotOf(events);
    expect(s.profileMrrCents90dAgo).toBe(1000);
    expect(mrrCents90dAgo(s)).toBe(1000);
    expect(currentMrrCents(s)).toBe(2000);
  });

  it('reads the subscription source when there is one, whatever the profile says', () => {
    const events = [start(at(-120), 4900), profile(at(-120), { mrr: 10 }), profile(at(-10), { mrr: 20 }), planChange(at(-10), 5900)];
    const s = snapshotOf(events);
    expect(mrrCents90dAgo(s)).toBe(4900);
    expect(currentMrrCents(s)).toBe(5900);
  });

  it('is the latest MRR when every event is older than T − 90d', () => {
    const s = snapshotOf([start(at(-200), 4900), profile(at(-150), { mrr: 10 }), planChange(at(-100), 5900)]);
    expect(s.eventMrrCents90dAgo).toBe(5900);
    expect(s.profileMrrCents90dAgo).toBe(1000);
  });

  it('is NaN when the first MRR comes inside the window', () => {
    const s = snapshotOf([session(at(-200)), start(at(-60), 4900), profile(at(-60), { mrr: 10 })]);
    expect(s.eventMrrCents90dAgo).toBeNaN();
    expect(s.profileMrrCents90dAgo).toBeNaN();
  });
});

describe('downgrades', () => {
  it('are plan changes to a lower MRR than before, not to an equal or higher one', () => {
    const events = [start(at(-200), 5000), planChange(at(-80), 5000), planChange(at(-60), 8000), planChange(at(-40), 7999)];
    expect(snapshotOf(events).downgrades90d).toBe(1);
  });
});

describe('card expiry', () => {
  it('is the expiry date of the latest notice', () => {
    const s = snapshotOf([notice(at(-60), '2026-05-01'), notice(at(-20), '2026-07-15')]);
    expect(s.cardExpiresMs).toBe(Date.parse('2026-07-15T00:00:00Z'));
  });

  it('is forgotten when a payment succeeds on or after the expiry date, after the notice (the card was replaced)', () => {
    const onExpiry = snapshotOf([notice(at(-40), '2026-05-10'), paid('2026-05-10T00:00:00.000Z')]);
    expect(onExpiry.cardExpiresMs).toBeNaN();
  });

  it('is kept when the payment after the notice came before the expiry date', () => {
    const s = snapshotOf([notice(at(-40), '2026-05-10'), paid('2026-05-09T23:59:59.999Z')]);
    expect(s.cardExpiresMs).toBe(Date.parse('2026-05-10T00:00:00Z'));
  });

  it('is kept when the latest notice came after the payment, even if its date has passed (a newer card expiring)', () => {
    const s = snapshotOf([paid(at(-10)), notice(at(-5), '2026-05-12')]);
    expect(s.cardExpiresMs).toBe(Date.parse('2026-05-12T00:00:00Z'));
  });

  it('is kept when the payment and the notice are at the same instant', () => {
    const s = snapshotOf([notice(at(-5), '2026-05-12'), paid(at(-5))]);
    expect(s.cardExpiresMs).toBe(Date.parse('2026-05-12T00:00:00Z'));
  });
});

describe('payment failures since the last success', () => {
  it('restart from zero at each successful payment', () => {
    const s = snapshotOf([failed(at(-100)), failed(at(-60)), paid(at(-50)), failed(at(-20)), failed(at(-3))]);
    expect(s.failuresSinceSuccess).toBe(2);
    expect(snapshotOf([failed(at(-20)), paid(at(-3))]).failuresSinceSuccess).toBe(0);
  });
});

describe('tickets', () => {
  it('count as open until resolved', () => {
    const s = snapshotOf([opened(at(-40), 'A'), opened(at(-20), 'B'), resolved(at(-10), 'A')]);
    expect(s.openTickets).toBe(1);
    expect(s.resolved90d).toBe(1);
    expect(s.resolutionHoursSum90d).toBe(30 * 24);
  });

  it('ignore the resolve of a ticket never opened: nothing resolved, nothing measured, no ticket closed', () => {
    const s = snapshotOf([opened(at(-20), 'A'), resolved(at(-10), 'Z')]);
    expect(s.resolved90d).toBe(0);
    expect(s.resolutionHoursSum90d).toBe(0);
    expect(s.openTickets).toBe(1);
  });

  it('measure a ticket once when it is resolved twice', () => {
    const s = snapshotOf([opened(at(-20), 'A'), resolved(at(-19), 'A'), resolved(at(-10), 'A')]);
    expect(s.resolved90d).toBe(1);
    expect(s.resolutionHoursSum90d).toBe(24);
  });
});

describe('latest values', () => {
  it('are the last session, activity and survey before the cutoff', () => {
    const events = [
      session(at(-9)),
      ev('survey_response', at(-8), { score: 9 }),
      ev('survey_response', at(-4), { score: 3 }),
      session(at(-5)),
      ev('custom', at(-2), { name: 'x', quantity: 1 }),
      opened(at(-1), 'A'),
      session(T),
    ];
    const s = snapshotOf(events);
    expect(s.lastSessionMs).toBe(T_MS - 5 * DAY_MS);
    expect(s.lastActivityMs).toBe(T_MS - 2 * DAY_MS);
    expect(s.lastSurveyScore).toBe(3);
    expect(s.lastSurveyMs).toBe(T_MS - 4 * DAY_MS);
    expect(s.cutoffMs).toBe(Date.parse(T));
  });
});

describe('activity', () => {
  it.for([
    ['a session', session(at(-2))],
    ['a feature use', ev('feature_used', at(-2), { feature: 'reports', quantity: 1 })],
    ['a custom event', ev('custom', at(-2), { name: 'invoice_sent', quantity: 1 })],
    ['a successful payment', paid(at(-2))],
  ] as const)('includes %s: it sets the last activity and counts in the 3-week and active-day windows', ([, event]) => {
    const s = snapshotOf([event]);
    expect(s.lastActivityMs).toBe(T_MS - 2 * DAY_MS);
    expect(s.activityLast3w).toBe(1);
    expect(s.activeDays30d).toBe(1);
  });

  it.for([
    ['a failed payment', failed(at(-2))],
    ['a ticket', opened(at(-2), 'A')],
    ['a survey answer', ev('survey_response', at(-2), { score: 5 })],
    ['a profile update', profile(at(-2), { seats: 3 })],
    ['a subscription start', start(at(-2))],
  ] as const)('excludes %s', ([, event]) => {
    const s = snapshotOf([event]);
    expect(s.lastActivityMs).toBeNaN();
    expect(s.activityLast3w).toBe(0);
    expect(s.activeDays30d).toBe(0);
  });
});
