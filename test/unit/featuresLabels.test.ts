import { describe, expect, it } from 'vitest';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import type { ChurnDefinition } from '../../model/features/churnDefinition.ts';
import { buildFeatureMatrix } from '../../model/features/datasets.ts';
import { at, cancel, ev, histories, session, start, T } from './featuresFixtures.ts';

const HORIZON = 30;
const CANCELLED: ChurnDefinition = { kind: 'cancelled' };
const INACTIVE_14: ChurnDefinition = { kind: 'inactive', days: 14 };

/** The label of `c1` at T, or 'absent' when c1 is not a row (not active at T). */
async function labelOf(events: ChurnEvent[], churn: ChurnDefinition, horizonDays = HORIZON): Promise<number | 'absent'> {
  const m = await buildFeatureMatrix(histories(events), T, { horizonDays, churn, observedUntil: at(365) });
  const row = m.customerIds.indexOf('c1');
  return row < 0 ? 'absent' : (m.labels[row] as number);
}

describe('labels for churn = cancelled: status at T + horizon of a customer active at T', () => {
  const active = () => [start(at(-100)), session(at(-2))];

  it('are 1 for a cancellation inside (T, T + horizon]', async () => {
    expect(await labelOf([...active(), cancel(at(10))], CANCELLED)).toBe(1);
  });

  it('count a cancellation at exactly T + horizon', async () => {
    expect(await labelOf([...active(), cancel(at(HORIZON))], CANCELLED)).toBe(1);
  });

  it('do not count a cancellation 1 ms after T + horizon', async () => {
    expect(await labelOf([...active(), cancel(new Date(Date.parse(at(HORIZON)) + 1).toISOString())], CANCELLED)).toBe(0);
  });

  it('make a cancellation at exactly T unknown (-1): it is neither a feature nor in the window, so never an example', async () => {
    expect(await labelOf([...active(), cancel(T)], CANCELLED)).toBe(-1);
  });

  it('are 0 when a cancellation is reversed by a reactivation before T + horizon (a save)', async () => {
    const events = [...active(), cancel(at(5)), ev('subscription_reactivated', at(12), {})];
    expect(await labelOf(events, CANCELLED)).toBe(0);
  });

  it('are 1 when the reactivation comes only after T + horizon', async () => {
    const events = [...active(), cancel(at(5)), ev('subscription_reactivated', at(HORIZON + 1), {})];
    expect(await labelOf(events, CANCELLED)).toBe(1);
  });

  it('are 0 for a customer with no cancellation', async () => {
    expect(await labelOf(active(), CANCELLED)).toBe(0);
  });

  it('exclude a customer already cancelled before T', async () => {
    expect(await labelOf([...active(), cancel(at(-1))], CANCELLED)).toBe('absent');
  });

  it('include a customer who cancelled and was reactivated before T', async () => {
    expect(await labelOf([...active(), cancel(at(-20)), ev('subscription_reactivated', at(-10), {})], CANCELLED)).toBe(0);
  });

  it('exclude a customer whose first event is at or after T (not a customer yet)', async () => {
    expect(await labelOf([start(T), cancel(at(3))], CANCELLED)).toBe('absent');
  });
});

describe('labels for churn = inactive:14d: 14 full days without activity', () => {
  it('are 0 when there is activity at exactly T + horizon', async () => {
    expect(await labelOf([session(at(-1)), session(at(HORIZON))], INACTIVE_14)).toBe(0);
  });

  it('are 1 when the last activity is exactly 14 days before T + horizon', async () => {
    expect(await labelOf([session(at(-1)), session(at(HORIZON - 14))], INACTIVE_14)).toBe(1);
  });

  it('are 0 when the last activity is less than 14 days before T + horizon', async () => {
    expect(await labelOf([session(at(-1)), ev('payment_succeeded', at(HORIZON - 13.9), { amountCents: 100 })], INACTIVE_14)).toBe(0);
  });

  it('are 0 when a lapse inside the horizon ends in a return before T + horizon (status at the end counts)', async () => {
    expect(await labelOf([session(at(-1)), session(at(25))], INACTIVE_14)).toBe(0);
  });

  it('exclude a customer inactive for exactly 14 days at T (already churned: churn exactly at T is not in the window)', async () => {
    expect(await labelOf([session(at(-14)), session(at(3))], INACTIVE_14)).toBe('absent');
  });

  it('include a customer whose last activity is just under 14 days before T', async () => {
    expect(await labelOf([session(at(-13.99))], INACTIVE_14)).toBe(1);
  });

  it('count custom events and successful payments as activity, not support tickets', async () => {
    const events = [
      session(at(-1)),
      ev('custom', at(HORIZON - 1), { name: 'report', quantity: 1 }),
      ev('support_ticket_opened', at(HORIZON - 2), { ticketId: 'X', priority: 'low' }),
    ];
    expect(await labelOf(events, INACTIVE_14)).toBe(0);
    const noActivity = [session(at(-1)), ev('support_ticket_opened', at(HORIZON - 2), { ticketId: 'X', priority: 'low' })];
    expect(await labelOf(noActivity, INACTIVE_14)).toBe(1);
  });
});

