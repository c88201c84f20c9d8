import type { ChurnKindRules, HistoryLike } from '../model/analytics/churnByMonth.ts';
import { estimateOutreachEffect, type OutreachEffectReport, type ResolvedSelection } from '../model/analytics/outreachEffect.ts';
import type { ChurnEvent } from '../model/events/schemas.ts';
import { AFTER_EXIT_PLAYBOOKS } from '../model/outreach/message.ts';
import { latestCrmStatus, mrrAt, resolveOutcome } from '../model/outreach/outcomes.ts';
import type { EventStore, OutreachLedger, OutreachRecord } from './ports.ts';

/** What the effect is measured over: the horizon and churn rules of the runs, and the data's point in time. */
export interface EffectSettings {
  asOf: string;
  horizonDays: number;
  rules: ChurnKindRules;
  /** Only selections made on or after this instant (`--since`). */
  since?: string;
  /** The simulator's answer key, when the data is simulated (playbook → true uplift). */
  trueUplift?: Record<string, number>;
}

/**
 * The selections of the ledger that count: every record but a released claim, in the arm it was
 * assigned (intention to treat: a failed delivery stays treated). Selections before `since` are left out.
 */
export function selectionsOf(records: readonly OutreachRecord[], since?: string): OutreachRecord[] {
  const sinceMs = since === undefined ? Number.NEGATIVE_INFINITY : Date.parse(since);
  // At-risk selections only: win-back and exit surveys go to customers already gone (the win-back funnel measures them).
  return records.filter(
    (r) =>
      Date.parse(r.claimAt) >= sinceMs &&
      typeof r.playbook === 'string' &&
      !(AFTER_EXIT_PLAYBOOKS as readonly string[]).includes(r.playbook),
  );
}

/**
 * One customer's selections that count as units: the first, then each one made after the horizon
 * of the last counted one had ended. A customer selected again inside their horizon (after the
 * cooldown) is the same experiment going on: counting them twice would narrow the interval, and a
 * contacted customer drawn into control the second time would dilute the control arm. Decided by
 * selection dates alone, never by outcomes.
 */
export function firstPerHorizon(records: readonly OutreachRecord[], horizonDays: number): OutreachRecord[] {
  const kept: OutreachRecord[] = [];
  let openUntilMs = Number.NEGATIVE_INFINITY;
  for (const record of [...records].sort((a, b) => (a.claimAt < b.claimAt ? -1 : a.claimAt > b.claimAt ? 1 : 0))) {
    const claimMs = Date.parse(record.claimAt);
    if (claimMs < openUntilMs) continue;
    kept.push(record);
    openUntilMs = claimMs + horizonDays * 86_400_000;
  }
  return kept;
}

/** Resolves one customer's selections from their events. */
export function resolveSelections(
  records: readonly OutreachRecord[],
  events: readonly ChurnEvent[],
  settings: Pick<EffectSettings, 'asOf' | 'horizonDays' | 'rules'>,
): ResolvedSelection[] {
  return records.map((record) => {
    const claimMs = Date.parse(record.claimAt);
    const outcome = resolveOutcome(events, {
      claimAt: record.claimAt,
      horizonDays: settings.horizonDays,
      asOf: settings.asOf,
      rules: settings.rules,
    });
    const crmStatus = record.status === 'control' ? undefined : latestCrmStatus(events, record.dedupId, Date.parse(settings.asOf));
    return {
      customerId: record.customerId,
      runId: record.runId,
      playbook: record.playbook as string,
      arm: record.status === 'control' ? 'control' : 'treated',
      outcome,
      mrrCents: mrrAt(events, claimMs),
      ...(crmStatus ? { crmStatus } : {}),
    };
  });
}

/**
 * Collects resolved selections from a stream of customer histories (the job's one Scan): give it
 * the ledger's records first, then every history; customers without a selection are skipped.
 */
export class SelectionOutcomes {
  readonly #byCustomer = new Map<string, OutreachRecord[]>();
  readonly #resolved: ResolvedSelection[] = [];

  constructor(
    records: readonly OutreachRecord[],
    private readonly settings: EffectSettings,
  ) {
    for (const record of selectionsOf(records, settings.since)) {
      const list = this.#byCustomer.get(record.customerId) ?? this.#byCustomer.set(record.customerId, []).get(record.customerId)!;
      list.push(record);
    }
    for (const [customerId, list] of this.#byCustomer) this.#byCustomer.set(customerId, firstPerHorizon(list, settings.horizonDays));
  }

  /** Customers with a selection to resolve. */
  get customerIds(): string[] {
    return [...this.#byCustomer.keys()];
  }

  add(history: HistoryLike): void {
    const records = this.#byCustomer.get(history.customerId);
    if (records) this.#resolved.push(...resolveSelections(records, history.events, this.settings));
  }

  report(): OutreachEffectReport {
    return estimateOutreachEffect(this.#resolved, {
      asOf: this.settings.asOf,
      horizonDays: this.settings.horizonDays,
      ...(this.settings.trueUplift ? { trueUplift: this.settings.trueUplift } : {}),
    });
  }
}

/**
 * `churnguard outreach effect`: the ledger's selections (contacted and held out), each resolved
 * from its customer's events once the horizon has passed, and the effect per playbook and overall.
 * Reads the ledger whole (an operator's command) and each selected customer's events.
 */
export async function measureOutreachEffect(
  deps: { outreach: Pick<OutreachLedger, 'records'>; events: Pick<EventStore, 'listCustomerEvents'> },
  settings: EffectSettings,
): Promise<OutreachEffectReport> {
  const outcomes = new SelectionOutcomes(await deps.outreach.records(), settings);
  for (const customerId of outcomes.customerIds) {
    outcomes.add({ customerId, events: await deps.events.listCustomerEvents(customerId) });
  }
  return outcomes.report();
}
