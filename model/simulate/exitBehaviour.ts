import { type ExitReasonCode, exitReason, type WinBackOffer } from '../events/exitReasons.ts';
import type { ChurnEvent } from '../events/schemas.ts';
import type { ChurnCause } from './catalog.ts';
import { deriveSeed, Random } from './random.ts';

/**
 * Why simulated customers leave and what brings them back: the true exit reason of each churn
 * cause, the share of cancellations that state it, and the reason-dependent chance that a win-back
 * offer wins a customer back. The demo feeds the win-back step's messages in through
 * `simulateAfterExitResponse`, deterministically (a seed per customer and message), so the
 * answers and returns are reproducible and checkable against these rates.
 */

/** The true reason behind each churn cause: a mix, since the same signals have several stories. */
export const EXIT_REASON_MIX: Record<ChurnCause, Partial<Record<ExitReasonCode, number>>> = {
  involuntary: { payment_failure: 1 },
  passive: { no_longer_needed: 0.65, missing_feature: 0.2, other: 0.15 },
  voluntary: { price: 0.55, competitor: 0.25, missing_feature: 0.2 },
  support: { support_experience: 0.8, missing_feature: 0.2 },
};

/** Share of cancellations that state their reason (the rest cancel with no reason: the exit survey asks). */
export const REASON_RECORDED_SHARE = 0.6;
/** Share of exit surveys answered (within 0–3 days). */
export const EXIT_SURVEY_ANSWER_SHARE = 0.5;

/**
 * Chance that a win-back message with the offer that fits the reason brings the customer back
 * within 14 days. Price and failed payments come back most (the offer removes the cause); a need
 * that ended almost never does.
 */
export const WIN_BACK_RETURN_CHANCE: Record<ExitReasonCode, number> = {
  price: 0.35,
  missing_feature: 0.2,
  competitor: 0.1,
  no_longer_needed: 0.02,
  support_experience: 0.3,
  payment_failure: 0.45,
  other: 0.05,
};
/** An offer that does not fit the true reason works this fraction as well. */
export const MISFIT_OFFER_FACTOR = 0.25;

/** Draws a cancellation's true reason (one draw, like the free-text pick it replaced) and the draw of whether it is stated. */
export function drawExitReason(rng: Random, cause: ChurnCause): ExitReasonCode {
  return rng.weighted(EXIT_REASON_MIX[cause] as Record<ExitReasonCode, number>);
}

/** The chance a win-back offer brings back a customer whose true reason is `reason`. */
export const winBackReturnChance = (reason: ExitReasonCode, offer: WinBackOffer): number =>
  WIN_BACK_RETURN_CHANCE[reason] * (exitReason(reason).offer === offer ? 1 : MISFIT_OFFER_FACTOR);

/** What the simulator needs to know of a contacted customer. */
export interface ContactedCustomer {
  customerId: string;
  exitReason: ExitReasonCode | null;
  plan: string;
  mrrCents: number;
}

/** One message of the after-exit step, as the demo saw it delivered. */
export interface AfterExitContact {
  kind: 'exit_survey' | 'win_back';
  /** The offer of a win-back message. */
  offer?: WinBackOffer;
  /** When the message reached the customer (the step's asOf). */
  sentAt: string;
}

const DAY_MS = 86_400_000;

function streamOf(customerId: string, kind: string): number {
  let h = 2166136261;
  for (const ch of `${kind}:${customerId}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

/**
 * How a simulated customer answers one after-exit message: an exit survey answered with the true
 * reason, or a return (`subscription_reactivated` at their old plan and MRR) after a win-back.
 * Deterministic for (seed, customer, kind); no events when they do not respond.
 */
export function simulateAfterExitResponse(seed: number, customer: ContactedCustomer, contact: AfterExitContact): ChurnEvent[] {
  if (customer.exitReason === null) return [];
  const rng = new Random(deriveSeed(seed, streamOf(customer.customerId, contact.kind)));
  const sentMs = Date.parse(contact.sentAt);
  const at = (days: number) => new Date(sentMs + days * DAY_MS + rng.int(9 * 3600, 17 * 3600) * 1000).toISOString();
  const base = { customerId: customer.customerId };
  if (contact.kind === 'exit_survey') {
    if (!rng.chance(EXIT_SURVEY_ANSWER_SHARE)) return [];
    const occurredAt = at(rng.int(0, 3));
    return [
      {
        ...base,
        eventId: `${customer.customerId}-exit-survey`,
        type: 'survey_response',
        occurredAt,
        properties: { score: rng.int(0, 5), exitReasonCode: customer.exitReason },
      },
    ];
  }
  if (!rng.chance(winBackReturnChance(customer.exitReason, contact.offer ?? 'none'))) return [];
  return [
    {
      ...base,
      eventId: `${customer.customerId}-win-back-${contact.sentAt.slice(0, 10)}`,
      type: 'subscription_reactivated',
      occurredAt: at(rng.int(1, 13)),
      properties: { plan: customer.plan, mrrCents: customer.mrrCents },
    },
  ];
}
