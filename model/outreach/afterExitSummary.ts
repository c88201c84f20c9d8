import { z } from 'zod';

/** What one after-exit step did, and the win-back funnel it sees (part of the run summary). */
export const AfterExitSummary = z.object({
  /** The step's settings, so the report states them. */
  windowMinDays: z.number().int(),
  windowMaxDays: z.number().int(),
  returnHorizonDays: z.number().int(),
  exitSurveys: z.object({
    /** Cancelled without a known reason and never asked. */
    candidates: z.number().int(),
    sent: z.number().int(),
  }),
  winBack: z.object({
    /** Gone for an avoidable reason, inside the window, never offered for this cancellation. */
    candidates: z.number().int(),
    /** Candidates held out as the control group (recorded, not contacted, compared against). */
    heldOut: z.number().int(),
    selected: z.number().int(),
    sent: z.number().int(),
    byReason: z.record(z.string(), z.number().int()),
  }),
  /** Candidates already asked or offered for the same cancellation by an earlier run. */
  alreadyContacted: z.number().int(),
  skippedCooldown: z.number().int(),
  skippedBudget: z.number().int(),
  failed: z.number().int(),
  /**
   * The win-back funnel over the last `returnHorizonDays`: win-back messages claimed in that span
   * (contacted), and those customers who came back after it (reactivated); held out: this run's
   * win-back candidates held out as the control group; control and controlReactivated: the control
   * records of the same span, and those of them who came back anyway (older summaries lack them).
   */
  funnel: z.object({
    selected: z.number().int(),
    contacted: z.number().int(),
    reactivated: z.number().int(),
    heldOut: z.number().int(),
    control: z.number().int().optional(),
    controlReactivated: z.number().int().optional(),
  }),
  /** P(return) per reason: the rate used, how many labelled past cancellations, and whether it is the prior. */
  returnModel: z.record(
    z.string(),
    z.object({ pReturn: z.number(), labelled: z.number().int(), returned: z.number().int(), source: z.enum(['prior', 'history']) }),
  ),
});
export type AfterExitSummary = z.output<typeof AfterExitSummary>;
