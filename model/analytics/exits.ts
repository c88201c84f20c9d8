import { type ExitReasonCode, reasonFromText } from '../events/exitReasons.ts';
import type { ChurnEvent } from '../events/schemas.ts';
import { type ChurnKind, type ChurnKindRules, churnTenures } from './churnByMonth.ts';

/** Where an exit's reason came from. */
export type ReasonSource = 'cancellation' | 'exit_survey' | 'failed_payment';

/** One end of a tenure: a customer who left, why (when known), and whether they came back. */
export interface CustomerExit {
  /** When the tenure ended (the cancellation, or when inactivity made the customer gone). */
  endedAtMs: number;
  kind: ChurnKind;
  /** True when a `subscription_cancelled` ended it (not inactivity). */
  cancelled: boolean;
  reason?: ExitReasonCode;
  reasonSource?: ReasonSource;
  /** Start of the next tenure (a reactivation or renewed activity), if it came before asOf. */
  returnedAtMs?: number;
  /** The customer's MRR when they left (the last subscription or plan change), null when unknown. */
  mrrCents: number | null;
  /** Days from the tenure's start to its end. */
  tenureDays: number;
}

const DAY_MS = 86_400_000;

/**
 * The exits of one customer before `asOfMs`, oldest first. The reason of an exit, in this order:
 * 1. the cancellation's `reasonCode`, or its free-text `reason` when it names a reason clearly;
 * 2. the first exit-survey answer (`survey_response.exitReasonCode`) after it, before the customer
 *    came back;
 * 3. `payment_failure` when the churn is involuntary (an unrecovered failed payment at the end);
 * otherwise unknown. Tenures and kinds are churnTenures' (model/analytics/churnByMonth.ts).
 */
export function customerExits(events: readonly ChurnEvent[], asOfMs: number, rules: ChurnKindRules): CustomerExit[] {
  const tenures = churnTenures(events, asOfMs, rules);
  const exits: CustomerExit[] = [];
  for (const [i, tenure] of tenures.entries()) {
    if (!tenure.end) continue;
    const endMs = tenure.end.ms;
    const nextStartMs = tenures[i + 1]?.startMs;
    let cancelled = false;
    let reason: ExitReasonCode | undefined;
    let reasonSource: ReasonSource | undefined;
    let mrrCents: number | null = null;
    for (const event of events) {
      const ms = Date.parse(event.occurredAt);
      if (ms >= asOfMs || (nextStartMs !== undefined && ms >= nextStartMs)) break;
      if (ms <= endMs) {
        // The MRR carries over from earlier tenures (a reactivation may not restate it).
        if (event.type === 'subscription_started' || event.type === 'plan_changed') mrrCents = event.properties.mrrCents;
        if (event.type === 'subscription_reactivated' && event.properties.mrrCents !== undefined) mrrCents = event.properties.mrrCents;
        if (event.type === 'subscription_cancelled' && ms === endMs) {
          cancelled = true;
          reason = event.properties.reasonCode ?? reasonFromText(event.properties.reason);
          if (reason) reasonSource = 'cancellation';
        }
      } else if (!reason && event.type === 'survey_response' && event.properties.exitReasonCode) {
        reason = event.properties.exitReasonCode;
        reasonSource = 'exit_survey';
      }
    }
    if (!reason && tenure.end.kind === 'involuntary') {
      reason = 'payment_failure';
      reasonSource = 'failed_payment';
    }
    exits.push({
      endedAtMs: endMs,
      kind: tenure.end.kind,
      cancelled,
      ...(reason ? { reason, reasonSource } : {}),
      ...(nextStartMs !== undefined ? { returnedAtMs: nextStartMs } : {}),
      mrrCents,
      tenureDays: (endMs - tenure.startMs) / DAY_MS,
    });
  }
  return exits;
}
