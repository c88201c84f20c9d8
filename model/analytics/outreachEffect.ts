import { z } from 'zod';
import type { OutreachArm } from '../outreach/controlGroup.ts';
import { type CrmStatus, isChurn, type OutreachOutcome } from '../outreach/outcomes.ts';
import { wilsonInterval, Z95 } from './intervals.ts';

/** One selection with its arm and outcome: the unit of the effect estimates. */
export interface ResolvedSelection {
  customerId: string;
  runId: string;
  playbook: string;
  arm: OutreachArm;
  outcome: OutreachOutcome;
  /** Monthly recurring revenue at selection, cents; null when unknown. */
  mrrCents: number | null;
  crmStatus?: CrmStatus;
}

/**
 * When an estimate is shown: each arm has at least `minResolvedPerArm` resolved outcomes and the
 * two arms together at least `minChurned` churned customers. Below that a 95% interval is either
 * uselessly wide or, with almost no churn, the normal-theory reasoning behind it does not hold.
 */
export const EFFECT_RULE = { minResolvedPerArm: 30, minChurned: 5 } as const;

/** 97.5th percentile of the standard normal: a two-sided 95% interval. */

export const ArmStats = z.object({
  /** Selections whose horizon has passed. */
  resolved: z.number().int(),
  /** Selections still within their horizon. */
  pending: z.number().int(),
  churned: z.number().int(),
  reactivated: z.number().int(),
  /** churned ÷ resolved; null with nothing resolved. */
  churnRate: z.number().nullable(),
  /** Sum of the resolved customers' MRR at selection, cents per month. */
  mrrCents: z.number(),
});
export type ArmStats = z.output<typeof ArmStats>;

export const PlaybookEffect = z.object({
  /** The playbook, or `all` for every playbook together. */
  playbook: z.string(),
  treated: ArmStats,
  control: ArmStats,
  /** Whether the estimate is shown (EFFECT_RULE); when not, `reason` says what is missing. */
  shown: z.boolean(),
  reason: z.string().optional(),
  /** Control churn rate − treated churn rate: the share of churn the outreach prevented (positive = it helps). */
  uplift: z.number().nullable(),
  /** 95% interval of the uplift (Newcombe's hybrid score interval). */
  interval: z.tuple([z.number(), z.number()]).nullable(),
  /** uplift × resolved treated customers: customers the outreach kept (interval likewise). */
  savedCustomers: z.number().nullable(),
  savedCustomersInterval: z.tuple([z.number(), z.number()]).nullable(),
  /** uplift × the treated customers' MRR: monthly revenue the outreach kept, cents. */
  savedMrrCentsPerMonth: z.number().nullable(),
  /** Treated customers by the CRM's latest reported status (outreach_outcome events). */
  crmStatus: z.record(z.string(), z.number().int()).optional(),
  /** The simulator's true uplift for these selections, when the data is simulated. */
  trueUplift: z.number().optional(),
});
export type PlaybookEffect = z.output<typeof PlaybookEffect>;

export const OutreachEffectReport = z.object({
  method: z.literal('newcombe-hybrid-wilson'),
  rule: z.object({ minResolvedPerArm: z.number().int(), minChurned: z.number().int() }),
  /** The data's point in time the outcomes were resolved at. */
  asOf: z.string(),
  horizonDays: z.number(),
  playbooks: z.array(PlaybookEffect),
  overall: PlaybookEffect,
});
export type OutreachEffectReport = z.output<typeof OutreachEffectReport>;

/**
 * Newcombe's hybrid score interval (1998, method 10) for a difference of proportions p1 − p2: the
 * Wilson intervals of each proportion, combined. Good coverage at small counts and rates near 0,
 * where the Wald interval is too narrow, and no resampling (the same data gives the same interval).
 */
export function newcombeInterval(k1: number, n1: number, k2: number, n2: number, z = Z95): [number, number] {
  const p1 = k1 / n1;
  const p2 = k2 / n2;
  const { low: l1, high: u1 } = wilsonInterval(k1, n1, z);
  const { low: l2, high: u2 } = wilsonInterval(k2, n2, z);
  const d = p1 - p2;
  return [d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)];
}

