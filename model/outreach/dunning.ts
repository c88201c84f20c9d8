import type { PaymentDunning, ScoredCustomer } from '../scoring.ts';
import type { Playbook } from './playbooks.ts';
import type { RankedCandidate } from './selection.ts';

const HOUR_MS = 3_600_000;

/**
 * Default wait after a failed payment before payment_recovery contacts the customer, in hours,
 * when the processor announced no retry. 0: only an announced retry holds the contact.
 */
export const DEFAULT_PAYMENT_RECOVERY_DELAY_HOURS = 0;

/**
 * Until when (epoch ms) a payment_recovery contact waits because the payment processor is still
 * dunning the customer, or undefined when it need not wait at `asOfMs`. The processor's own retries
 * (Stripe's Smart Retries send their own e-mails) come first: the hold lasts until the retry it
 * announced (`nextRetryAt`), and at least `delayHours` after the latest failure, so a team whose
 * processor announces no retries can still give it time.
 */
export function dunningHoldUntil(
  dunning: PaymentDunning | undefined,
  asOfMs: number,
  delayHours = DEFAULT_PAYMENT_RECOVERY_DELAY_HOURS,
): number | undefined {
  if (!dunning) return undefined;
  const nextRetryMs = dunning.nextRetryAt === undefined ? Number.NaN : Date.parse(dunning.nextRetryAt);
  const delayEndMs = Date.parse(dunning.lastFailureAt) + delayHours * HOUR_MS;
  const until = Math.max(Number.isFinite(nextRetryMs) ? nextRetryMs : Number.NEGATIVE_INFINITY, delayEndMs);
  return until > asOfMs ? until : undefined;
}

/** A candidate whose payment_recovery contact waits for the processor's dunning. */
export interface HeldCandidate {
  customerId: string;
  /** ISO instant from which they may be contacted. */
  until: string;
}

/**
 * Takes out of the ranked candidates those whose playbook is payment_recovery while their
 * processor's dunning still runs: they are not claimed (no cooldown starts), so the first run after
 * the window closes selects them if they are still at risk and the payment was not recovered.
 * Other playbooks are not held: a failed payment does not make a support escalation redundant.
 */
export function holdDuringDunning<C extends ScoredCustomer & { playbook: Playbook }>(
  ranked: readonly RankedCandidate<C>[],
  asOf: string,
  delayHours = DEFAULT_PAYMENT_RECOVERY_DELAY_HOURS,
): { eligible: RankedCandidate<C>[]; held: HeldCandidate[] } {
  const asOfMs = Date.parse(asOf);
  const eligible: RankedCandidate<C>[] = [];
  const held: HeldCandidate[] = [];
  for (const candidate of ranked) {
    const { customer } = candidate;
    const until = customer.playbook === 'payment_recovery' ? dunningHoldUntil(customer.dunning, asOfMs, delayHours) : undefined;
    if (until === undefined) eligible.push(candidate);
    else held.push({ customerId: customer.customerId, until: new Date(until).toISOString() });
  }
  return { eligible, held };
}
