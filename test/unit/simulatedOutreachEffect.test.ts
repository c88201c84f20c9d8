import { describe, expect, it } from 'vitest';
import { resolveSelections } from '../../app/outreachEffect.ts';
import type { OutreachRecord } from '../../app/ports.ts';
import { estimateOutreachEffect, type OutreachEffectReport, type PlaybookEffect } from '../../model/analytics/outreachEffect.ts';
import {
  simulateCustomer,
  simulateCustomers,
  simulatedCustomerIndex,
  TRUE_PLAYBOOK_EFFECTS,
  type Treatment,
} from '../../model/simulate/index.ts';
import { type ExperimentResult, runOutreachExperiment } from '../../model/simulate/outreachExperiment.ts';
import { ruleSelector } from '../helpers/ruleSelector.ts';

/**
 * The simulator knows the truth: each playbook prevents a share of the churn it targets, and the
 * experiment (held-out control, contacted customers' lives simulated again with the outreach)
 * lets the effect estimator be judged against it, on several seeds.
 */

const DAY_MS = 86_400_000;
const END = '2026-06-30';
const HORIZON_DAYS = 30;
const simulation = (seed: number) => ({ customers: 4000, days: 90, seed, end: END });
/** Weekly runs from 11 to 5 weeks before the end: every horizon has passed by the end. */
const RUNS = [77, 70, 63, 56, 49, 42, 35].map((d) => new Date(Date.parse(END) - d * DAY_MS).toISOString());

/** The experiment of one seed, measured as the job measures the ledger: records → outcomes from events → estimates. */
async function measured(seed: number): Promise<{ experiment: ExperimentResult; report: OutreachEffectReport }> {
  const experiment = await runOutreachExperiment({
    simulation: simulation(seed),
    runs: RUNS,
    horizonDays: HORIZON_DAYS,
    cooldownDays: 14,
    // Half held out: the most precise split for a given number of selections (the product's default is 10%).
    controlShare: 0.5,
    budget: 10_000,
    select: ruleSelector,
  });
  const asOf = new Date(Date.parse(END)).toISOString();
  const resolved = experiment.selections.flatMap((s) => {
    const record: OutreachRecord = {
      customerId: s.customerId,
      runId: s.runId,
      dedupId: `${s.runId}:${s.customerId}`,
      status: s.arm === 'control' ? 'control' : 'delivered',
      claimAt: s.claimAt,
      playbook: s.playbook,
    };
    const customer = experiment.customers[simulatedCustomerIndex(s.customerId)];
    return resolveSelections([record], customer?.events ?? [], { asOf, horizonDays: HORIZON_DAYS, rules: { inactivityDays: 30 } });
  });
  return { experiment, report: estimateOutreachEffect(resolved, { asOf, horizonDays: HORIZON_DAYS, trueUplift: experiment.trueUplift }) };
}

const covers = (effect: PlaybookEffect | undefined, value: number) =>
  effect?.interval !== null && effect?.interval !== undefined && effect.interval[0] <= value && value <= effect.interval[1];

