import { z } from 'zod';
import { avoidableReasons, EXIT_REASON_CODES, type ExitReasonCode, type ExitReasonMapping } from '../events/exitReasons.ts';
import { type ChurnKindRules, type HistoryLike, MonthlyChurnAccumulator } from './churnByMonth.ts';
import { customerExits } from './exits.ts';

/** One month of churn split by why customers left. */
export const MonthlyChurnByReason = z.object({
  /** `YYYY-MM` */
  month: z.string(),
  customersAtStart: z.number().int(),
  /** Customers lost in the month (every kind): the headline churn rate's numerator. */
  lost: z.number().int(),
  /** The standard churn rate: lost ÷ customersAtStart (0 when nobody was there at the start). */
  churnRate: z.number(),
  /** Lost for an avoidable reason, for an unavoidable one, and with no known reason. */
  avoidable: z.number().int(),
  unavoidable: z.number().int(),
  unknown: z.number().int(),
  avoidableRate: z.number(),
  unavoidableRate: z.number(),
  /** Lost per reason code, and `unknown`. */
  byReason: z.record(z.string(), z.number().int()),
});
export type MonthlyChurnByReason = z.output<typeof MonthlyChurnByReason>;

const monthOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7);

type ReasonCounts = Record<ExitReasonCode | 'unknown', number>;
const zeroCounts = (): ReasonCounts => Object.fromEntries([...EXIT_REASON_CODES, 'unknown'].map((code) => [code, 0])) as ReasonCounts;

/**
 * Monthly churn split into avoidable, unavoidable and unknown, and by reason, from the same
 * customer stream as the run's other analytics. The customers at a month's start and the lost
 * come from MonthlyChurnAccumulator, so the rates here add up to the headline churn rate:
 * churnRate = avoidableRate + unavoidableRate + unknown ÷ customersAtStart.
 */
export class ChurnByReasonAccumulator {
  readonly #totals: MonthlyChurnAccumulator;
  readonly #asOfMs: number;
  readonly #rules: ChurnKindRules;
  readonly #avoidable: ReadonlySet<ExitReasonCode>;
  readonly #byMonth = new Map<string, ReasonCounts>();

  constructor(options: { asOf: string; exitReasons?: ExitReasonMapping } & ChurnKindRules) {
    this.#totals = new MonthlyChurnAccumulator(options);
    this.#asOfMs = Date.parse(options.asOf);
    this.#rules = {
      inactivityDays: options.inactivityDays,
      ...(options.passiveInactivityDays === undefined ? {} : { passiveInactivityDays: options.passiveInactivityDays }),
    };
    this.#avoidable = avoidableReasons(options.exitReasons ?? {});
  }

  add(history: HistoryLike): void {
    this.#totals.add(history);
    for (const exit of customerExits(history.events, this.#asOfMs, this.#rules)) {
      const month = monthOf(exit.endedAtMs);
      const counts = this.#byMonth.get(month) ?? zeroCounts();
      counts[exit.reason ?? 'unknown']++;
      this.#byMonth.set(month, counts);
    }
  }

  result(): MonthlyChurnByReason[] {
    return this.#totals.result().map((row) => {
      const byReason = this.#byMonth.get(row.month) ?? zeroCounts();
      let avoidable = 0;
      let unavoidable = 0;
      for (const code of EXIT_REASON_CODES) {
        if (this.#avoidable.has(code)) avoidable += byReason[code];
        else unavoidable += byReason[code];
      }
      const lost = row.voluntary + row.involuntary + row.passive;
      const rate = (n: number) => (row.customersAtStart > 0 ? n / row.customersAtStart : 0);
      return {
        month: row.month,
        customersAtStart: row.customersAtStart,
        lost,
        churnRate: row.churnRate,
        avoidable,
        unavoidable,
        unknown: byReason.unknown,
        avoidableRate: rate(avoidable),
        unavoidableRate: rate(unavoidable),
        byReason: { ...byReason },
      };
    });
  }
}
