import type { z } from 'zod';
import type { ChurnEventInput, PaymentFailureReason } from '../../events/schemas.ts';
import { type StripeCustomerLookup, stripeCustomerId } from './stripeCustomer.ts';
import { subscriptionValue } from './stripeMrr.ts';
import { type StripeEvent, StripeExpiringSource, StripeInvoice, StripeSubscription, SubscriptionChanges } from './stripePayloads.ts';

/**
 * What a Stripe event becomes: churnguard events to store, or nothing, with the reason (an event
 * type churnguard does not read, a subscription update that changed no price, a customer that
 * cannot be identified). Stripe retries anything but a 2xx, so an ignored event is answered 200.
 */
export type StripeMapping = { kind: 'mapped'; events: ChurnEventInput[] } | { kind: 'ignored'; reason: string };

/** The Stripe event types churnguard maps (configure the Stripe endpoint to send these). */
export const STRIPE_EVENT_TYPES = [
  'invoice.payment_failed',
  'invoice.paid',
  'customer.source.expiring',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
] as const;

/** Subscription statuses in which the customer has started (a trial counts); `incomplete` waits for the first payment. */
const STARTED = new Set(['active', 'trialing', 'past_due']);

/** Churnguard's decline reason for a Stripe failure or decline code (https://docs.stripe.com/declines/codes). */
export function declineReason(code: string | null | undefined): PaymentFailureReason {
  switch (code) {
    case 'expired_card':
      return 'expired_card';
    case 'insufficient_funds':
    case 'card_velocity_exceeded':
    case 'withdrawal_count_limit_exceeded':
      return 'insufficient_funds';
    case 'processing_error':
    case 'issuer_not_available':
    case 'try_again_later':
    case 'reenter_transaction':
      return 'processing_error';
    case 'fraudulent':
    case 'stolen_card':
    case 'lost_card':
    case 'pickup_card':
    case 'merchant_blacklist':
    case 'security_violation':
      return 'fraud_suspected';
    case 'card_declined':
    case 'generic_decline':
    case 'do_not_honor':
    case 'incorrect_cvc':
    case 'incorrect_number':
    case 'invalid_account':
    case 'card_not_supported':
    case 'transaction_not_allowed':
      return 'card_declined';
    default:
      return 'other';
  }
}

const iso = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();

/** Parses the event's object with `schema`, or says which field of which event type is not as documented. */
function objectOf<S extends z.ZodType>(event: StripeEvent, schema: S): z.output<S> | { problem: string } {
  const parsed = schema.safeParse(event.data.object);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return {
    problem: `${event.type} ${event.id}: data.object.${issue?.path.join('.') || '(object)'}: ${issue?.message ?? 'not as documented'}`,
  };
}

const isProblem = (value: unknown): value is { problem: string } => typeof value === 'object' && value !== null && 'problem' in value;

/**
 * Maps one verified Stripe event to churnguard events. Each event id derives from the Stripe
 * event id (`stripe:evt_…`) and its time from the event's `created`, so a redelivered event
 * overwrites itself in the store: Stripe's at-least-once delivery stores it once.
 *
 * @example mapStripeEvent(event, { by: 'customer-id' }) // { kind: 'mapped', events: [{ type: 'payment_failed', … }] }
 */
