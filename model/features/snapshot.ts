import type { ChurnEvent } from '../events/schemas.ts';
import { addToStreams, type StreamAggregate } from './streams.ts';
import { DAY_MS, HOUR_MS } from './time.ts';

/** A profile attribute value as `customer_profile` carries it. */
export type ProfileValue = string | number | boolean | null;

/** Events that show a customer is still around; the `inactive:N` churn definition uses the same set. */
export const ACTIVITY_TYPES: ReadonlySet<ChurnEvent['type']> = new Set(['session_started', 'feature_used', 'custom', 'payment_succeeded']);

/**
 * Everything the feature definitions need about one customer at one cutoff, aggregated in a single
 * pass over the events strictly before the cutoff. Times are epoch ms, NaN when there is none.
 */
export interface CustomerSnapshot {
  cutoffMs: number;
  firstEventMs: number;
  /** First `subscription_started`, NaN when the history has none. */
  subscriptionStartMs: number;
  lastActivityMs: number;
  lastSessionMs: number;
  sessions7d: number;
  sessions30d: number;
  activeDays30d: number;
  /** Activity events in [T−21d, T) and in [T−42d, T−21d). */
  activityLast3w: number;
  activityPrevious3w: number;
  distinctFeatures30d: number;
  featureUses30d: number;
  failedPayments14d: number;
  failedPayments90d: number;
  /** Failed payments since the last successful one. */
  failuresSinceSuccess: number;
  /**
   * Until when the payment processor's own dunning runs: the `nextRetryAt` of the latest failed
   * payment, NaN when it named none or a successful payment or a cancellation came after it. Not a
   * feature: the outreach selection reads it (model/outreach/dunning.ts).
   */
  nextPaymentRetryMs: number;
  /** The latest failed payment since the last successful one, NaN when there is none. */
  lastFailureMs: number;
  paidCents90d: number;
  /** Expiry date of the card from the latest notice, unless a later successful payment shows it was replaced. */
  cardExpiresMs: number;
  tickets30d: number;
  tickets90d: number;
  openTickets: number;
  /** Sum and count of resolution times of tickets resolved in the last 90 days. */
  resolutionHoursSum90d: number;
  resolved90d: number;
  lastSurveyScore: number;
  lastSurveyMs: number;
  downgrades90d: number;
  /** MRR from subscription events, latest value, and as it stood 90 days before the cutoff. */
  eventMrrCents: number;
  eventMrrCents90dAgo: number;
  /** MRR from a profile attribute (see `profileMrrCents`), latest and 90 days before. */
  profileMrrCents: number;
  profileMrrCents90dAgo: number;
  /** Latest value of every profile attribute (null: explicitly cleared). */
  profile: Map<string, ProfileValue>;
  /** Sum of quantities per custom event name in the last 30 days. */
  custom30d: Map<string, number>;
  /** Every event stream (type, or custom event name) aggregated alike: what the generated features read. */
  streams: Map<string, StreamAggregate>;
}

/** Profile attributes that hold MRR, by normalised name (lower case, letters and digits only) → cents per unit. */
const PROFILE_MRR_ATTRIBUTES = new Map<string, number>([
  ['mrrcents', 1],
  ['mrr', 100],
  ['monthlycharges', 100],
  ['monthlycharge', 100],
  ['monthlyrevenue', 100],
  ['monthlyfee', 100],
  ['monthlyprice', 100],
]);

/**
 * MRR in cents from one profile attribute, or undefined when the attribute is not an MRR.
 * Rule: a numeric attribute named `mrrCents` (cents), or `mrr`, `MonthlyCharges`, `monthly_charge`,
 * `monthlyRevenue`, `monthlyFee`, `monthlyPrice` (currency units, × 100), names compared without
 * case, spaces, `_` or `-`.
 */
