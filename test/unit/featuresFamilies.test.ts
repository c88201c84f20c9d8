import { describe, expect, it } from 'vitest';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { buildFeatureMatrix } from '../../model/features/datasets.ts';
import type { FeatureMatrix } from '../../model/features/matrix.ts';
import { at, ev, histories, profile, session, start, T } from './featuresFixtures.ts';

/** Builds the matrix at T for one customer `c1` and reads named values of its row. */
async function featuresOf(
  events: ChurnEvent[],
  options = {},
): Promise<{ matrix: FeatureMatrix; value(name: string): number | string | null }> {
  const matrix = await buildFeatureMatrix(histories(events), T, options);
  const row = matrix.customerIds.indexOf('c1');
  if (row < 0) throw new Error('c1 has no row');
  return {
    matrix,
    value(name) {
      const n = matrix.numericColumns.findIndex((c) => c.name === name);
      if (n >= 0) return matrix.numeric[row * matrix.numericColumns.length + n] as number;
      const c = matrix.categoricalColumns.findIndex((col) => col.name === name);
      if (c < 0) throw new Error(`no column ${name}`);
      const code = matrix.categorical[row * matrix.categoricalColumns.length + c] as number;
      return code < 0 ? null : (matrix.categoricalColumns[c]?.categories[code] ?? null);
    },
  };
}

describe('activity features', () => {
  it('count sessions in the last 7 and 30 days, days since the last session and activity, and active days', async () => {
    // Prepare: sessions 40, 20, 6.5 and 2 days before T (two on day −2), a purchase 1 day before
    const events = [
      session(at(-40)),
      session(at(-20)),
      session(at(-6.5)),
      session(at(-2)),
      session(at(-2, 3)),
      ev('payment_succeeded', at(-1), { amountCents: 900 }),
    ];
    // Act
    const f = await featuresOf(events);
    // Assess
    expect(f.value('activity.sessions_7d')).toBe(3);
    expect(f.value('activity.sessions_30d')).toBe(4);
    expect(f.value('activity.days_since_last_session')).toBeCloseTo(2 - 3 / 24, 10);
    expect(f.value('activity.days_since_last_activity')).toBe(1);
    expect(f.value('activity.active_days_30d')).toBe(4); // days −20, −6.5, −2, −1
  });

  it('measure the usage trend as activity in the last 3 weeks ÷ the 3 weeks before', async () => {
    // Prepare: 4 sessions in [T−42d, T−21d), 1 in [T−21d, T)
    const events = [session(at(-40)), session(at(-30)), session(at(-25)), session(at(-21.5)), session(at(-3))];
    // Act
    const f = await featuresOf(events);
    // Assess
    expect(f.value('activity.usage_trend_3w')).toBe(0.25);
  });

  it('leave the trend missing when there was no activity in the 3 weeks before', async () => {
    const f = await featuresOf([profile(at(-60), { plan: 'x' }), session(at(-3))]);
    expect(f.value('activity.usage_trend_3w')).toBeNaN();
  });
});

describe('adoption features', () => {
  it('count distinct features and summed uses in the last 30 days only', async () => {
    const events = [
      ev('feature_used', at(-45), { feature: 'old', quantity: 9 }),
      ev('feature_used', at(-10), { feature: 'reports', quantity: 3 }),
      ev('feature_used', at(-5), { feature: 'reports', quantity: 2 }),
      ev('feature_used', at(-1), { feature: 'export', quantity: 1 }),
    ];
    const f = await featuresOf(events);
    expect(f.value('adoption.distinct_features_30d')).toBe(2);
    expect(f.value('adoption.feature_uses_30d')).toBe(6);
  });
});

