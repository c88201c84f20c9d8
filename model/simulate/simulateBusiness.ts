import { z } from 'zod';
import { EVENT_LIMITS } from '../events/limits.ts';
import type { ChurnEvent } from '../events/schemas.ts';
import { RATES } from './catalog.ts';
import { CustomerSimulation, DAY_MS } from './customer.ts';
import { deriveSeed, Random } from './random.ts';
import type { Treatment } from './treatment.ts';
import type { CustomerTruth, SimulatedCustomer } from './types.ts';

/** Bumped whenever the same options would simulate a different business (stored demo data is then stale). */
export const SIMULATOR_VERSION = 5;

/** The default end of the simulated window: fixed, so a seed gives the same data on any day. */
export const DEFAULT_SIMULATION_END = '2026-06-30';

const dayOf = (what: string) =>
  z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), `${what} must be a date (YYYY-MM-DD) or an ISO 8601 instant`)
    .transform((s) => Math.floor(Date.parse(s) / DAY_MS));

/** Options of a simulation. The window is `[end − days, end)`, or `[start, start + days)` when `start` is given. */
const FIRST_DAY = Math.ceil(Date.parse(EVENT_LIMITS.minTimestamp) / DAY_MS);
const LAST_DAY = Math.floor(Date.parse(EVENT_LIMITS.maxTimestamp) / DAY_MS);

export const SimulationOptions = z
  .object({
    customers: z.number().int().min(1, 'customers must be at least 1').max(1_000_000, 'customers must be at most 1,000,000').default(2000),
    days: z.number().int().min(14, 'days must be at least 14').max(3650, 'days must be at most 3650').default(180),
    seed: z.number().int('seed must be a whole number').default(42),
    start: dayOf('start').optional(),
    end: dayOf('end').prefault(DEFAULT_SIMULATION_END),
  })
  .refine(
    (o) => {
      const start = o.start ?? o.end - o.days;
      return start > FIRST_DAY && start + o.days <= LAST_DAY;
    },
    {
      message: `the window must lie between ${EVENT_LIMITS.minTimestamp.slice(0, 10)} and ${EVENT_LIMITS.maxTimestamp.slice(0, 10)}, the event contract's range`,
      path: ['end'],
    },
  );
export type SimulationOptions = z.input<typeof SimulationOptions>;

export interface SimulationWindow {
  /**
   * First instant of the window (ISO). Customers who already subscribe have their sign-up (and
   * profile) before it, and their activity from a warm-up of 8 weeks before it, so the window
   * opens in a steady state.
   */
  start: string;
  /** End of the window, exclusive (ISO): the natural `asOf` for training and scoring. */
  end: string;
}

export interface SimulatedBusiness {
  window: SimulationWindow;
  /** Every customer's events, customer after customer, each customer's sorted by occurredAt. */
  events: ChurnEvent[];
  truth: CustomerTruth[];
}

interface ResolvedWindow {
  startDay: number;
  endDay: number;
}

function resolve(options: SimulationOptions): { customers: number; days: number; seed: number; window: ResolvedWindow } {
  const o = SimulationOptions.parse(options);
  const startDay = o.start ?? o.end - o.days;
  return { customers: o.customers, days: o.days, seed: o.seed, window: { startDay, endDay: startDay + o.days } };
}

/** The window a set of options simulates. */
export function simulationWindow(options: SimulationOptions): SimulationWindow {
  const { window } = resolve(options);
  return { start: new Date(window.startDay * DAY_MS).toISOString(), end: new Date(window.endDay * DAY_MS).toISOString() };
}

/** Outreach per customer id: what the simulated retention team did (undefined: nothing). */
export type TreatmentsOf = (customerId: string) => readonly Treatment[] | undefined;

/**
 * Simulates customers one at a time, so 50,000 customers (about 10 million events) stream in
 * constant memory. Customer `i` depends only on (seed, i) and the outreach they receive: the
 * output is the same whether it is collected, streamed or cut short.
 */
export function* simulateCustomers(options: SimulationOptions, treatmentsOf?: TreatmentsOf): Generator<SimulatedCustomer> {
  const resolved = resolve(options);
  for (let i = 0; i < resolved.customers; i++) yield customerAt(resolved, i, treatmentsOf);
}