describe('label observability', () => {
  it('is unknown (-1) when T + horizon is after the data ends', async () => {
    const m = await buildFeatureMatrix(histories([session(at(-1)), cancel(at(3))]), T, {
      horizonDays: HORIZON,
      observedUntil: at(HORIZON - 1),
    });
    expect([...m.labels]).toEqual([-1]);
  });

  it('takes the data to end with the UTC day of the latest event by default', async () => {
    const lastDay = [session(at(-1)), session(at(HORIZON - 1, 5))]; // data runs through day T+29 → ends at T+30
    const m = await buildFeatureMatrix(histories(lastDay), T, { horizonDays: HORIZON });
    expect([...m.labels]).toEqual([0]);
    const shorter = await buildFeatureMatrix(histories([session(at(-1)), session(at(HORIZON - 2))]), T, { horizonDays: HORIZON });
    expect([...shorter.labels]).toEqual([-1]);
  });
});

describe('who is active at T', () => {
  it('for churn = cancelled, includes a customer with no subscription event at all (nothing was cancelled)', async () => {
    expect(await labelOf([session(at(-200))], CANCELLED)).toBe(0);
  });

  it('for churn = cancelled, excludes a customer whose history starts with a cancellation and never restarts', async () => {
    expect(await labelOf([cancel(at(-50)), session(at(-2))], CANCELLED)).toBe('absent');
  });

  it('for churn = cancelled, judges by the latest status event, not by later activity', async () => {
    expect(await labelOf([start(at(-100)), cancel(at(-50)), session(at(-2))], CANCELLED)).toBe('absent');
    expect(await labelOf([start(at(-100)), cancel(at(-50)), start(at(-20))], CANCELLED)).toBe(0);
  });

  it('for churn = inactive, excludes a customer whose events before T are none of the activity types', async () => {
    const noActivity = [start(at(-3)), ev('support_ticket_opened', at(-1), { ticketId: 'X', priority: 'low' })];
    expect(await labelOf(noActivity, INACTIVE_14)).toBe('absent');
  });

  it('for churn = inactive, judges by the latest activity before T, not the latest event', async () => {
    const events = [session(at(-20)), ev('support_ticket_opened', at(-1), { ticketId: 'X', priority: 'low' })];
    expect(await labelOf(events, INACTIVE_14)).toBe('absent');
  });
});

describe('labels for churn = cancelled at the edges of the window', () => {
  const active = () => [start(at(-100)), session(at(-2))];

  it('are 0, not unknown, when an event other than a cancellation falls at exactly T', async () => {
    expect(await labelOf([...active(), session(T)], CANCELLED)).toBe(0);
    expect(await labelOf([...active(), ev('subscription_reactivated', T, {})], CANCELLED)).toBe(0);
  });

  it('count a cancellation 1 ms after T', async () => {
    expect(await labelOf([...active(), cancel(new Date(Date.parse(T) + 1).toISOString())], CANCELLED)).toBe(1);
  });

  it('are 0 when the subscription is restarted after a cancellation inside the horizon', async () => {
    expect(await labelOf([...active(), cancel(at(5)), start(at(20))], CANCELLED)).toBe(0);
  });

  it('ignore activity after the cancellation: the latest status event decides', async () => {
    expect(await labelOf([...active(), cancel(at(5)), session(at(20))], CANCELLED)).toBe(1);
  });
});

describe('labels for churn = inactive when there is no activity after T', () => {
  it('measure the lapse from the latest activity before T', async () => {
    // Last activity 1 day before T: 31 days without activity at T + 30 → churned.
    expect(await labelOf([session(at(-3)), session(at(-1))], INACTIVE_14)).toBe(1);
  });

  it('are 0 when the lapse at T + horizon is under the definition', async () => {
    // 11 days without activity at T + 10
    expect(await labelOf([session(at(-20)), session(at(-1))], INACTIVE_14, 10)).toBe(0);
  });

  it('are 1 at exactly the definition, counted from the latest activity before T', async () => {
    // 14 days without activity at T + 10
    expect(await labelOf([session(at(-20)), session(at(-4))], INACTIVE_14, 10)).toBe(1);
  });

  it('measure the lapse from the latest activity before T, skipping later events that are not activity', async () => {
    // Activity 5 days before T, a ticket 1 day before: 15 days without activity at T + 10.
    const events = [session(at(-5)), ev('support_ticket_opened', at(-1), { ticketId: 'X', priority: 'low' })];
    expect(await labelOf(events, INACTIVE_14, 10)).toBe(1);
  });

  it('ignore activity 1 ms after T + horizon: it comes too late to save the customer', async () => {
    const late = new Date(Date.parse(at(10)) + 1).toISOString();
    const events = [session(at(-5)), ev('support_ticket_opened', at(-1), { ticketId: 'X', priority: 'low' }), session(late)];
    expect(await labelOf(events, INACTIVE_14, 10)).toBe(1);
  });
});
