/**
 * The simulated business: plans, features, customer attributes and the rates that drive churn.
 * Kept as data so the numbers that shape the business are in one readable place.
 */

export const PLANS = {
  starter: { mrrCents: 2900, features: ['dashboard', 'reports', 'alerts', 'export_csv'] },
  pro: { mrrCents: 9900, features: ['dashboard', 'reports', 'alerts', 'export_csv', 'api', 'integrations', 'automation'] },
  business: {
    mrrCents: 29900,
    features: ['dashboard', 'reports', 'alerts', 'export_csv', 'api', 'integrations', 'automation', 'sso', 'audit_log', 'custom_roles'],
  },
} as const;
export type PlanName = keyof typeof PLANS;

/** One step down (voluntary churn often starts with a downgrade) and one step up. */
export const DOWNGRADE: Record<PlanName, PlanName | null> = { starter: null, pro: 'starter', business: 'pro' };
export const UPGRADE: Record<PlanName, PlanName | null> = { starter: 'pro', pro: 'business', business: null };

export const PLAN_MIX: Record<PlanName, number> = { starter: 0.55, pro: 0.33, business: 0.12 };

export const COMPANY_SIZES = {
  '1-10': { usage: 0.8, churn: 1.3 },
  '11-50': { usage: 1.0, churn: 1.0 },
  '51-200': { usage: 1.25, churn: 0.8 },
  '201+': { usage: 1.5, churn: 0.6 },
} as const;
export type CompanySize = keyof typeof COMPANY_SIZES;

/** Company size mix by plan: bigger companies buy bigger plans. */
export const SIZE_MIX: Record<PlanName, Record<CompanySize, number>> = {
  starter: { '1-10': 0.6, '11-50': 0.3, '51-200': 0.08, '201+': 0.02 },
  pro: { '1-10': 0.25, '11-50': 0.45, '51-200': 0.22, '201+': 0.08 },
  business: { '1-10': 0.05, '11-50': 0.25, '51-200': 0.4, '201+': 0.3 },
};

/** Acquisition channels and their churn multipliers: paid clicks leave sooner than referrals. */
export const CHANNELS = { organic: 1.0, paid_search: 1.35, referral: 0.7, partner: 0.8, outbound: 1.1 } as const;
export type Channel = keyof typeof CHANNELS;
export const CHANNEL_MIX: Record<Channel, number> = { organic: 0.35, paid_search: 0.25, referral: 0.15, partner: 0.1, outbound: 0.15 };

export const COUNTRIES = ['US', 'US', 'US', 'GB', 'GB', 'DE', 'FR', 'CA', 'AU', 'NL', 'BR', 'IN', 'ES', 'SE'] as const;
export const INDUSTRIES = ['software', 'ecommerce', 'agency', 'education', 'healthcare', 'finance', 'manufacturing', 'nonprofit'] as const;

export const PLAN_CHURN: Record<PlanName, number> = { starter: 1.2, pro: 1.0, business: 0.7 };

/** Why customers leave, as a retention team sees it. */
export type ChurnCause = 'involuntary' | 'passive' | 'voluntary' | 'support';

export const RATES = {
  /** Daily probability that a churn process starts, before loyalty, plan, size and channel. */
  churnTriggerPerDay: 0.0021,
  /**
   * Share of churn processes that show the signals but recover (noise a model must live with), for
   * a customer of typical engagement; engaged and long-standing customers recover more often.
   */
  falseAlarmShare: 0.33,
  /**
   * Share of real churn that comes without warning: a cancel within days. For passive churn it
   * is an abrupt stop in usage instead (no decay), still followed by the quiet weeks.
   */
  suddenShare: 0.08,
  causeMix: { involuntary: 0.3, passive: 0.3, voluntary: 0.25, support: 0.15 } as Record<ChurnCause, number>,
  /** Mean sessions per day of a typical customer (log-normal across customers). */
  sessionsPerDay: 0.85,
  featureUsesPerSession: 0.7,
  weekendUsage: 0.3,
  billingCycleDays: 30,
  randomPaymentFailure: 0.03,
  randomCardExpiring: 0.012,
  ticketsPerDay: 0.003,
  surveysPerDay: 0.004,
  upgradesPerDay: 0.0006,
  /** Share of the customers that already subscribe when the window starts. */
  existingShare: 0.65,
  /** Longest tenure of an existing customer at the window start, in days. */
  maxPriorTenureDays: 1000,
} as const;

/**
 * Chance that a churn process is a false alarm. Engaged customers ride out a failed payment, a bad
 * ticket or a price rise far more often than disengaged ones, and long tenure adds tolerance: the
 * same signal means different risks for different customers (an interaction, not a sum).
 */
export const falseAlarmChance = (engagement: number, tenureDays: number): number =>
  Math.min(0.85, Math.max(0.03, RATES.falseAlarmShare * (0.15 + 0.85 * engagement * engagement) + (tenureDays > 365 ? 0.12 : 0)));

/** Loyalty: churn hazard falls with tenure, from 1.85× in the first weeks towards 0.45×. */
export const loyaltyFactor = (tenureDays: number): number => 0.45 + 1.4 * Math.exp(-tenureDays / 150);

/**
 * Whole days without any use between a passive churner's last session and their cancellation.
 * Sessions end by 21:00 and cancels come after 09:00, so the minimum of 14 days of silence after
 * the last day of use leaves more than 14 × 24 h between them: every simulated passive churner
 * passes the analytics' default passive rule (≥ 14 days without use before the cancel).
 */
export const PASSIVE_QUIET_DAYS = { min: 14, max: 28 } as const;
