import { type ChurnKind, type ChurnKindRules, churnTenures } from '../analytics/churnByMonth.ts';
import type { ChurnEvent } from '../events/schemas.ts';

const DAY_MS = 86_400_000;

/** What the CRM last reported for an outreach (`outreach_outcome` events). */
export type CrmStatus = 'contacted' | 'responded' | 'accepted' | 'declined';

/**
 * What became of a selected customer (contacted or held out) by the end of the horizon that
 * started at their selection:
 * - `pending`: the horizon has not passed yet (as of the data);
 * - `churned`: they churned within it and were still gone at its end, with the kind of churn;
 * - `reactivated`: they churned within it and came back before its end;
 * - `retained`: no churn within it.
 */
export type OutreachOutcome =
  | { status: 'pending'; resolvesAt: string }
  | { status: 'churned'; kind: ChurnKind; churnedAt: string }
  | { status: 'reactivated'; kind: ChurnKind; churnedAt: string }
  | { status: 'retained' };

export interface OutcomeQuestion {
  /** The selecting run's point in time (the ledger's claimAt). */
  claimAt: string;
  horizonDays: number;
  /** What the data covers: the horizon must end at or before it. */
  asOf: string;
  /** The churn kinds' rules, as the run summary's analytics use them. */
  rules: ChurnKindRules;
}

/**
 * Resolves one selection from the customer's events, point in time: only events before the
 * horizon's end count, so resolving again later gives the same answer. Churn is what the run
 * summary's analytics call churn (`churnTenures`: a cancellation, or `inactivityDays` without
 * activity), dated within (claimAt, claimAt + horizon].
 */
export function resolveOutcome(events: readonly ChurnEvent[], question: OutcomeQuestion): OutreachOutcome {
  const claimMs = Date.parse(question.claimAt);
  const horizonEndMs = claimMs + question.horizonDays * DAY_MS;
  if (Date.parse(question.asOf) < horizonEndMs) return { status: 'pending', resolvesAt: new Date(horizonEndMs).toISOString() };
  // Events at the horizon's last instant count (as the labels' `≤ cutoff + horizon`).
  const tenures = churnTenures(events, horizonEndMs + 1, question.rules);
  const index = tenures.findIndex((t) => t.end !== undefined && t.end.ms > claimMs && t.end.ms <= horizonEndMs);
  const churned = tenures[index];
  if (churned?.end === undefined) return { status: 'retained' };
  const churnedAt = new Date(churned.end.ms).toISOString();
  const last = tenures.at(-1);
  const back = index < tenures.length - 1 && last !== undefined && (last.end === undefined || last.end.ms > horizonEndMs);
  return back ? { status: 'reactivated', kind: churned.end.kind, churnedAt } : { status: 'churned', kind: churned.end.kind, churnedAt };
}

/** Whether an outcome counts as churn in the effect estimates: gone at the horizon's end. */
export const isChurn = (outcome: OutreachOutcome): boolean => outcome.status === 'churned';

/** The latest status the CRM reported for an outreach (by its dedupId) before `beforeMs`, if any. */
export function latestCrmStatus(
  events: readonly ChurnEvent[],
  dedupId: string,
  beforeMs = Number.POSITIVE_INFINITY,
): CrmStatus | undefined {
  let status: CrmStatus | undefined;
  for (const event of events) {
    if (Date.parse(event.occurredAt) >= beforeMs) break;
    if (event.type === 'outreach_outcome' && event.properties.dedupId === dedupId) status = event.properties.status;
  }
  return status;
}

/** The customer's monthly recurring revenue at an instant, from their subscription events; null when none says. */
export function mrrAt(events: readonly ChurnEvent[], atMs: number): number | null {
  let mrr: number | null = null;
  for (const event of events) {
    if (Date.parse(event.occurredAt) >= atMs) break;
    if (event.type === 'subscription_started' || event.type === 'plan_changed') mrr = event.properties.mrrCents;
    else if (event.type === 'subscription_reactivated' && event.properties.mrrCents !== undefined) mrr = event.properties.mrrCents;
  }
  return mrr;
}
