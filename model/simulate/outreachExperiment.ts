import type { ChurnEvent } from '../events/schemas.ts';
import { assignControl, type OutreachArm, playbookBandStratum } from '../outreach/controlGroup.ts';
import type { Playbook } from '../outreach/playbooks.ts';
import { DAY_MS } from './customer.ts';
import { type SimulationOptions, simulateCustomer, simulateCustomers, simulatedCustomerIndex } from './simulateBusiness.ts';
import type { Treatment } from './treatment.ts';
import type { SimulatedCustomer } from './types.ts';

/** A customer a run would contact, best first, with the stratum the control group is drawn from. */
export interface ExperimentCandidate {
  customerId: string;
  playbook: Playbook;
  band: string;
}

/** A customer's events before a run's as-of: all a selector may read. */
export interface HistoryBefore {
  customerId: string;
  events: readonly ChurnEvent[];
}

export interface ExperimentOptions {
  simulation: SimulationOptions;
  /** The runs' as-of instants (ISO, midnight UTC), in any order. */
  runs: readonly string[];
  horizonDays: number;
  cooldownDays: number;
  controlShare: number;
  /** Treated customers per run at most (the budget). */
  budget: number;
  /** Chooses and ranks the candidates of a run from the customers' events before its as-of. */
  select: (histories: readonly HistoryBefore[], asOf: string) => ExperimentCandidate[] | Promise<ExperimentCandidate[]>;
}

/** One selection of one run: the unit the effect is measured on. */
export interface ExperimentSelection {
  customerId: string;
  runId: string;
  claimAt: string;
  playbook: Playbook;
  arm: OutreachArm;
  /** Churned within the horizon without this outreach (0/1), and with it: the simulator's counterfactual pair. */
  churnWithout: 0 | 1;
  churnWith: 0 | 1;
}

export interface ExperimentResult {
  selections: ExperimentSelection[];
  /** Every customer as finally simulated, with the outreach they received. */
  customers: SimulatedCustomer[];
  /** Per playbook and `all`: the mean over selections of churnWithout − churnWith, the uplift an unbiased estimate targets. */
  trueUplift: Record<string, number>;
}

const dayOf = (iso: string) => Math.floor(Date.parse(iso) / DAY_MS);

/** Churned on a day in [start, start + horizon): the cancellations a resolved outcome counts. */
const churnedWithin = (customer: SimulatedCustomer, startDay: number, horizonDays: number): 0 | 1 => {
  const at = customer.truth.churnedAt;
  if (at === null) return 0;
  const day = dayOf(at);
  return day >= startDay && day < startDay + horizonDays ? 1 : 0;
};

function eventsBefore(events: readonly ChurnEvent[], asOf: string): ChurnEvent[] {
  let end = events.length;
  while (end > 0 && (events[end - 1] as ChurnEvent).occurredAt >= asOf) end--;
  return events.slice(0, end);
}

/**
 * The retention team's experiment, run inside the simulation: at each run's as-of the selector
 * picks and ranks customers from their events so far; a seeded share is held out per playbook ×
 * band (the control group, `assignControl`); the rest, up to the budget, are contacted, and the
 * contacted customers' lives are simulated again from that day with the outreach's true effect
 * (later runs see the changed lives). Both groups then sit out the cooldown. For every selection
 * the simulator also knows the counterfactual: the same customer with this outreach toggled, all
 * else equal, which gives the true uplift the measured one is judged against. Deterministic.
 */
export async function runOutreachExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const customers = [...simulateCustomers(options.simulation)];
  const treatments = new Map<string, Treatment[]>();
  const treatmentsOf = (customerId: string) => treatments.get(customerId);
  const lastSelectedDay = new Map<string, number>();
  const selections: Omit<ExperimentSelection, 'churnWithout' | 'churnWith'>[] = [];
  for (const asOf of [...options.runs].sort()) {
    const day = dayOf(asOf);
    const runId = `sim-${asOf.slice(0, 10)}`;
    const histories = customers.map((c) => ({ customerId: c.truth.customerId, events: eventsBefore(c.events, asOf) }));
    const candidates = (await options.select(histories, asOf)).filter(
      (c) => !(day - (lastSelectedDay.get(c.customerId) ?? Number.NEGATIVE_INFINITY) < options.cooldownDays),
    );
    const control = assignControl(candidates, {
      share: options.controlShare,
      seed: runId,
      stratum: playbookBandStratum,
      id: (c) => c.customerId,
    });
    let treated = 0;
    for (const candidate of candidates) {
      if (treated >= options.budget) break;
      const arm: OutreachArm = control.has(candidate.customerId) ? 'control' : 'treated';
      selections.push({
        customerId: candidate.customerId,
        runId,
        claimAt: new Date(day * DAY_MS).toISOString(),
        playbook: candidate.playbook,
        arm,
      });
      lastSelectedDay.set(candidate.customerId, day);
      if (arm === 'control') continue;
      treated++;
      const list = treatments.get(candidate.customerId) ?? treatments.set(candidate.customerId, []).get(candidate.customerId)!;
      list.push({ day, playbook: candidate.playbook });
      const index = simulatedCustomerIndex(candidate.customerId);
      customers[index] = simulateCustomer(options.simulation, index, treatmentsOf);
    }
  }
  const withPair = selections.map((s) => {
    const index = simulatedCustomerIndex(s.customerId);
    const actual = customers[index] as SimulatedCustomer;
    const day = dayOf(s.claimAt);
    const own = treatments.get(s.customerId) ?? [];
    // The other world: this outreach removed (treated) or added (control), every other one kept.
    const toggled =
      s.arm === 'treated' ? own.filter((t) => t.day !== day) : [...own, { day, playbook: s.playbook }].sort((a, b) => a.day - b.day);
    const other = simulateCustomer(options.simulation, index, () => toggled);
    const [treatedWorld, untreatedWorld] = s.arm === 'treated' ? [actual, other] : [other, actual];
    return {
      ...s,
      churnWithout: churnedWithin(untreatedWorld, day, options.horizonDays),
      churnWith: churnedWithin(treatedWorld, day, options.horizonDays),
    };
  });
  return { selections: withPair, customers, trueUplift: trueUplift(withPair) };
}

function trueUplift(selections: readonly ExperimentSelection[]): Record<string, number> {
  const sums = new Map<string, { n: number; saved: number }>();
  for (const s of selections) {
    for (const key of [s.playbook, 'all']) {
      const sum = sums.get(key) ?? sums.set(key, { n: 0, saved: 0 }).get(key)!;
      sum.n++;
      sum.saved += s.churnWithout - s.churnWith;
    }
  }
  return Object.fromEntries([...sums].map(([key, { n, saved }]) => [key, saved / n]));
}
