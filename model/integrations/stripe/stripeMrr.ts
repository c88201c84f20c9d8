import { EVENT_LIMITS } from '../../events/limits.ts';
import type { StripeSubscription, StripeSubscriptionItem } from './stripePayloads.ts';

/** Billing periods per month, by Stripe's recurring interval: MRR is what a period costs × this. */
const PER_MONTH = { day: 365 / 12, week: 52 / 12, month: 1, year: 1 / 12 } as const;

/** One licensed (fixed-price) item of a subscription, priced per month. */
export interface PricedItem {
  plan: string;
  /** The item's amount per month in the currency's minor unit (cents), before discounts. */
  monthlyCents: number;
}

/** A subscription's plan and MRR, or why the MRR cannot be known from the payload. */
export type SubscriptionValue = { ok: true; plan: string; mrrCents: number } | { ok: false; reason: string };

/**
 * A name as the event contract allows it (letters, digits, space and `. _ : - /`, 1–128
 * characters): other characters become spaces, runs of spaces one. Stripe nicknames are free text ("Pro (annual)").
 */
export function contractName(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._:\-/ ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, EVENT_LIMITS.maxNameLength)
    .trim();
}

const productName = (product: string | { name?: string | null | undefined } | null | undefined): string | undefined =>
  typeof product === 'string' ? product : (product?.name ?? undefined);

/**
 * The monthly price of one subscription item: unit amount × quantity, normalised from its billing
 * interval (a yearly price of 12,000 is 1,000 a month; a 3-month one of 3,000 also). Metered items
 * (billed on usage) and tiered prices (no unit amount) have no fixed monthly price: undefined.
 */
export function pricedItem(item: StripeSubscriptionItem): PricedItem | undefined {
  const price = item.price;
  const plan = item.plan;
  const recurring =
    price?.recurring ?? (plan ? { interval: plan.interval, interval_count: plan.interval_count, usage_type: plan.usage_type } : undefined);
  if (!recurring || recurring.usage_type === 'metered') return undefined;
  const unit = price ? (price.unit_amount ?? decimal(price.unit_amount_decimal)) : (plan?.amount ?? decimal(plan?.amount_decimal));
  if (unit === undefined || unit === null) return undefined;
  const quantity = item.quantity ?? 1;
  const name =
    contractName(price?.nickname ?? price?.lookup_key ?? plan?.nickname ?? productName(price?.product ?? plan?.product) ?? '') ||
    contractName(price?.id ?? plan?.id ?? 'stripe-plan');
  return { plan: name, monthlyCents: (unit * quantity * PER_MONTH[recurring.interval]) / recurring.interval_count };
}

const decimal = (text: string | null | undefined): number | undefined => {
  if (text === null || text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
};

/** The percentage a subscription's discount takes off (only percentage coupons the payload carries). */
function percentOff(subscription: Pick<StripeSubscription, 'discount' | 'discounts'>): number {
  const coupons = [subscription.discount, ...(subscription.discounts ?? [])].flatMap((d) =>
    d && typeof d === 'object' && d.coupon ? [d.coupon] : [],
  );
  const off = coupons.reduce((total, coupon) => total + (coupon.percent_off ?? 0), 0);
  return Math.min(100, Math.max(0, off));
}

/**
 * Plan and MRR of a subscription's items: the plan names of its fixed-price items joined by " / ",
 * and the sum of their monthly prices less any percentage discount, in whole cents. Amount-off
 * coupons and taxes are left out (the payload does not say how long an amount-off coupon lasts).
 */
export function subscriptionValue(
  items: readonly StripeSubscriptionItem[],
  discount: Pick<StripeSubscription, 'discount' | 'discounts'> = {},
): SubscriptionValue {
  const priced = items.map(pricedItem).filter((p): p is PricedItem => p !== undefined);
  if (priced.length === 0) return { ok: false, reason: 'no fixed-price item: MRR cannot be computed from metered or tiered prices' };
  const monthly = priced.reduce((sum, p) => sum + p.monthlyCents, 0) * (1 - percentOff(discount) / 100);
  const plan = contractName(priced.map((p) => p.plan).join(' / '));
  return { ok: true, plan, mrrCents: Math.round(monthly) };
}
