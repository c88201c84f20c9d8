import { z } from 'zod';

/**
 * The parts of Stripe's webhook payloads churnguard reads (https://docs.stripe.com/api/events/object),
 * as zod schemas. They are loose on purpose: Stripe adds fields in every API version, and only the
 * fields below matter. Both the current shapes (API 2025-03-31 "basil" and later: the subscription of
 * an invoice under `parent.subscription_details`) and the older ones (`subscription_details` at the
 * top level, `plan` on subscription items) are read.
 */

const Metadata = z.record(z.string(), z.string()).nullish();

/** `customer` is an id, or the customer object when the endpoint expands it. */
const CustomerRef = z.union([z.string(), z.looseObject({ id: z.string(), metadata: Metadata })]).nullish();

/** The envelope of every webhook event. */
export const StripeEvent = z.looseObject({
  id: z.string().min(1),
  object: z.literal('event'),
  type: z.string().min(1),
  /** Unix seconds. */
  created: z.number().int().positive(),
  livemode: z.boolean().optional(),
  data: z.looseObject({
    object: z.looseObject({ object: z.string().optional() }),
    /** On `*.updated` events: the previous values of the fields that changed. */
    previous_attributes: z.looseObject({}).optional(),
  }),
});
export type StripeEvent = z.output<typeof StripeEvent>;

/** A Stripe error as `last_finalization_error` or a charge's outcome carries it. */
const StripeError = z.looseObject({ code: z.string().nullish(), decline_code: z.string().nullish(), type: z.string().nullish() }).nullish();

/** https://docs.stripe.com/api/invoices/object */
export const StripeInvoice = z.looseObject({
  id: z.string(),
  object: z.literal('invoice'),
  customer: CustomerRef,
  currency: z.string().min(3),
  amount_due: z.number().int().nonnegative(),
  amount_paid: z.number().int().nonnegative(),
  /** How many payment attempts were made; Stripe's Smart Retries raise it on each retry. */
  attempt_count: z.number().int().nonnegative().default(0),
  /** Unix seconds of the next automatic retry; null when none is scheduled (the last attempt failed). */
  next_payment_attempt: z.number().int().nullish(),
  last_finalization_error: StripeError,
  /** Only when the endpoint expands it (API versions before 2025-03-31 had it on the invoice). */
  charge: z
    .union([
      z.string(),
      z.looseObject({ failure_code: z.string().nullish(), outcome: z.looseObject({ reason: z.string().nullish() }).nullish() }),
    ])
    .nullish(),
  metadata: Metadata,
  parent: z.looseObject({ subscription_details: z.looseObject({ metadata: Metadata }).nullish() }).nullish(),
  subscription_details: z.looseObject({ metadata: Metadata }).nullish(),
  lines: z.looseObject({ data: z.array(z.looseObject({ metadata: Metadata })) }).nullish(),
});
export type StripeInvoice = z.output<typeof StripeInvoice>;

const Recurring = z.looseObject({
  interval: z.enum(['day', 'week', 'month', 'year']),
  interval_count: z.number().int().positive().default(1),
  usage_type: z.enum(['licensed', 'metered']).default('licensed'),
});

/** https://docs.stripe.com/api/prices/object */
export const StripePrice = z.looseObject({
  id: z.string(),
  nickname: z.string().nullish(),
  lookup_key: z.string().nullish(),
  product: z.union([z.string(), z.looseObject({ name: z.string().nullish() })]).nullish(),
  unit_amount: z.number().nullish(),
  unit_amount_decimal: z.string().nullish(),
  recurring: Recurring.nullish(),
});

/** Legacy `plan` of a subscription item (API versions that predate prices still send it). */
const StripePlan = z.looseObject({
  id: z.string(),
  nickname: z.string().nullish(),
  product: z.union([z.string(), z.looseObject({ name: z.string().nullish() })]).nullish(),
  amount: z.number().nullish(),
  amount_decimal: z.string().nullish(),
  interval: z.enum(['day', 'week', 'month', 'year']),
  interval_count: z.number().int().positive().default(1),
  usage_type: z.enum(['licensed', 'metered']).default('licensed'),
});

export const StripeSubscriptionItem = z.looseObject({
  price: StripePrice.nullish(),
  plan: StripePlan.nullish(),
  quantity: z.number().int().nonnegative().nullish(),
});
export type StripeSubscriptionItem = z.output<typeof StripeSubscriptionItem>;

const Coupon = z.looseObject({ percent_off: z.number().nullish() });
const Discount = z.looseObject({ coupon: Coupon.nullish() });

/** https://docs.stripe.com/api/subscriptions/object */
export const StripeSubscription = z.looseObject({
  id: z.string(),
  object: z.literal('subscription'),
  customer: CustomerRef,
  status: z.string(),
  items: z.looseObject({ data: z.array(StripeSubscriptionItem) }),
  cancel_at_period_end: z.boolean().nullish(),
  cancellation_details: z.looseObject({ reason: z.string().nullish() }).nullish(),
  /** Legacy single discount; `discounts` holds ids unless expanded. */
  discount: Discount.nullish(),
  discounts: z.array(z.union([z.string(), Discount])).nullish(),
  metadata: Metadata,
});
export type StripeSubscription = z.output<typeof StripeSubscription>;

/** The previous values a `customer.subscription.updated` event names. */
export const SubscriptionChanges = z.looseObject({
  status: z.string().optional(),
  items: z.looseObject({ data: z.array(StripeSubscriptionItem) }).optional(),
  cancel_at_period_end: z.boolean().nullish(),
});

/** `customer.source.expiring`: a Card (https://docs.stripe.com/api/cards/object) or a card Source. */
export const StripeExpiringSource = z.looseObject({
  id: z.string(),
  object: z.enum(['card', 'source']),
  customer: CustomerRef,
  exp_month: z.number().int().min(1).max(12).optional(),
  exp_year: z.number().int().optional(),
  card: z.looseObject({ exp_month: z.number().int().min(1).max(12), exp_year: z.number().int() }).nullish(),
  metadata: Metadata,
});
export type StripeExpiringSource = z.output<typeof StripeExpiringSource>;
