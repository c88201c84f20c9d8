import type { StripeEvent } from './stripePayloads.ts';

/**
 * How a Stripe customer becomes a churnguard customer id: the Stripe customer id itself
 * (`cus_…`), or the value of a metadata key the user names (e.g. `churnguard_id`, set on the
 * Stripe customer or subscription to the id their other events use).
 */
export type StripeCustomerLookup = { by: 'customer-id' } | { by: 'metadata'; key: string };

type Metadata = Record<string, string> | null | undefined;

/** The fields of a Stripe object where its customer can be found. */
export interface CustomerBearer {
  customer?: string | { id: string; metadata?: Metadata } | null | undefined;
  metadata?: Metadata;
  /** Invoices: the subscription's metadata, copied by Stripe (API 2025-03-31 and later). */
  parent?: { subscription_details?: { metadata?: Metadata } | null | undefined } | null | undefined;
  /** Invoices, older API versions. */
  subscription_details?: { metadata?: Metadata } | null | undefined;
  /** Invoices: line items carry their subscription's metadata. */
  lines?: { data: Array<{ metadata?: Metadata }> } | null | undefined;
}

export type CustomerResolution = { ok: true; id: string } | { ok: false; reason: string };

/**
 * The churnguard id of the customer a Stripe object belongs to. With a metadata key, the places
 * searched, in order: the expanded customer's metadata, the object's own, an invoice's subscription
 * details, its line items. Stripe copies a subscription's metadata onto its invoices there, so
 * setting the key on the subscription (or on the customer, with `customer` expanded) is enough.
 */
export function stripeCustomerId(
  object: CustomerBearer,
  lookup: StripeCustomerLookup,
  event: Pick<StripeEvent, 'id' | 'type'>,
): CustomerResolution {
  const stripeId = typeof object.customer === 'string' ? object.customer : object.customer?.id;
  if (lookup.by === 'customer-id') {
    return stripeId ? { ok: true, id: stripeId } : { ok: false, reason: `${event.type} ${event.id} names no customer` };
  }
  const candidates: Metadata[] = [
    typeof object.customer === 'object' ? object.customer?.metadata : undefined,
    object.metadata,
    object.parent?.subscription_details?.metadata,
    object.subscription_details?.metadata,
    ...(object.lines?.data ?? []).map((line) => line.metadata),
  ];
  for (const metadata of candidates) {
    const value = metadata?.[lookup.key]?.trim();
    if (value) return { ok: true, id: value };
  }
  return {
    ok: false,
    reason: `${event.type} ${event.id}: no metadata "${lookup.key}" on the ${stripeId ? `customer ${stripeId}'s ` : ''}object, its subscription or its lines; set it on the Stripe subscription (or customer) to the churnguard customer id`,
  };
}