describe('simulated outreach: treatment as the simulator’s truth', () => {
  it('leaves a customer as they were until the outreach, and a playbook with no true effect changes nothing', () => {
    const options = simulation(5);
    const treatmentDay = Math.floor(Date.parse('2026-05-15') / DAY_MS);
    const at = (playbook: Treatment['playbook']) => () => [{ day: treatmentDay, playbook }];
    const cutoff = new Date(treatmentDay * DAY_MS).toISOString();
    for (let i = 0; i < 60; i++) {
      const untreated = simulateCustomer(options, i);
      const loyalty = simulateCustomer(options, i, at('loyalty_reward'));
      const recovery = simulateCustomer(options, i, at('payment_recovery'));
      expect(loyalty.events).toEqual(untreated.events);
      expect(recovery.events.filter((e) => e.occurredAt < cutoff)).toEqual(untreated.events.filter((e) => e.occurredAt < cutoff));
    }
    expect([...simulateCustomers({ ...options, customers: 3 })].map((c) => c.events)).toEqual(
      [0, 1, 2].map((i) => simulateCustomer(options, i).events),
    );
  });

  it('payment recovery saves about its true share of the involuntary churners it reaches', () => {
    // Prepare: every customer who churns involuntarily, contacted the day after their first failed payment
    const options = { customers: 4000, days: 90, seed: 9, end: END };
    let reached = 0;
    let saved = 0;
    for (const [i, untreated] of [...simulateCustomers(options)].entries()) {
      if (untreated.truth.cause !== 'involuntary') continue;
      const firstFailure = untreated.events.find((e) => e.type === 'payment_failed' && e.occurredAt >= '2026-04-01');
      if (!firstFailure) continue;
      const day = Math.floor(Date.parse(firstFailure.occurredAt) / DAY_MS) + 1;
      if (!(Date.parse(untreated.truth.churnedAt ?? '') > day * DAY_MS)) continue;
      // Act
      const treated = simulateCustomer(options, i, () => [{ day, playbook: 'payment_recovery' }]);
      reached++;
      if (treated.truth.treatments?.[0]?.saved) {
        saved++;
        expect(treated.truth.churnedAt === null || Date.parse(treated.truth.churnedAt) > Date.parse(untreated.truth.churnedAt ?? '')).toBe(
          true,
        );
      } else expect(treated.truth.churnedAt).toBe(untreated.truth.churnedAt);
    }
    // Assess: 60% ± 4 standard errors
    const share = TRUE_PLAYBOOK_EFFECTS.payment_recovery.share;
    expect(reached).toBeGreaterThan(40);
    expect(Math.abs(saved / reached - share)).toBeLessThan(4 * Math.sqrt((share * (1 - share)) / reached));
  });
});

describe('the effect estimate against the simulator’s true effect, over seeds', () => {
  // Seeds 2^20 apart: deriveSeed(seed, i) mixes seed ^ (i + k), so seeds that differ in low bits only
  // (1, 2, 3…) simulate largely the same customers under other numbers; these give disjoint populations.
  const SEEDS = [0, 1, 2, 3, 4, 5].map((k) => k * 1_048_576 + 7);

  it('the 95% interval of the two largest playbooks contains the true uplift in most seeds, and that of loyalty rewards (no effect) contains 0', async () => {
    const coverage: Record<'largest' | 'second' | 'loyaltyZero', number> = { largest: 0, second: 0, loyaltyZero: 0 };
    const rows: string[] = [];
    for (const seed of SEEDS) {
      const { experiment, report } = await measured(seed);
      const [largest, second] = report.playbooks;
      const loyalty = report.playbooks.find((p) => p.playbook === 'loyalty_reward');
      expect(largest?.shown && second?.shown).toBe(true);
      expect(experiment.trueUplift.loyalty_reward).toBe(0);
      expect(experiment.trueUplift.payment_recovery).toBeGreaterThan(0.1);
      if (covers(largest, largest?.trueUplift ?? Number.NaN)) coverage.largest++;
      if (covers(second, second?.trueUplift ?? Number.NaN)) coverage.second++;
      if (covers(loyalty, 0)) coverage.loyaltyZero++;
      rows.push(
        `seed ${seed}: ${[largest, second, loyalty]
          .map(
            (p) =>
              `${p?.playbook} ${p?.uplift?.toFixed(3)} [${p?.interval?.map((x) => x.toFixed(3)).join(', ')}] true ${p?.trueUplift?.toFixed(3)}`,
          )
          .join('; ')}`,
      );
    }
    console.log(`${rows.join('\n')}\ncoverage of ${SEEDS.length} seeds: ${JSON.stringify(coverage)}`);
    expect(coverage.largest).toBeGreaterThanOrEqual(SEEDS.length - 1);
    expect(coverage.second).toBeGreaterThanOrEqual(SEEDS.length - 1);
    expect(coverage.loyaltyZero).toBeGreaterThanOrEqual(SEEDS.length - 1);
  }, 600_000);
});
