import { describe, expect, it } from 'vitest';
import { ChurnEvent } from '../../model/events/schemas.ts';
import { declineReason, mapStripeEvent, type StripeMapping } from '../../model/integrations/stripe/mapStripeEvent.ts';
import type { StripeCustomerLookup } from '../../model/integrations/stripe/stripeCustomer.ts';
import { contractName, pricedItem, subscriptionValue } from '../../model/integrations/stripe/stripeMrr.ts';
import { StripeEvent } from '../../model/integrations/stripe/stripePayloads.ts';
import { stripeFixture } from '../helpers/stripeFixtures.ts';

/** Stripe's documented webhook payloads become churnguard events that pass the event contract. */

const BY_ID: StripeCustomerLookup = { by: 'customer-id' };
const BY_METADATA: StripeCustomerLookup = { by: 'metadata', key: 'churnguard_id' };

const map = (fixture: Record<string, unknown>, lookup: StripeCustomerLookup = BY_ID): StripeMapping =>
  mapStripeEvent(StripeEvent.parse(fixture), lookup);

/** The mapped events, each validated by the contract (what ingest would store). */
function mapped(fixture: Record<string, unknown>, lookup: StripeCustomerLookup = BY_ID): ChurnEvent[] {
  const mapping = map(fixture, lookup);
  if (mapping.kind !== 'mapped') throw new Error(`expected events, got: ${mapping.reason}`);
  return mapping.events.map((e) => ChurnEvent.parse(e));
}

const item = (unitAmount: number | null, interval: 'day' | 'week' | 'month' | 'year', extra: Record<string, unknown> = {}) => ({
  price: {
    id: 'price_x',
    nickname: 'Team',
    unit_amount: unitAmount,
    recurring: { interval, interval_count: 1, usage_type: 'licensed' as const },
    ...extra,
  },
  quantity: 1,
});

describe('invoice events', () => {
  it('invoice.payment_failed → payment_failed with the amount due, the attempt and the announced retry', () => {
    const [event] = mapped(stripeFixture('invoice.payment_failed'));
    expect(event).toEqual({
      eventId: 'stripe:evt_1SVcPf2eZvKYlo2CdAxNl0QT',
      customerId: 'cus_TSblueFern01',
      type: 'payment_failed',
      occurredAt: '2026-06-01T09:30:00.000Z',
      properties: { amountCents: 4900, reason: 'other', nextRetryAt: '2026-06-03T09:30:00.000Z', measures: { attempt: 1 } },
    });
  });

  it('takes the decline reason from an expanded charge, else from the finalization error', () => {
    const withCharge = stripeFixture('invoice.payment_failed');
    Object.assign((withCharge.data as { object: object }).object, { charge: { id: 'ch_1', failure_code: 'insufficient_funds' } });
    expect(mapped(withCharge)[0]?.properties).toMatchObject({ reason: 'insufficient_funds' });
    const withError = stripeFixture('invoice.payment_failed');
    Object.assign((withError.data as { object: object }).object, {
      last_finalization_error: { type: 'card_error', code: 'card_declined', decline_code: 'stolen_card' },
    });
    expect(mapped(withError)[0]?.properties).toMatchObject({ reason: 'fraud_suspected' });
  });

  it('maps Stripe decline codes onto the contract’s reasons', () => {
    expect(
      ['expired_card', 'insufficient_funds', 'do_not_honor', 'fraudulent', 'try_again_later', 'something_new', null].map(declineReason),
    ).toEqual(['expired_card', 'insufficient_funds', 'card_declined', 'fraud_suspected', 'processing_error', 'other', 'other']);
  });

  it('the last failed attempt announces no retry: no nextRetryAt', () => {
    const last = stripeFixture('invoice.payment_failed');
    Object.assign((last.data as { object: object }).object, { next_payment_attempt: null, attempt_count: 4 });
    expect(mapped(last)[0]?.properties).toEqual({ amountCents: 4900, reason: 'other', measures: { attempt: 4 } });
  });

  it('invoice.paid → payment_succeeded with the amount paid and the currency; a zero invoice is no payment', () => {
    expect(mapped(stripeFixture('invoice.paid'))[0]).toMatchObject({
      type: 'payment_succeeded',
      customerId: 'cus_TSblueFern01',
      properties: { amountCents: 4900, currency: 'USD' },
    });
    const trial = stripeFixture('invoice.paid');
    Object.assign((trial.data as { object: object }).object, { amount_paid: 0, amount_due: 0 });
    expect(map(trial)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('paid nothing') });
  });
});

describe('card expiry', () => {
  it('customer.source.expiring → card_expiring on the last day of the expiry month', () => {
    expect(mapped(stripeFixture('customer.source.expiring'))[0]).toMatchObject({
      type: 'card_expiring',
      properties: { expiresOn: '2026-06-30' },
    });
  });

  it('reads a card Source’s nested expiry too', () => {
    const source = stripeFixture('customer.source.expiring');
    (source.data as { object: object }).object = {
      id: 'src_1',
      object: 'source',
      type: 'card',
      customer: 'cus_9',
      card: { exp_month: 2, exp_year: 2028 },
    };
    expect(mapped(source)[0]).toMatchObject({ customerId: 'cus_9', properties: { expiresOn: '2028-02-29' } });
  });
});

