import type { RiskBand, ScoredCustomer } from '../scoring.ts';
import { rankForOutreach, type SelectionOptions } from './selection.ts';

/**
 * Bands that guide action. A band says whom to call first, not only how risky a customer is:
 * - `high`: at or above the model's cost threshold (outreach is expected to pay for itself) AND
 *   among the customers the outreach budget reaches, ranked by expected loss (risk × MRR): call
 *   these first;
 * - `medium`: at or above the threshold, beyond what the budget reaches: next in line;
 * - `low`: below the threshold: outreach is expected to cost more than the loss it prevents.
 * On a base where most customers are above the threshold (a purchase log, where most one-time
 * buyers never come back), "high" still names the few a team can reach.
 */

export interface BandPolicy<C extends ScoredCustomer = ScoredCustomer> extends SelectionOptions<C> {
  /** How many customers the outreach budget reaches: the daily budget of messages. */
  reach: number;
}

/** One band of a scored base: how many, what it means, and how much riskier than average it is. */
export interface BandGuide {
  band: RiskBand;
  customers: number;
  /** What the band means, with the run's threshold and budget in it. */
  meaning: string;
  /** Mean calibrated risk: the churn rate the model expects in the band. */
  meanRisk: number;
  /** meanRisk ÷ the mean risk of all scored customers (1 = average). */
  lift: number;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const describeThreshold = (threshold: number | undefined) =>
  threshold === undefined ? 'the cost threshold' : `the cost threshold (risk ${threshold.toFixed(3)})`;

/** What each band means under a threshold and a budget reach, in words. */
export function bandMeanings(threshold: number | undefined, reach: number): Record<RiskBand, string> {
  const t = describeThreshold(threshold);
  return {
    high: `at or above ${t} and within the ${reach} highest expected losses (risk × MRR) the outreach budget reaches: contact first`,
    medium: `at or above ${t} but beyond what the budget of ${reach} reaches: next in line`,
    low: `below ${t}: outreach is expected to cost more than the loss it prevents`,
  };
}

/** Why one customer is in their band: the band's rule with the customer's risk and rank in it. */
export function bandReason(band: RiskBand, risk: number, threshold: number, rank: number | undefined, reach: number): string {
  if (band === 'low') return `risk ${pct(risk)} is below the cost threshold ${pct(threshold)}`;
  const rankText = `rank ${rank} by expected loss`;
  return band === 'high'
    ? `risk ${pct(risk)} ≥ the cost threshold ${pct(threshold)}, and ${rankText} is within the budget's reach of ${reach}`
    : `risk ${pct(risk)} ≥ the cost threshold ${pct(threshold)}, but ${rankText} is beyond the budget's reach of ${reach}`;
}

/**
 * Bands every scored customer by the policy above. Returns the customers in their input order
 * with `band` set, each one's rank by expected loss among those above the threshold (undefined
 * below it), and the guide to the three bands.
 */
export function assignBands<C extends ScoredCustomer>(
  scored: readonly C[],
  policy: BandPolicy<C>,
): { customers: C[]; rankOf: Map<string, number>; guide: BandGuide[] } {
  const { ranked } = rankForOutreach(scored, policy);
  const rankOf = new Map(ranked.map((r, i) => [r.customer.customerId, i + 1]));
  const bandOf = (c: C): RiskBand => {
    const rank = rankOf.get(c.customerId);
    if (rank === undefined) return 'low';
    return rank <= policy.reach ? 'high' : 'medium';
  };
  const customers = scored.map((c) => ({ ...c, band: bandOf(c) }));
  const thresholds = new Set(scored.map((c) => (typeof policy.threshold === 'number' ? policy.threshold : policy.threshold(c))));
  const meanings = bandMeanings(thresholds.size === 1 ? [...thresholds][0] : undefined, policy.reach);
  const overall = customers.reduce((s, c) => s + c.risk, 0) / Math.max(1, customers.length);
  const guide = (['high', 'medium', 'low'] as const).map((band): BandGuide => {
    const members = customers.filter((c) => c.band === band);
    const meanRisk = members.length === 0 ? 0 : members.reduce((s, c) => s + c.risk, 0) / members.length;
    return { band, customers: members.length, meaning: meanings[band], meanRisk, lift: overall > 0 ? meanRisk / overall : 0 };
  });
  return { customers, rankOf, guide };
}
