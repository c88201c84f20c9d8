import type { FeatureFamily } from '../features/matrix.ts';
import type { RiskDriver } from '../scoring.ts';

/** The retention actions the team can take; each at-risk customer gets exactly one. */
export const PLAYBOOKS = [
  'payment_recovery',
  'support_escalation',
  'offer',
  'onboarding_education',
  're_engagement',
  'loyalty_reward',
] as const;
export type Playbook = (typeof PLAYBOOKS)[number];

/** What a customer must look like for a playbook to apply at all (e.g. onboarding is for new customers). */
export interface PlaybookAudience {
  minTenureDays?: number;
  maxTenureDays?: number;
  minMrrCents?: number;
}

/** One playbook as data: which driver families call for it, for whom, and what the team does. */
export interface PlaybookRule {
  playbook: Playbook;
  /** Person-readable: what the retention team does. */
  description: string;
  /** Weight of a driver of each family towards this playbook (absent = 0). */
  familyWeights: Partial<Record<FeatureFamily, number>>;
  audience?: PlaybookAudience;
  /** Tie-break: on equal scores the lower rank wins (cheaper, more specific actions first). */
  rank: number;
}

/** Long-tenure, high-value thresholds of the loyalty playbook; configurable through `choosePlaybook` options. */
export const DEFAULT_LOYALTY_MIN_TENURE_DAYS = 365;
export const DEFAULT_LOYALTY_MIN_MRR_CENTS = 10_000;
/** "New customer" for onboarding: within the first 90 days. */
export const ONBOARDING_MAX_TENURE_DAYS = 90;

/**
 * The rules. Payment recovery ranks first on ties: failed payments are the most recoverable
 * churn (a card update), and they cause a quarter or more of lost subscriptions.
 */
export const PLAYBOOK_RULES: readonly PlaybookRule[] = [
  {
    playbook: 'payment_recovery',
    description: 'Failed payments or an expiring card: ask the customer to update their card, retry the charge, offer a grace period.',
    familyWeights: { payments: 1 },
    rank: 1,
  },
  {
    playbook: 'support_escalation',
    description: 'Unresolved tickets or a low survey score: a person from support or success calls the customer.',
    familyWeights: { support: 1, survey: 1 },
    rank: 2,
  },
  {
    playbook: 'offer',
    description: 'Downgrades, price or contract signals: offer a better-fitting plan, an annual contract or a discount.',
    familyWeights: { plan: 1, value: 0.5, profile: 0.5 },
    rank: 3,
  },
  {
    playbook: 'onboarding_education',
    description: 'A new customer with low adoption: guided onboarding, tutorials and a check-in call on the features they have not tried.',
    familyWeights: { adoption: 1, tenure: 1, activity: 0.5 },
    audience: { maxTenureDays: ONBOARDING_MAX_TENURE_DAYS },
    rank: 4,
  },
  {
    playbook: 're_engagement',
    description: 'Usage is decaying: a re-engagement campaign showing what is new and what they are missing.',
    familyWeights: { activity: 1, adoption: 0.75, custom: 0.5 },
    rank: 5,
  },
  {
    playbook: 'loyalty_reward',
    description: 'A long-standing, high-value customer at risk: a thank-you reward, account review and priority service.',
    familyWeights: { tenure: 1, value: 1 },
    audience: { minTenureDays: DEFAULT_LOYALTY_MIN_TENURE_DAYS, minMrrCents: DEFAULT_LOYALTY_MIN_MRR_CENTS },
    rank: 6,
  },
];

/** Used when no driver points anywhere (no positive drivers, or none of a known family). */
export const DEFAULT_PLAYBOOK: Playbook = 're_engagement';

export const playbookDescription = (playbook: Playbook): string =>
  PLAYBOOK_RULES.find((rule) => rule.playbook === playbook)?.description ?? playbook;

/** What choosePlaybook needs to know about a customer. */
export interface PlaybookInput {
  drivers: Pick<RiskDriver, 'family' | 'contribution'>[];
  tenureDays: number | null;
  mrrCents: number | null;
}

export interface PlaybookOptions {
  rules?: readonly PlaybookRule[];
  defaultPlaybook?: Playbook;
}

const fits = (audience: PlaybookAudience | undefined, customer: PlaybookInput): boolean => {
  if (!audience) return true;
  const { tenureDays, mrrCents } = customer;
  // An unknown tenure or MRR cannot prove membership of a restricted audience.
  if (audience.minTenureDays !== undefined && (tenureDays === null || tenureDays < audience.minTenureDays)) return false;
  if (audience.maxTenureDays !== undefined && (tenureDays === null || tenureDays > audience.maxTenureDays)) return false;
  if (audience.minMrrCents !== undefined && (mrrCents === null || mrrCents < audience.minMrrCents)) return false;
  return true;
};

/** Score of each applicable playbook: Σ over risk-raising drivers of contribution × family weight. */
export function scorePlaybooks(customer: PlaybookInput, rules: readonly PlaybookRule[] = PLAYBOOK_RULES): Map<Playbook, number> {
  const scores = new Map<Playbook, number>();
  for (const rule of rules) {
    if (!fits(rule.audience, customer)) continue;
    let score = 0;
    for (const driver of customer.drivers) {
      if (!(driver.contribution > 0)) continue; // only drivers that raise risk call for an action
      score += driver.contribution * (rule.familyWeights[driver.family] ?? 0);
    }
    scores.set(rule.playbook, score);
  }
  return scores;
}

/**
 * Chooses the playbook for a customer from the families of their top drivers, weighted by
 * contribution. Ties go to the lower `rank`; with no positive score, the default playbook.
 *
 * @example
 * choosePlaybook({ drivers: [{ family: 'payments', contribution: 0.8 }], tenureDays: 400, mrrCents: 5000 }) // 'payment_recovery'
 */
export function choosePlaybook(customer: PlaybookInput, options: PlaybookOptions = {}): Playbook {
  const rules = options.rules ?? PLAYBOOK_RULES;
  const scores = scorePlaybooks(customer, rules);
  let best: PlaybookRule | undefined;
  let bestScore = 0;
  for (const rule of rules) {
    const score = scores.get(rule.playbook);
    if (score === undefined || !(score > 0)) continue;
    const better = score > bestScore + 1e-12 || (Math.abs(score - bestScore) <= 1e-12 && best !== undefined && rule.rank < best.rank);
    if (best === undefined || better) {
      best = rule;
      bestScore = score;
    }
  }
  return best?.playbook ?? options.defaultPlaybook ?? DEFAULT_PLAYBOOK;
}
