import { z } from 'zod';
import type { ChurnKindRules } from '../analytics/churnByMonth.ts';
import { type CustomerExit, customerExits } from '../analytics/exits.ts';
import {
  avoidableReasons,
  EXIT_REASON_CODES,
  type ExitReasonCode,
  ExitReasonMapping,
  exitReason,
  type WinBackOffer,
} from '../events/exitReasons.ts';
import type { ChurnEvent } from '../events/schemas.ts';
import { formatIssues } from '../validation.ts';

/** The after-exit step's settings (job config; zod-validated at every boundary that sets them). */
export const AfterExitConfig = z
  .object({
    /** Win-back window after a cancellation, in days: not before `windowMinDays` (let it settle), not after `windowMaxDays`. */
    windowMinDays: z.number().int().nonnegative().default(7),
    windowMaxDays: z.number().int().positive().default(60),
    /** The P(return) label: reactivated within this many days of the cancellation. */
    returnHorizonDays: z.number().int().positive().default(60),
    /** The user's edits of which exit reasons are avoidable. */
    exitReasons: ExitReasonMapping,
  })
  .strict()
  .refine((c) => c.windowMinDays <= c.windowMaxDays, { message: 'windowMinDays must not exceed windowMaxDays', path: ['windowMinDays'] });
export type AfterExitConfig = z.output<typeof AfterExitConfig>;
export const DEFAULT_AFTER_EXIT_CONFIG: AfterExitConfig = AfterExitConfig.parse({});

/**
 * Reads the after-exit settings from JSON (the CLI's `--after-exit`), naming what is wrong.
 *
 * @example parseAfterExitConfig('{"windowMaxDays":45,"exitReasons":{"other":"avoidable"}}')
 */
export function parseAfterExitConfig(json: string): AfterExitConfig {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`after-exit settings are not JSON: ${(error as Error).message}`);
  }
  const parsed = AfterExitConfig.safeParse(value);
  if (!parsed.success) throw new Error(`after-exit settings: ${formatIssues(parsed.error, '(settings)')}`);
  return parsed.data;
}

/**
 * The stated prior of P(return within the horizon | a win-back offer that fits the reason), used
 * until a reason has enough history. Conservative guesses from retention practice: failed payments
 * come back most (the offer fixes the cause), then price, support, a missing feature, a competitor.
 */
export const RETURN_PRIOR: Record<ExitReasonCode, number> = {
  price: 0.15,
  missing_feature: 0.1,
  competitor: 0.05,
  no_longer_needed: 0.02,
  support_experience: 0.12,
  payment_failure: 0.25,
  other: 0.03,
};
/**
 * The rule: a reason with fewer than this many labelled past cancellations (cancelled at least the
 * horizon before asOf, so their label is known) uses the prior alone. From then on, its observed
 * return rate, shrunk towards the prior by PRIOR_WEIGHT pseudo-cancellations (a Beta prior).
 */
export const MIN_REASON_HISTORY = 30;
export const PRIOR_WEIGHT = 10;

/** P(return) per reason, point-in-time: only past cancellations whose label is known at asOf. */
export interface ReturnModel {
  byReason: Record<ExitReasonCode, { pReturn: number; labelled: number; returned: number; source: 'prior' | 'history' }>;
}

/** Collects the labelled past cancellations (cancelled ≥ horizon days before asOf) and their outcome. */
export class ReturnModelTrainer {
  readonly #counts = Object.fromEntries(EXIT_REASON_CODES.map((code) => [code, { labelled: 0, returned: 0 }])) as Record<
    ExitReasonCode,
    { labelled: number; returned: number }
  >;
  constructor(
    private readonly asOfMs: number,
    private readonly horizonDays: number,
  ) {}

  addExit(exit: CustomerExit): void {
    const horizonMs = this.horizonDays * DAY_MS;
    if (!exit.cancelled || !exit.reason || exit.endedAtMs + horizonMs > this.asOfMs) return;
    const counts = this.#counts[exit.reason];
    counts.labelled++;
    if (exit.returnedAtMs !== undefined && exit.returnedAtMs - exit.endedAtMs <= horizonMs) counts.returned++;
  }

