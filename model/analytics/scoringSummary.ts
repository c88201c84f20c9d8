import type { RiskBand } from '../scoring.ts';

export interface ScoringSummary {
  customersScored: number;
  bands: Record<RiskBand, number>;
  expectedMrrAtRiskCents: number;
  riskHistogram: Array<{ from: number; to: number; count: number }>;
}

/**
 * The scoring summary, one customer at a time (a fan-out run reads its scores back from the table
 * without holding them all): band counts, Σ risk × MRR (customers with unknown MRR add nothing),
 * and a risk histogram of `bins` equal bins over [0, 1].
 */
export class ScoringSummaryAccumulator {
  readonly #bands: Record<RiskBand, number> = { high: 0, medium: 0, low: 0 };
  readonly #counts: number[];
  #expected = 0;
  #customers = 0;

  constructor(private readonly bins = 20) {
    this.#counts = new Array<number>(bins).fill(0);
  }

  add(customer: { risk: number; band: RiskBand; mrrCents: number | null }): void {
    this.#customers++;
    this.#bands[customer.band]++;
    if (customer.mrrCents !== null && Number.isFinite(customer.mrrCents)) this.#expected += customer.risk * customer.mrrCents;
    this.#counts[Math.min(this.bins - 1, Math.max(0, Math.floor(customer.risk * this.bins)))]!++;
  }

  result(): ScoringSummary {
    return {
      customersScored: this.#customers,
      bands: { ...this.#bands },
      expectedMrrAtRiskCents: this.#expected,
      riskHistogram: this.#counts.map((count, i) => ({ from: i / this.bins, to: (i + 1) / this.bins, count })),
    };
  }
}

/** Band counts, Σ risk × MRR (customers with unknown MRR add nothing), and a 20-bin risk histogram. */
export function summariseScores(
  scored: ReadonlyArray<{ risk: number; band: RiskBand; mrrCents: number | null }>,
  bins = 20,
): ScoringSummary {
  const accumulator = new ScoringSummaryAccumulator(bins);
  for (const customer of scored) accumulator.add(customer);
  return accumulator.result();
}