function armStats(selections: readonly ResolvedSelection[]): ArmStats {
  let resolved = 0;
  let pending = 0;
  let churned = 0;
  let reactivated = 0;
  let mrrCents = 0;
  for (const s of selections) {
    if (s.outcome.status === 'pending') {
      pending++;
      continue;
    }
    resolved++;
    if (isChurn(s.outcome)) churned++;
    if (s.outcome.status === 'reactivated') reactivated++;
    mrrCents += s.mrrCents ?? 0;
  }
  return { resolved, pending, churned, reactivated, churnRate: resolved ? churned / resolved : null, mrrCents };
}

/** Why an estimate is not shown yet, or undefined when it is. */
function missing(treated: ArmStats, control: ArmStats): string | undefined {
  const short: string[] = [];
  if (treated.resolved < EFFECT_RULE.minResolvedPerArm) short.push(`${treated.resolved} treated resolved`);
  if (control.resolved < EFFECT_RULE.minResolvedPerArm) short.push(`${control.resolved} control resolved`);
  if (short.length) return `needs ≥ ${EFFECT_RULE.minResolvedPerArm} resolved outcomes per arm: ${short.join(', ')}`;
  const churned = treated.churned + control.churned;
  if (churned < EFFECT_RULE.minChurned) return `needs ≥ ${EFFECT_RULE.minChurned} churned customers in the two arms, has ${churned}`;
  return undefined;
}

/** The effect of one group of selections (a playbook, or all). */
export function effectOf(playbook: string, selections: readonly ResolvedSelection[], trueUplift?: number): PlaybookEffect {
  const treatedSelections = selections.filter((s) => s.arm === 'treated');
  const treated = armStats(treatedSelections);
  const control = armStats(selections.filter((s) => s.arm === 'control'));
  const crm: Record<string, number> = {};
  for (const s of treatedSelections) if (s.crmStatus) crm[s.crmStatus] = (crm[s.crmStatus] ?? 0) + 1;
  const reason = missing(treated, control);
  const base = {
    playbook,
    treated,
    control,
    ...(Object.keys(crm).length ? { crmStatus: crm } : {}),
    ...(trueUplift === undefined ? {} : { trueUplift }),
  };
  if (reason !== undefined || treated.churnRate === null || control.churnRate === null) {
    return {
      ...base,
      shown: false,
      reason: reason ?? 'no resolved outcomes',
      uplift: null,
      interval: null,
      savedCustomers: null,
      savedCustomersInterval: null,
      savedMrrCentsPerMonth: null,
    };
  }
  const uplift = control.churnRate - treated.churnRate;
  const interval = newcombeInterval(control.churned, control.resolved, treated.churned, treated.resolved);
  return {
    ...base,
    shown: true,
    uplift,
    interval,
    savedCustomers: uplift * treated.resolved,
    savedCustomersInterval: [interval[0] * treated.resolved, interval[1] * treated.resolved],
    savedMrrCentsPerMonth: uplift * treated.mrrCents,
  };
}

/**
 * The effect of outreach per playbook and overall: churn rate of the contacted (treated) against
 * the held-out (control), absolute uplift with Newcombe's 95% interval, customers and MRR saved.
 * Intention to treat: a customer is in the arm they were assigned to, whether or not the message
 * reached them. `overall` pools every playbook, which is unbiased because every stratum holds out
 * the same share. `trueUplift` (playbook → uplift, `all` too) is the simulator's answer key.
 */
export function estimateOutreachEffect(
  selections: readonly ResolvedSelection[],
  context: { asOf: string; horizonDays: number; trueUplift?: Record<string, number> },
): OutreachEffectReport {
  const byPlaybook = new Map<string, ResolvedSelection[]>();
  for (const s of selections) (byPlaybook.get(s.playbook) ?? byPlaybook.set(s.playbook, []).get(s.playbook)!).push(s);
  const playbooks = [...byPlaybook.entries()]
    .map(([playbook, group]) => effectOf(playbook, group, context.trueUplift?.[playbook]))
    .sort(
      (a, b) => b.treated.resolved + b.control.resolved - (a.treated.resolved + a.control.resolved) || (a.playbook < b.playbook ? -1 : 1),
    );
  return {
    method: 'newcombe-hybrid-wilson',
    rule: { ...EFFECT_RULE },
    asOf: context.asOf,
    horizonDays: context.horizonDays,
    playbooks,
    overall: effectOf('all', selections, context.trueUplift?.all),
  };
}
