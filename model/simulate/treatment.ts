import type { Playbook } from '../outreach/playbooks.ts';
import type { ChurnCause } from './catalog.ts';
import { deriveSeed, Random } from './random.ts';

/**
 * The true effect of each playbook in the simulated business: the share of the churn processes it
 * targets that an outreach on a day the process is under way (and would end in churn) turns into a
 * recovery. Payment recovery fixes most card problems; re-engagement wins back fewer of those who
 * drift away; an offer keeps some who find it too expensive; a loyalty reward changes nothing.
 * `simulate` writes these to its truth file; the demo compares the measured effect with them.
 */
export const TRUE_PLAYBOOK_EFFECTS: Readonly<Record<Playbook, { prevents: readonly ChurnCause[]; share: number }>> = {
  payment_recovery: { prevents: ['involuntary'], share: 0.6 },
  support_escalation: { prevents: ['support'], share: 0.4 },
  offer: { prevents: ['voluntary'], share: 0.35 },
  onboarding_education: { prevents: ['passive'], share: 0.2 },
  re_engagement: { prevents: ['passive'], share: 0.25 },
  loyalty_reward: { prevents: [], share: 0 },
};

/** One outreach to a simulated customer: on `day` (days since the epoch), with `playbook`. */
export interface Treatment {
  day: number;
  playbook: Playbook;
}

/** What an outreach did, in the customer's truth. */
export interface TreatmentTruth {
  at: string;
  playbook: Playbook;
  /** True when it turned a churn process into a recovery. */
  saved: boolean;
}

/**
 * Whether an outreach on `day` saves a customer whose churn process of `cause` would end in churn.
 * The draw is the treatment's own (seeded by the customer and the day), so adding or removing one
 * outreach never changes another's draw, nor any draw of the customer's everyday life before it:
 * a customer simulated with and without the outreach is the same customer until that day.
 */
export function outreachSaves(treatment: Treatment, cause: ChurnCause, customerSeed: number): boolean {
  const effect = TRUE_PLAYBOOK_EFFECTS[treatment.playbook];
  const draw = new Random(deriveSeed(customerSeed ^ 0x5eed7, treatment.day)).next();
  return effect.prevents.includes(cause) && draw < effect.share;
}
