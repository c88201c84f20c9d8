import type { ExitReasonCode } from '../events/exitReasons.ts';
import type { ChurnEvent } from '../events/schemas.ts';
import type { ChurnCause, PlanName } from './catalog.ts';
import type { Treatment, TreatmentTruth } from './treatment.ts';

/** What really happened to one simulated customer: the answer key a model is judged against. */
export interface CustomerTruth {
  customerId: string;
  signedUpAt: string;
  plan: PlanName;
  mrrCents: number;
  churned: boolean;
  cause: ChurnCause | null;
  churnedAt: string | null;
  /** The true reason the customer left (null while they stay), and whether the cancellation stated it. */
  exitReason: ExitReasonCode | null;
  exitReasonRecorded: boolean;
  /**
   * A churn process under way when the window ends: what a model scoring at the end should
   * notice. `churnsAt` is null for a false alarm (signals, then recovery); it may lie after the end.
   */
  atEnd: { cause: ChurnCause; startedAt: string; churnsAt: string | null } | null;
  /** The outreach the customer received in the simulation, and whether each saved them (absent when none). */
  treatments?: TreatmentTruth[];
}

export interface SimulatedCustomer {
  /** The customer's events, sorted by occurredAt. */
  events: ChurnEvent[];
  truth: CustomerTruth;
}

/** Where one customer sits in the simulated window (days since the Unix epoch). */
export interface CustomerFrame {
  customerId: string;
  signupDay: number;
  /** First simulated day of the window; existing customers are simulated from a warm-up before it. */
  startDay: number;
  endDay: number;
  /** Outreach the customer receives during the simulation (the demo's runs decide it). */
  treatments?: readonly Treatment[];
  /** Seed of the treatments' draws (see outreachSaves). */
  treatmentSeed?: number;
}