describe('payment features', () => {
  it('count failures in 14 and 90 days and the failures not yet followed by a success', async () => {
    const events = [
      ev('payment_failed', at(-100), { amountCents: 900, reason: 'card_declined' }),
      ev('payment_failed', at(-60), { amountCents: 900, reason: 'card_declined' }),
      ev('payment_succeeded', at(-50), { amountCents: 900 }),
      ev('payment_failed', at(-20), { amountCents: 900, reason: 'insufficient_funds' }),
      ev('payment_failed', at(-3), { amountCents: 900, reason: 'expired_card' }),
    ];
    const f = await featuresOf(events);
    expect(f.value('payments.failed_14d')).toBe(1);
    expect(f.value('payments.failed_90d')).toBe(3);
    expect(f.value('payments.unresolved_failures')).toBe(2);
    expect(f.value('value.paid_90d')).toBe(9);
  });

  it('count days until the card of the latest notice expires and flag expiry within 30 days', async () => {
    const f = await featuresOf([session(at(-1)), ev('card_expiring', at(-5), { expiresOn: '2026-06-21' })]);
    expect(f.value('payments.days_until_card_expiry')).toBe(20);
    expect(f.value('payments.card_expiring_30d')).toBe(1);
  });

  it('forget an expiry notice once a payment succeeds after the expiry date (the card was replaced)', async () => {
    const events = [ev('card_expiring', at(-40), { expiresOn: '2026-05-10' }), ev('payment_succeeded', at(-10), { amountCents: 900 })];
    const f = await featuresOf(events);
    expect(f.value('payments.days_until_card_expiry')).toBeNaN();
    expect(f.value('payments.card_expiring_30d')).toBe(0);
  });

  it('report an expired, unreplaced card as negative days and expiring', async () => {
    const f = await featuresOf([session(at(-1)), ev('card_expiring', at(-40), { expiresOn: '2026-05-22' })]);
    expect(f.value('payments.days_until_card_expiry')).toBe(-10);
    expect(f.value('payments.card_expiring_30d')).toBe(1);
  });
});

describe('support features', () => {
  it('count tickets by opening time, open tickets, and the mean resolution hours of the last 90 days', async () => {
    const events = [
      ev('support_ticket_opened', at(-120), { ticketId: 'A', priority: 'low' }),
      ev('support_ticket_resolved', at(-119), { ticketId: 'A' }), // resolved 24 h later, but before the 90-day window
      ev('support_ticket_opened', at(-40), { ticketId: 'B', priority: 'high' }),
      ev('support_ticket_resolved', at(-40, 6), { ticketId: 'B' }),
      ev('support_ticket_opened', at(-10), { ticketId: 'C', priority: 'normal' }),
      ev('support_ticket_resolved', at(-10, 12), { ticketId: 'C' }),
      ev('support_ticket_opened', at(-2), { ticketId: 'D', priority: 'urgent' }),
    ];
    const f = await featuresOf(events);
    expect(f.value('support.tickets_30d')).toBe(2);
    expect(f.value('support.tickets_90d')).toBe(3);
    expect(f.value('support.open_tickets')).toBe(1);
    expect(f.value('support.mean_resolution_hours')).toBe(9);
  });
});

describe('survey features', () => {
  it('take the latest score and the days since it', async () => {
    const events = [ev('survey_response', at(-30), { score: 9 }), ev('survey_response', at(-4), { score: 3 })];
    const f = await featuresOf(events);
    expect(f.value('survey.last_score')).toBe(3);
    expect(f.value('survey.days_since_last')).toBe(4);
  });

  it('leave both missing when no survey was answered', async () => {
    const f = await featuresOf([session(at(-1))]);
    expect(f.value('survey.last_score')).toBeNaN();
    expect(f.value('survey.days_since_last')).toBeNaN();
  });
});

