import type { HistoryLike } from '../model/analytics/churnByMonth.ts';
import { ChurnByReasonAccumulator, type MonthlyChurnByReason } from '../model/analytics/churnByReason.ts';
import { type ChurnBySegment, ChurnBySegmentAccumulator } from '../model/analytics/churnBySegment.ts';
import type { AfterExitConfig } from '../model/outreach/winBack.ts';

/** The run's churn by exit reason and by segment, fed by the same scan as its other analytics. */
export class ExitAnalytics {
  readonly #byReason: ChurnByReasonAccumulator;
  readonly #bySegment: ChurnBySegmentAccumulator;

  constructor(asOf: string, inactivityDays: number, config?: AfterExitConfig) {
    this.#byReason = new ChurnByReasonAccumulator({ asOf, inactivityDays, exitReasons: config?.exitReasons ?? {} });
    this.#bySegment = new ChurnBySegmentAccumulator({ asOf, inactivityDays });
  }

  add(history: HistoryLike): void {
    this.#byReason.add(history);
    this.#bySegment.add(history);
  }

  result(): { churnByReason: MonthlyChurnByReason[]; churnBySegment: ChurnBySegment } {
    return { churnByReason: this.#byReason.result(), churnBySegment: this.#bySegment.result() };
  }
}
