import type { ChurnEvent } from '../../model/events/schemas.ts';
import type { ExperimentCandidate, HistoryBefore } from '../../model/simulate/outreachExperiment.ts';

const DAY_MS = 86_400_000;

/**
 * A stand-in for the model in the simulated experiments: rules a retention team could write on
 * the events before the as-of, each naming its playbook (first match wins), ranked by strength.
 * It sees only observable events, so it selects false alarms too, as a model does; it needs no
 * training, so a test runs thousands of customers in seconds.
 */
export function ruleSelector(histories: readonly HistoryBefore[], asOf: string): ExperimentCandidate[] {
  const asOfMs = Date.parse(asOf);
  const scored: Array<ExperimentCandidate & { strength: number }> = [];
  for (const { customerId, events } of histories) {
    const signal = signalOf(events, asOfMs);
    if (signal) scored.push({ customerId, ...signal });
  }
  return scored
    .sort((a, b) => b.strength - a.strength || (a.customerId < b.customerId ? -1 : 1))
    .map(({ customerId, playbook, band }) => ({ customerId, playbook, band }));
}

function signalOf(
  events: readonly ChurnEvent[],
  asOfMs: number,
): (Omit<ExperimentCandidate, 'customerId'> & { strength: number }) | undefined {
  // ISO instants compare as strings: no Date.parse per event (the experiments read millions).
  const iso = (days: number) => new Date(asOfMs - days * DAY_MS).toISOString();
  const [d14, d21, d28, d42] = [iso(14), iso(21), iso(28), iso(42)];
  let active = false;
  let signupMs = Number.NaN;
  let mrr = 0;
  let failed = 0;
  let recovered = false;
  let lowSurvey = false;
  let tooExpensive = false;
  let downgraded = false;
  let urgentTickets = 0;
  let recent = 0;
  let before = 0;
  for (const e of events) {
    const at = e.occurredAt;
    if (e.type === 'subscription_started') {
      active = true;
      if (Number.isNaN(signupMs)) signupMs = Date.parse(at);
      mrr = e.properties.mrrCents;
    } else if (e.type === 'subscription_cancelled') active = false;
    else if (e.type === 'plan_changed') {
      if (at >= d28 && e.properties.mrrCents < mrr) downgraded = true;
      mrr = e.properties.mrrCents;
    } else if (e.type === 'payment_failed' && at >= d21) {
      failed++;
      recovered = false;
    } else if (e.type === 'payment_succeeded' && failed > 0) recovered = true;
    else if (e.type === 'survey_response' && at >= d28) {
      if (e.properties.comment === 'too expensive for what we use') tooExpensive = true;
      else if (e.properties.score <= 4) lowSurvey = true;
    } else if (e.type === 'support_ticket_opened' && at >= d21 && (e.properties.priority === 'high' || e.properties.priority === 'urgent'))
      urgentTickets++;
    else if (e.type === 'session_started') {
      if (at >= d14) recent++;
      else if (at >= d42) before++;
    }
  }
  if (!active) return undefined;
  const tenureDays = (asOfMs - signupMs) / DAY_MS;
  const usual = before / 2; // sessions per 14 days in the 4 weeks before
  const band = (strong: boolean) => (strong ? 'high' : 'medium');
  const paymentTrouble = failed > 0 && !recovered;
  const supportTrouble = urgentTickets > 0 || lowSurvey;
  const priceTrouble = downgraded || tooExpensive;
  const usageDrop = usual >= 3 && recent <= 0.15 * usual;
  // Long-standing (6 months), high-value (pro and up) with any signal get the loyalty reward first (as the product's playbooks).
  if (tenureDays >= 180 && mrr >= 9_900 && (paymentTrouble || supportTrouble || priceTrouble || usageDrop))
    return { playbook: 'loyalty_reward', band: 'high', strength: 5 };
  if (failed > 0 && !recovered) return { playbook: 'payment_recovery', band: band(failed >= 2), strength: 3 + failed };
  if (urgentTickets > 0 || lowSurvey) return { playbook: 'support_escalation', band: band(urgentTickets > 1), strength: 2 + urgentTickets };
  if (downgraded || tooExpensive) return { playbook: 'offer', band: band(downgraded && tooExpensive), strength: 2 };
  if (usageDrop) {
    const drop = 1 - recent / usual;
    return { playbook: tenureDays < 90 ? 'onboarding_education' : 're_engagement', band: band(drop > 0.8), strength: 1 + drop };
  }
  return undefined;
}