export function profileMrrCents(attribute: string, value: ProfileValue): number | undefined {
  const factor = PROFILE_MRR_ATTRIBUTES.get(attribute.toLowerCase().replace(/[^a-z0-9]/g, ''));
  if (factor === undefined || typeof value !== 'number') return undefined;
  return Math.round(value * factor);
}

/** Epoch ms of each event, parsed once per history (Date.parse is the hot path otherwise). */
export function eventTimes(events: readonly ChurnEvent[]): Float64Array {
  const times = new Float64Array(events.length);
  for (let i = 0; i < events.length; i++) times[i] = Date.parse((events[i] as ChurnEvent).occurredAt);
  return times;
}

/** The index of the first event at or after `cutoffMs` (times sorted): features use events[0, end). */
export function cutoffIndex(times: Float64Array, cutoffMs: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) < cutoffMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Aggregates `events[0, end)` (with their `times`) (all strictly before `cutoffMs`, sorted) into a snapshot. Pure and
 * leak-free by construction: nothing at or after the cutoff is read.
 */
export function computeSnapshot(events: readonly ChurnEvent[], times: Float64Array, end: number, cutoffMs: number): CustomerSnapshot {
  const since = (days: number) => cutoffMs - days * DAY_MS;
  const from7 = since(7);
  const from14 = since(14);
  const from21 = since(21);
  const from30 = since(30);
  const from42 = since(42);
  const from90 = since(90);
  const s: CustomerSnapshot = {
    cutoffMs,
    firstEventMs: Number.NaN,
    subscriptionStartMs: Number.NaN,
    lastActivityMs: Number.NaN,
    lastSessionMs: Number.NaN,
    sessions7d: 0,
    sessions30d: 0,
    activeDays30d: 0,
    activityLast3w: 0,
    activityPrevious3w: 0,
    distinctFeatures30d: 0,
    featureUses30d: 0,
    failedPayments14d: 0,
    failedPayments90d: 0,
    failuresSinceSuccess: 0,
    nextPaymentRetryMs: Number.NaN,
    lastFailureMs: Number.NaN,
    paidCents90d: 0,
    cardExpiresMs: Number.NaN,
    tickets30d: 0,
    tickets90d: 0,
    openTickets: 0,
    resolutionHoursSum90d: 0,
    resolved90d: 0,
    lastSurveyScore: Number.NaN,
    lastSurveyMs: Number.NaN,
    downgrades90d: 0,
    eventMrrCents: Number.NaN,
    eventMrrCents90dAgo: Number.NaN,
    profileMrrCents: Number.NaN,
    profileMrrCents90dAgo: Number.NaN,
    profile: new Map(),
    custom30d: new Map(),
    streams: new Map(),
  };
  const activeDays = new Set<number>();
  const features = new Set<string>();
  const openTickets = new Map<string, number>();
  let lastSuccessMs = Number.NaN;
  let cardNoticeMs = Number.NaN;
  let reached90 = false;
  const mark90 = () => {
    reached90 = true;
    s.eventMrrCents90dAgo = s.eventMrrCents;
    s.profileMrrCents90dAgo = s.profileMrrCents;
  };
  for (let i = 0; i < end; i++) {
    const event = events[i] as ChurnEvent;
    const t = times[i] as number;
    if (!reached90 && t >= from90) mark90();
    if (i === 0) s.firstEventMs = t;
    addToStreams(s.streams, event, t, cutoffMs);
    if (ACTIVITY_TYPES.has(event.type)) {
      s.lastActivityMs = t;
      if (t >= from30) activeDays.add(Math.floor(t / DAY_MS));
      if (t >= from21) s.activityLast3w++;
      else if (t >= from42) s.activityPrevious3w++;
    }
    switch (event.type) {
      case 'session_started':
        s.lastSessionMs = t;
        if (t >= from30) s.sessions30d++;
        if (t >= from7) s.sessions7d++;
        break;
      case 'feature_used':
        if (t >= from30) {
          features.add(event.properties.feature);
          s.featureUses30d += event.properties.quantity;
        }
        break;
      case 'custom':
        if (t >= from30) s.custom30d.set(event.properties.name, (s.custom30d.get(event.properties.name) ?? 0) + event.properties.quantity);
        break;
      case 'payment_succeeded':
        lastSuccessMs = t;
        s.failuresSinceSuccess = 0;
        s.nextPaymentRetryMs = Number.NaN;
        s.lastFailureMs = Number.NaN;
        if (t >= from90) s.paidCents90d += event.properties.amountCents;
        break;
      case 'payment_failed':
        s.failuresSinceSuccess++;
        s.lastFailureMs = t;
        s.nextPaymentRetryMs = event.properties.nextRetryAt === undefined ? Number.NaN : Date.parse(event.properties.nextRetryAt);
        if (t >= from90) s.failedPayments90d++;
        if (t >= from14) s.failedPayments14d++;
        break;
      case 'card_expiring':
        cardNoticeMs = t;
        s.cardExpiresMs = Date.parse(`${event.properties.expiresOn}T00:00:00Z`);
        break;
      case 'support_ticket_opened':
        openTickets.set(event.properties.ticketId, t);
        if (t >= from90) s.tickets90d++;
        if (t >= from30) s.tickets30d++;
        break;
      case 'support_ticket_resolved': {
        const openedMs = openTickets.get(event.properties.ticketId);
        if (openedMs === undefined) break; // resolved without a known opening: nothing to measure
        openTickets.delete(event.properties.ticketId);
        if (t >= from90) {
          s.resolutionHoursSum90d += (t - openedMs) / HOUR_MS;
          s.resolved90d++;
        }
        break;
      }
      case 'survey_response':
        s.lastSurveyScore = event.properties.score;
        s.lastSurveyMs = t;
        break;
      case 'subscription_started':
        if (Number.isNaN(s.subscriptionStartMs)) s.subscriptionStartMs = t;
        s.eventMrrCents = event.properties.mrrCents;
        break;
      case 'plan_changed':
        // A downgrade is a plan change to a lower price than the customer paid before it.
        if (t >= from90 && event.properties.mrrCents < s.eventMrrCents) s.downgrades90d++;
        s.eventMrrCents = event.properties.mrrCents;
        break;
      case 'subscription_cancelled':
        // A cancelled subscription is not retried any more: nothing left to wait for.
        s.nextPaymentRetryMs = Number.NaN;
        break;
      case 'subscription_reactivated':
        if (event.properties.mrrCents !== undefined) s.eventMrrCents = event.properties.mrrCents;
        break;
      case 'customer_profile':
        for (const [name, value] of Object.entries(event.properties.attributes)) {
          s.profile.set(name, value);
          const mrr = profileMrrCents(name, value);
          if (mrr !== undefined) s.profileMrrCents = mrr;
        }
        break;
      // Stryker disable next-line ConditionalExpression: dropping this empty `default: break` changes nothing, the switch ends here
      default:
        break;
    }
  }
  if (!reached90) mark90();
  s.activeDays30d = activeDays.size;
  s.distinctFeatures30d = features.size;
  s.openTickets = openTickets.size;
  // A successful payment after the expiry date means the card on file was replaced.
  if (!Number.isNaN(s.cardExpiresMs) && lastSuccessMs > cardNoticeMs && lastSuccessMs >= s.cardExpiresMs) s.cardExpiresMs = Number.NaN;
  return s;
}

/** Current MRR in cents: the latest from subscription events, else from a profile attribute, else NaN. */
export const currentMrrCents = (s: CustomerSnapshot): number => (Number.isNaN(s.eventMrrCents) ? s.profileMrrCents : s.eventMrrCents);

/** MRR 90 days before the cutoff, from the same source as `currentMrrCents`. */
export const mrrCents90dAgo = (s: CustomerSnapshot): number =>
  Number.isNaN(s.eventMrrCents) ? s.profileMrrCents90dAgo : s.eventMrrCents90dAgo;