export function mapStripeEvent(event: StripeEvent, lookup: StripeCustomerLookup): StripeMapping {
  const envelope = (customerId: string, suffix = '') => ({
    eventId: `stripe:${event.id}${suffix}`,
    customerId,
    occurredAt: iso(event.created),
  });
  switch (event.type) {
    case 'invoice.payment_failed':
    case 'invoice.paid': {
      const invoice = objectOf(event, StripeInvoice);
      if (isProblem(invoice)) return { kind: 'ignored', reason: invoice.problem };
      const customer = stripeCustomerId(invoice, lookup, event);
      if (!customer.ok) return { kind: 'ignored', reason: customer.reason };
      if (event.type === 'invoice.paid') {
        if (invoice.amount_paid === 0)
          return { kind: 'ignored', reason: `${event.id}: invoice ${invoice.id} paid nothing (a trial or a credit): not a payment` };
        return {
          kind: 'mapped',
          events: [
            {
              ...envelope(customer.id),
              type: 'payment_succeeded',
              properties: { amountCents: invoice.amount_paid, currency: invoice.currency.toUpperCase() },
            },
          ],
        };
      }
      const charge = typeof invoice.charge === 'object' && invoice.charge !== null ? invoice.charge : undefined;
      const code =
        charge?.failure_code ??
        charge?.outcome?.reason ??
        invoice.last_finalization_error?.decline_code ??
        invoice.last_finalization_error?.code;
      return {
        kind: 'mapped',
        events: [
          {
            ...envelope(customer.id),
            type: 'payment_failed',
            properties: {
              amountCents: invoice.amount_due,
              reason: declineReason(code),
              ...(invoice.next_payment_attempt ? { nextRetryAt: iso(invoice.next_payment_attempt) } : {}),
              ...(invoice.attempt_count > 0 ? { measures: { attempt: invoice.attempt_count } } : {}),
            },
          },
        ],
      };
    }
    case 'customer.source.expiring': {
      const source = objectOf(event, StripeExpiringSource);
      if (isProblem(source)) return { kind: 'ignored', reason: source.problem };
      const customer = stripeCustomerId(source, lookup, event);
      if (!customer.ok) return { kind: 'ignored', reason: customer.reason };
      const month = source.exp_month ?? source.card?.exp_month;
      const year = source.exp_year ?? source.card?.exp_year;
      if (month === undefined || year === undefined)
        return { kind: 'ignored', reason: `${event.id}: the expiring ${source.object} ${source.id} names no expiry month and year` };
      // A card is valid through the last day of its expiry month.
      const expiresOn = new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
      return { kind: 'mapped', events: [{ ...envelope(customer.id), type: 'card_expiring', properties: { expiresOn } }] };
    }
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      return mapSubscriptionEvent(event, lookup, envelope);
    default:
      return {
        kind: 'ignored',
        reason: `event type ${event.type} is not one churnguard reads (it reads ${STRIPE_EVENT_TYPES.join(', ')})`,
      };
  }
}

function mapSubscriptionEvent(
  event: StripeEvent,
  lookup: StripeCustomerLookup,
  envelope: (customerId: string, suffix?: string) => { eventId: string; customerId: string; occurredAt: string },
): StripeMapping {
  const subscription = objectOf(event, StripeSubscription);
  if (isProblem(subscription)) return { kind: 'ignored', reason: subscription.problem };
  const customer = stripeCustomerId(subscription, lookup, event);
  if (!customer.ok) return { kind: 'ignored', reason: customer.reason };
  const base = envelope(customer.id);
  if (event.type === 'customer.subscription.deleted') {
    const reason = subscription.cancellation_details?.reason;
    return { kind: 'mapped', events: [{ ...base, type: 'subscription_cancelled', properties: reason ? { reason } : {} }] };
  }
  const value = subscriptionValue(subscription.items.data, subscription);
  const changes = SubscriptionChanges.safeParse(event.data.previous_attributes ?? {});
  const previous = changes.success ? changes.data : {};
  const starts = STARTED.has(subscription.status) && (event.type === 'customer.subscription.created' || previous.status === 'incomplete');
  if (event.type === 'customer.subscription.created' && !starts)
    return {
      kind: 'ignored',
      reason: `${event.id}: subscription ${subscription.id} is ${subscription.status}; it starts when an update makes it active`,
    };
  if (starts) {
    if (!value.ok) return { kind: 'ignored', reason: `${event.id}: subscription ${subscription.id}: ${value.reason}` };
    return {
      kind: 'mapped',
      events: [{ ...base, type: 'subscription_started', properties: { plan: value.plan, mrrCents: value.mrrCents } }],
    };
  }
  const events: ChurnEventInput[] = [];
  if (previous.items !== undefined && value.ok) {
    const before = subscriptionValue(previous.items.data, subscription);
    const fromPlan = before.ok ? before.plan : value.plan;
    if (!before.ok || before.mrrCents !== value.mrrCents || before.plan !== value.plan)
      events.push({ ...base, type: 'plan_changed', properties: { fromPlan, toPlan: value.plan, mrrCents: value.mrrCents } });
  }
  if (previous.cancel_at_period_end === false && subscription.cancel_at_period_end === true)
    events.push({ ...envelope(customer.id, ':cancel-scheduled'), type: 'custom', properties: { name: 'stripe_cancellation_scheduled' } });
  if (events.length === 0)
    return {
      kind: 'ignored',
      reason: `${event.id}: no price, quantity or plan change and no cancellation scheduled on subscription ${subscription.id}`,
    };
  return { kind: 'mapped', events };
}
