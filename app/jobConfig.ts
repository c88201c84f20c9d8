import { type ChurnDefinition, DEFAULT_CHURN } from '../model/features/churnDefinition.ts';
import { DEFAULT_CONTROL_SHARE } from '../model/outreach/controlGroup.ts';
import { DEFAULT_PAYMENT_RECOVERY_DELAY_HOURS } from '../model/outreach/dunning.ts';
import { DEFAULT_COOLDOWN_DAYS } from '../model/outreach/selection.ts';
import type { AfterExitConfig } from '../model/outreach/winBack.ts';
import { DEFAULT_RECONCILE } from './reconcile.ts';

/** The knobs of a run: the environment in AWS (lambdas/train-score/config.ts), flags locally. */
export interface JobConfig {
  /** Outreach messages per day (UTC day of asOf), shared by every run of that day. */
  maxMessages: number;
  cooldownDays: number;
  /**
   * Share of the selected customers held out as the control group, stratified by playbook × band
   * (0 turns it off). Older callers leave it out: the default then applies.
   */
  controlShare?: number;
  costLostCustomer: number;
  costIntervention: number;
  /** Value of a customer with unknown MRR when ranking by expected loss (cents). */
  unknownMrrValueCents: number;
  /** Days without activity that count as passive churn in the analytics. */
  passiveInactivityDays: number;
  /** Scan segments read in parallel by a whole-table run. */
  totalSegments: number;
  /** How many at-risk customers the summary lists. */
  topAtRisk: number;
  /** How far ahead churn is predicted, in days (the label's horizon). */
  horizonDays: number;
  /** What counts as churn. */
  churn: ChurnDefinition;
  /** Seed of training: the same data, settings and seed give the same model and version. */
  seed: number;
  /** Reconcile at the start of a run: re-send an open outreach this long after its last send (ms). */
  resendAfterMs: number;
  /** Reconcile: sends of one outreach at most, then it is marked failed. */
  maxSends: number;
  /**
   * payment_recovery waits at least this many hours after a failed payment, besides waiting for the
   * retry the processor announced (model/outreach/dunning.ts).
   */
  paymentRecoveryDelayHours: number;
  /**
   * The horizon and churn definition the user asked for explicitly (CLI flags). Training uses
   * `horizonDays` and `churn`; scoring uses the champion's own, and refuses a request that
   * disagrees with it (app/modelDefinition.ts).
   */
  requested?: { horizonDays?: number | undefined; churn?: ChurnDefinition | undefined };
  /** The after-exit step: win-back window, P(return) horizon, avoidable mapping (default DEFAULT_AFTER_EXIT_CONFIG). */
  afterExit?: AfterExitConfig;
}

export const DEFAULT_JOB_CONFIG: JobConfig = {
  maxMessages: 100,
  cooldownDays: DEFAULT_COOLDOWN_DAYS,
  controlShare: DEFAULT_CONTROL_SHARE,
  costLostCustomer: 500,
  costIntervention: 50,
  unknownMrrValueCents: 1,
  passiveInactivityDays: 30,
  totalSegments: 4,
  topAtRisk: 20,
  horizonDays: 30,
  churn: DEFAULT_CHURN,
  seed: 42,
  resendAfterMs: DEFAULT_RECONCILE.resendAfterMs,
  maxSends: DEFAULT_RECONCILE.maxSends,
  paymentRecoveryDelayHours: DEFAULT_PAYMENT_RECOVERY_DELAY_HOURS,
};