describe('plan, value and tenure features', () => {
  it('count downgrades (plan changes to a lower MRR) in 90 days and the MRR change against 90 days before', async () => {
    const events = [
      start(at(-200), 10000),
      ev('plan_changed', at(-60), { fromPlan: 'pro', toPlan: 'team', mrrCents: 20000 }),
      ev('plan_changed', at(-30), { fromPlan: 'team', toPlan: 'basic', mrrCents: 5000 }),
    ];
    const f = await featuresOf(events);
    expect(f.value('plan.downgrades_90d')).toBe(1);
    expect(f.value('plan.mrr_change_90d_pct')).toBe(-50);
    expect(f.value('value.mrr')).toBe(50);
    expect(f.matrix.mrrCents[0]).toBe(5000);
    expect(f.value('tenure.days')).toBe(200);
  });

  it('take MRR from a MonthlyCharges profile attribute when no subscription event has one', async () => {
    const f = await featuresOf([profile(at(-10), { MonthlyCharges: 29.85 }), session(at(-10))]);
    expect(f.value('value.mrr')).toBeCloseTo(29.85, 10);
    expect(f.matrix.mrrCents[0]).toBe(2985);
  });

  it('leave MRR missing (NaN) when nothing tells it', async () => {
    const f = await featuresOf([session(at(-10))]);
    expect(f.value('value.mrr')).toBeNaN();
    expect(f.matrix.mrrCents[0]).toBeNaN();
  });

  it('measure tenure from the first event when there is no subscription start', async () => {
    const f = await featuresOf([session(at(-45)), session(at(-1))]);
    expect(f.value('tenure.days')).toBe(45);
  });
});

describe('custom features', () => {
  it('sum quantities per custom event name over 30 days, one column per name seen', async () => {
    const events = [
      ev('custom', at(-50), { name: 'invoice_sent', quantity: 5 }),
      ev('custom', at(-5), { name: 'invoice_sent', quantity: 2 }),
      ev('custom', at(-4), { name: 'invoice_sent', quantity: 1 }),
      ev('custom', at(-40), { name: 'api_call', quantity: 100 }),
    ];
    const f = await featuresOf(events);
    expect(f.value('custom.invoice_sent.30d')).toBe(3);
    expect(f.value('custom.api_call.30d')).toBe(0);
  });

  it('make columns of the configured custom names only, when configured', async () => {
    const events = [ev('custom', at(-5), { name: 'invoice_sent', quantity: 2 }), ev('custom', at(-4), { name: 'noise', quantity: 1 })];
    const f = await featuresOf(events, { customEvents: ['invoice_sent', 'never_seen'] });
    const custom = f.matrix.numericColumns.filter((c) => c.name.startsWith('custom.'));
    expect(custom.filter((c) => !c.generated).map((c) => c.name)).toEqual(['custom.invoice_sent.30d', 'custom.never_seen.30d']);
    // The generated families follow the same configuration: none for the unconfigured "noise".
    expect(new Set(custom.filter((c) => c.generated).map((c) => c.generated?.stream))).toEqual(new Set(['custom:invoice_sent']));
  });
});

describe('profile features', () => {
  it('turn numeric attributes into numeric columns and strings and booleans into categorical ones, latest value first', async () => {
    const events = [
      profile(at(-30), { Contract: 'One year', seats: 5, annual: true }),
      profile(at(-3), { Contract: 'Month-to-month', seats: 12 }),
    ];
    const f = await featuresOf(events);
    expect(f.value('profile.Contract')).toBe('Month-to-month');
    expect(f.value('profile.seats')).toBe(12);
    expect(f.value('profile.annual')).toBe('true');
    expect(f.matrix.numericColumns.find((c) => c.name === 'profile.seats')?.family).toBe('profile');
    expect(f.matrix.categoricalColumns.map((c) => c.name)).toEqual(['profile.Contract', 'profile.annual']);
  });

  it('treat null as missing and an attribute with mixed numbers and strings as categorical', async () => {
    const events = [profile(at(-5), { zone: 7, note: null }), profile(at(-4), { zone: 'north' }, 'c2')];
    const f = await featuresOf(events);
    expect(f.value('profile.zone')).toBe('7');
    expect(f.value('profile.note')).toBeNaN();
  });
});