describe('subscription events, with plan and MRR', () => {
  it('created → subscription_started: 3 annual seats of 480.00 are 120.00 a month; the metered item adds nothing', () => {
    expect(mapped(stripeFixture('customer.subscription.created'))[0]).toMatchObject({
      type: 'subscription_started',
      properties: { plan: 'Pro annual per seat', mrrCents: 12_000 },
    });
  });

  it('an incomplete subscription starts when an update makes it active', () => {
    const created = stripeFixture('customer.subscription.created');
    Object.assign((created.data as { object: object }).object, { status: 'incomplete' });
    expect(map(created)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('incomplete') });
    const activated = stripeFixture('customer.subscription.created');
    activated.type = 'customer.subscription.updated';
    (activated.data as Record<string, unknown>).previous_attributes = { status: 'incomplete' };
    expect(mapped(activated)[0]).toMatchObject({ type: 'subscription_started', properties: { mrrCents: 12_000 } });
  });

  it('updated with other items → plan_changed from the previous plan, with the new MRR', () => {
    expect(mapped(stripeFixture('customer.subscription.updated'))[0]).toMatchObject({
      type: 'plan_changed',
      properties: { fromPlan: 'Pro annual per seat', toPlan: 'Basic', mrrCents: 3_800 },
    });
  });

  it('updated to cancel at the period end → a custom event; an update that changes no price is ignored', () => {
    const scheduled = stripeFixture('customer.subscription.updated');
    Object.assign((scheduled.data as { object: object }).object, { cancel_at_period_end: true });
    (scheduled.data as Record<string, unknown>).previous_attributes = { cancel_at_period_end: false };
    expect(mapped(scheduled)).toMatchObject([
      {
        eventId: 'stripe:evt_1SVf9c2eZvKYlo2CkQ3ovT8m:cancel-scheduled',
        type: 'custom',
        properties: { name: 'stripe_cancellation_scheduled' },
      },
    ]);
    const metadataOnly = stripeFixture('customer.subscription.updated');
    (metadataOnly.data as Record<string, unknown>).previous_attributes = { metadata: {} };
    expect(map(metadataOnly).kind).toBe('ignored');
  });

  it('deleted → subscription_cancelled with Stripe’s cancellation reason', () => {
    expect(mapped(stripeFixture('customer.subscription.deleted'))[0]).toMatchObject({
      type: 'subscription_cancelled',
      occurredAt: '2026-07-01T08:00:00.000Z',
      properties: { reason: 'payment_failed' },
    });
  });

  it('normalises every billing interval to a month, and applies a percentage coupon', () => {
    expect(pricedItem(item(1_200, 'year'))?.monthlyCents).toBe(100);
    expect(pricedItem(item(100, 'week'))?.monthlyCents).toBeCloseTo((100 * 52) / 12);
    expect(pricedItem(item(10, 'day'))?.monthlyCents).toBeCloseTo((10 * 365) / 12);
    expect(
      pricedItem({
        ...item(3_000, 'month'),
        price: { ...item(3_000, 'month').price, recurring: { interval: 'month', interval_count: 3, usage_type: 'licensed' } },
      })?.monthlyCents,
    ).toBe(1_000);
    expect(subscriptionValue([item(5_000, 'month')], { discount: { coupon: { percent_off: 20 } } })).toEqual({
      ok: true,
      plan: 'Team',
      mrrCents: 4_000,
    });
    expect(
      subscriptionValue([
        { plan: { id: 'gold', amount: 2_000, interval: 'month', interval_count: 1, usage_type: 'licensed' }, quantity: 2 },
      ]),
    ).toEqual({
      ok: true,
      plan: 'gold',
      mrrCents: 4_000,
    });
  });

  it('has no MRR for tiered or metered prices only, and says so', () => {
    expect(subscriptionValue([item(null, 'month')])).toMatchObject({ ok: false, reason: expect.stringContaining('metered or tiered') });
  });

  it('makes free-text nicknames valid contract names', () => {
    expect(contractName('Pro (annual) — €')).toBe('Pro annual');
    expect(contractName('x'.repeat(200))).toHaveLength(128);
  });
});

describe('finding the churnguard customer', () => {
  it('by a metadata key: on the invoice’s subscription details, or on the subscription', () => {
    expect(mapped(stripeFixture('invoice.payment_failed'), BY_METADATA)[0]?.customerId).toBe('blue-fern');
    expect(mapped(stripeFixture('customer.subscription.deleted'), BY_METADATA)[0]?.customerId).toBe('blue-fern');
  });

  it('by a metadata key on an expanded customer before anything else', () => {
    const expanded = stripeFixture('invoice.paid');
    Object.assign((expanded.data as { object: object }).object, {
      customer: { id: 'cus_TSblueFern01', metadata: { churnguard_id: 'acme-corp' } },
    });
    expect(mapped(expanded, BY_METADATA)[0]?.customerId).toBe('acme-corp');
  });

  it('ignores, naming the key, an event whose objects lack it', () => {
    expect(map(stripeFixture('customer.source.expiring'), BY_METADATA)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('no metadata "churnguard_id"'),
    });
  });
});

describe('events churnguard does not read', () => {
  it('are ignored with a reason that lists the types it does read', () => {
    const other = { ...stripeFixture('invoice.paid'), type: 'charge.refunded' };
    expect(map(other)).toEqual({
      kind: 'ignored',
      reason: expect.stringMatching(/charge\.refunded is not one churnguard reads .*invoice\.payment_failed/),
    });
  });

  it('a known type whose object is not as documented is ignored with the field', () => {
    const broken = stripeFixture('invoice.payment_failed');
    Object.assign((broken.data as { object: object }).object, { amount_due: 'lots' });
    expect(map(broken)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('data.object.amount_due') });
  });
});