  model(): ReturnModel {
    const byReason = {} as ReturnModel['byReason'];
    for (const code of EXIT_REASON_CODES) {
      const { labelled, returned } = this.#counts[code];
      const prior = RETURN_PRIOR[code];
      byReason[code] =
        labelled < MIN_REASON_HISTORY
          ? { pReturn: prior, labelled, returned, source: 'prior' }
          : { pReturn: (returned + PRIOR_WEIGHT * prior) / (labelled + PRIOR_WEIGHT), labelled, returned, source: 'history' };
    }
    return { byReason };
  }
}

const DAY_MS = 86_400_000;

/** A customer the after-exit step may contact. */
export interface AfterExitCandidate {
  customerId: string;
  kind: 'exit_survey' | 'win_back';
  cancelledAt: string;
  daysSinceCancel: number;
  mrrCents: number | null;
  tenureDays: number;
  reason?: ExitReasonCode;
  offer?: WinBackOffer;
  offerText?: string;
  /** Win-back: P(return) × MRR, cents per month; exit survey: the MRR (what learning the reason is about). */
  expectedValueCents: number;
  pReturn?: number;
}

/** What the after-exit step reads of one customer's history at asOf. */
export interface CustomerAfterExit {
  /** Every exit before asOf (the P(return) model's rows). */
  exits: CustomerExit[];
  /** The candidate from the customer's latest cancellation, when they are still gone. */
  candidate?: Omit<AfterExitCandidate, 'expectedValueCents' | 'pReturn'>;
}

/**
 * Reads a customer's latest exit at asOf:
 * - still gone after a cancellation without a known reason (within windowMaxDays) → an exit survey;
 * - still gone after a cancellation for an avoidable reason, inside the window → a win-back;
 * - back (reactivated), gone for an unavoidable reason, or gone by inactivity only → nothing.
 * Whether they were already asked or offered is the ledger's question (app/afterExit.ts).
 */
export function afterExitOf(
  customerId: string,
  events: readonly ChurnEvent[],
  asOf: string,
  config: AfterExitConfig,
  rules: ChurnKindRules,
  avoidable: ReadonlySet<ExitReasonCode> = avoidableReasons(config.exitReasons),
): CustomerAfterExit {
  const asOfMs = Date.parse(asOf);
  const exits = customerExits(events, asOfMs, rules);
  const latest = exits.at(-1);
  if (!latest?.cancelled || latest.returnedAtMs !== undefined) return { exits };
  // returnedAtMs: a later tenure started (a reactivation, or renewed activity): they are back.
  const daysSinceCancel = (asOfMs - latest.endedAtMs) / DAY_MS;
  if (daysSinceCancel > config.windowMaxDays) return { exits };
  const base = {
    customerId,
    cancelledAt: new Date(latest.endedAtMs).toISOString(),
    daysSinceCancel,
    mrrCents: latest.mrrCents,
    tenureDays: latest.tenureDays,
  };
  if (!latest.reason) return { exits, candidate: { ...base, kind: 'exit_survey' } };
  if (!avoidable.has(latest.reason) || daysSinceCancel < config.windowMinDays) return { exits };
  const { offer, offerText } = exitReason(latest.reason);
  return { exits, candidate: { ...base, kind: 'win_back', reason: latest.reason, offer, offerText } };
}

/**
 * Ranks the candidates: win-backs by expected value P(return) × MRR (unknown MRR counts as
 * `unknownMrrValueCents`), highest first, then exit surveys by MRR; ties by customer id.
 */
export function rankAfterExit(
  candidates: ReadonlyArray<NonNullable<CustomerAfterExit['candidate']>>,
  model: ReturnModel,
  unknownMrrValueCents = 1,
): AfterExitCandidate[] {
  const value = (mrr: number | null) => (mrr !== null && Number.isFinite(mrr) && mrr >= 0 ? mrr : unknownMrrValueCents);
  const ranked = candidates.map((c): AfterExitCandidate => {
    if (c.kind === 'exit_survey' || !c.reason) return { ...c, expectedValueCents: value(c.mrrCents) };
    const pReturn = model.byReason[c.reason].pReturn;
    return { ...c, pReturn, expectedValueCents: pReturn * value(c.mrrCents) };
  });
  const kindOrder = (c: AfterExitCandidate) => (c.kind === 'win_back' ? 0 : 1);
  return ranked.sort(
    (a, b) =>
      kindOrder(a) - kindOrder(b) ||
      b.expectedValueCents - a.expectedValueCents ||
      (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0),
  );
}
