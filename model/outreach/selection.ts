import type { ScoredCustomer } from '../scoring.ts';
import type { OutreachArm } from './controlGroup.ts';

/**
 * Days after a contact during which a customer is not contacted again. The job's claims and the
 * consumer's memory of delivered messages both follow it (env COOLDOWN_DAYS).
 */
export const DEFAULT_COOLDOWN_DAYS = 14;

/** How customers are ranked for outreach. */
export interface SelectionOptions<C extends ScoredCustomer = ScoredCustomer> {
  /**
   * Send only when calibrated risk ≥ this (the model's cost threshold). A function gives each
   * customer the threshold of the model that scored them (a fan-out run reads stored scores).
   */
  threshold: number | ((customer: C) => number);
  /** Value used for customers whose MRR is unknown, in cents per month (default 1: rank by risk alone). */
  unknownMrrValueCents?: number;
}

/** A customer above the threshold, with the value that ranks them. */
export interface RankedCandidate<C extends ScoredCustomer = ScoredCustomer> {
  customer: C;
  /** Calibrated risk × MRR (or the unit value when MRR is unknown), cents per month. */
  expectedLossCents: number;
}

/** Calibrated risk × monthly value: what we expect to lose if we do nothing. */
export function expectedLossCents(risk: number, mrrCents: number | null, unknownMrrValueCents = 1): number {
  const value = mrrCents !== null && Number.isFinite(mrrCents) && mrrCents >= 0 ? mrrCents : unknownMrrValueCents;
  return risk * value;
}

/**
 * Keeps the customers at or above the cost threshold and ranks them by expected loss, highest
 * first; ties by higher risk, then customer id (a stable order, so re-runs pick the same customers).
 */
export function rankForOutreach<C extends ScoredCustomer>(
  scored: readonly C[],
  options: SelectionOptions<C>,
): { ranked: RankedCandidate<C>[]; belowThreshold: number } {
  const ranked: RankedCandidate<C>[] = [];
  let belowThreshold = 0;
  const thresholdOf = typeof options.threshold === 'number' ? () => options.threshold as number : options.threshold;
  for (const customer of scored) {
    if (!(customer.risk >= thresholdOf(customer))) {
      belowThreshold++;
      continue;
    }
    ranked.push({ customer, expectedLossCents: expectedLossCents(customer.risk, customer.mrrCents, options.unknownMrrValueCents) });
  }
  ranked.sort(
    (a, b) =>
      b.expectedLossCents - a.expectedLossCents ||
      b.customer.risk - a.customer.risk ||
      (a.customer.customerId < b.customer.customerId ? -1 : a.customer.customerId > b.customer.customerId ? 1 : 0),
  );
  return { ranked, belowThreshold };
}

/**
 * The outcome of claiming one customer for this run:
 * - `claimed`: newly claimed, send now;
 * - `resumed`: this run claimed them before but never queued the message (a crashed run), send now;
 * - `already-sent`: this run already queued their message, do not send again;
 * - `cooldown`: contacted by another run within the cooldown, skip;
 * - `over-budget`: the day's budget (shared by the day's runs) is spent: stop.
 */
export type ClaimOutcome = 'claimed' | 'resumed' | 'already-sent' | 'cooldown' | 'over-budget';

export interface Allocation<C extends ScoredCustomer> {
  /** Customers to send to now, best first. */
  toSend: RankedCandidate<C>[];
  alreadySent: RankedCandidate<C>[];
  /** Held out as the control group: recorded, never sent, not counted against the budget. */
  control: RankedCandidate<C>[];
  skippedCooldown: number;
  skippedBudget: number;
}

/**
 * Walks the ranked candidates best first and claims each until the run's budget, or the day's
 * (the claim answers `over-budget`), is spent. Messages this run already sent count against the
 * budget; customers in cooldown do not. Candidates `isControl` holds out are claimed as `control`
 * (the cooldown applies to them too) but take no budget: the walk stops only when the treated
 * customers have spent it. The claim is injected
 * (a conditional write in the store), so this stays pure and testable.
 */
export async function allocateOutreach<C extends ScoredCustomer>(
  ranked: readonly RankedCandidate<C>[],
  budget: { maxMessages: number },
  claim: (candidate: RankedCandidate<C>, arm: OutreachArm) => Promise<ClaimOutcome>,
  isControl: (candidate: RankedCandidate<C>) => boolean = () => false,
): Promise<Allocation<C>> {
  const allocation: Allocation<C> = { toSend: [], alreadySent: [], control: [], skippedCooldown: 0, skippedBudget: 0 };
  let used = 0;
  for (const [index, candidate] of ranked.entries()) {
    if (used >= budget.maxMessages) {
      allocation.skippedBudget = ranked.length - index;
      break;
    }
    if (isControl(candidate)) {
      const outcome = await claim(candidate, 'control');
      if (outcome === 'cooldown') allocation.skippedCooldown++;
      else allocation.control.push(candidate);
      continue;
    }
    const outcome = await claim(candidate, 'treated');
    if (outcome === 'over-budget') {
      allocation.skippedBudget = ranked.length - index;
      break;
    }
    if (outcome === 'cooldown') {
      allocation.skippedCooldown++;
      continue;
    }
    used++;
    if (outcome === 'already-sent') allocation.alreadySent.push(candidate);
    else allocation.toSend.push(candidate);
  }
  return allocation;
}