/**
 * Customer `index` (0-based) of a simulation, with the outreach `treatmentsOf` gives them: the
 * same customer as in `simulateCustomers` until their first outreach, then their life with it.
 */
export function simulateCustomer(options: SimulationOptions, index: number, treatmentsOf?: TreatmentsOf): SimulatedCustomer {
  const resolved = resolve(options);
  if (!(Number.isInteger(index) && index >= 0 && index < resolved.customers))
    throw new Error(`customer index must be 0 to ${resolved.customers - 1}, got ${index}`);
  return customerAt(resolved, index, treatmentsOf);
}

/** The index of a simulated customer id (`cus-00042` → 41). */
export const simulatedCustomerIndex = (customerId: string): number => Number(customerId.slice(customerId.lastIndexOf('-') + 1)) - 1;

function customerAt(resolved: ReturnType<typeof resolve>, i: number, treatmentsOf?: TreatmentsOf): SimulatedCustomer {
  const { customers, days, seed, window } = resolved;
  const width = Math.max(5, String(customers).length);
  const customerSeed = deriveSeed(seed, i);
  const rng = new Random(customerSeed);
  const existing = rng.chance(RATES.existingShare);
  // Existing customers signed up over the previous years, recent ones more often; new ones
  // arrive through the window, a little faster towards its end (the business grows).
  const signupDay = existing
    ? Math.max(FIRST_DAY, window.startDay - 1 - Math.min(RATES.maxPriorTenureDays, Math.floor(-Math.log(1 - rng.next()) * 300)))
    : window.startDay + Math.min(days - 1, Math.floor(rng.next() ** 0.8 * days));
  const customerId = `cus-${String(i + 1).padStart(width, '0')}`;
  const treatments = treatmentsOf?.(customerId);
  return new CustomerSimulation(rng, {
    customerId,
    signupDay,
    startDay: window.startDay,
    endDay: window.endDay,
    ...(treatments?.length ? { treatments, treatmentSeed: customerSeed } : {}),
  }).run();
}

/**
 * Simulates a subscription business whose customers leave for the reasons retention teams see:
 * unfixed failed payments and expiring cards (involuntary), decaying usage (passive), downgrades
 * and price (voluntary), unresolved tickets and poor surveys (support); loyalty grows with tenure.
 * Each churn is preceded by weeks of signals, and a third of the signal patterns are false alarms.
 * Deterministic for a seed.
 *
 * @example
 * const { events, truth, window } = simulateBusiness({ customers: 500, days: 120, seed: 7 });
 */
export function simulateBusiness(options: SimulationOptions = {}): SimulatedBusiness {
  const events: ChurnEvent[] = [];
  const truth: CustomerTruth[] = [];
  for (const customer of simulateCustomers(options)) {
    for (const event of customer.events) events.push(event);
    truth.push(customer.truth);
  }
  return { window: simulationWindow(options), events, truth };
}

/** Monthly churn (churned ÷ customers at the month's start) per calendar month of the window. */
export function monthlyChurnRates(truth: readonly CustomerTruth[], window: SimulationWindow): Array<{ month: string; rate: number }> {
  const months: Array<{ month: string; rate: number }> = [];
  const end = Date.parse(window.end);
  let cursor = new Date(window.start);
  cursor = new Date(Date.UTC(cursor.getUTCFullYear(), cursor.getUTCMonth(), 1));
  while (cursor.getTime() < end) {
    const from = cursor.getTime();
    const to = Date.UTC(cursor.getUTCFullYear(), cursor.getUTCMonth() + 1, 1);
    // Whole months only: a partial month would understate its churn.
    if (from >= Date.parse(window.start) && to <= end) {
      const atStart = truth.filter((t) => Date.parse(t.signedUpAt) < from && (t.churnedAt === null || Date.parse(t.churnedAt) >= from));
      const lost = atStart.filter((t) => t.churnedAt !== null && Date.parse(t.churnedAt) < to).length;
      months.push({ month: cursor.toISOString().slice(0, 7), rate: atStart.length === 0 ? 0 : lost / atStart.length });
    }
    cursor = new Date(to);
  }
  return months;
}
