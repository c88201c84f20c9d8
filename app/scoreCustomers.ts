import type { FeatureMatrix } from '../model/features/matrix.ts';
import { prAuc, rocAuc } from '../model/nn/metrics.ts';
import { assignBands, type BandGuide, bandReason } from '../model/outreach/bands.ts';
import { choosePlaybook, type Playbook } from '../model/outreach/playbooks.ts';
import type { RiskBand, ScoredCustomer } from '../model/scoring.ts';
import { resolveAsOf } from './asOf.ts';
import { type ChurnQuestion, describeQuestion, scoringQuestion } from './modelDefinition.ts';
import type { JobDependencies, ScoringModel } from './ports.ts';

/** A scored customer with the playbook their drivers call for. */
export type Scored = ScoredCustomer & { playbook: Playbook };

/** Scores every row of `matrix` with `model` and picks each customer's playbook. */
export function scoreWithPlaybooks(model: ScoringModel, matrix: FeatureMatrix): Scored[] {
  if (matrix.customerIds.length === 0) return [];
  return model.score(matrix).map((customer) => ({ ...customer, playbook: choosePlaybook(customer) }));
}

export interface ScoreRequest {
  /** Default: just after the latest stored event (see app/asOf.ts). */
  asOf?: string | undefined;
}

export interface ScoreResult {
  asOf: string;
  modelVersion: string;
  /** The churn definition and horizon the customers were scored by: the model's own. */
  question: ChurnQuestion;
  threshold: number;
  /** Customers the outreach budget reaches (the day's budget): the size of the high band at most. */
  reach: number;
  /** What each band means, how many customers it holds, and how much riskier than average they are. */
  bands: BandGuide[];
  /** Riskiest first, each with why they are in their band. */
  customers: Array<Scored & { bandReason: string }>;
  /**
   * When the as-of lies a horizon or more before the data's end, what happened is known: how
   * well the risks ranked the customers who churned (a backtest), and each band's actual churn rate.
   */
  outcomes?: Outcomes;
}

export interface Outcomes {
  customers: number;
  churners: number;
  rocAuc: number;
  prAuc: number;
  /** Churn rate in each band, and its lift over the whole base's. */
  bands: Array<{ band: RiskBand; customers: number; churned: number; rate: number; lift: number }>;
}

/** What happened after the as-of, against the risks: undefined while some outcome is unknown. */
function observedOutcomes(labels: Int8Array, scored: readonly ScoredCustomer[]): Outcomes | undefined {
  if (labels.length === 0 || labels.some((l) => l < 0)) return undefined;
  const churners = labels.reduce((n, l) => n + l, 0);
  const base = churners / labels.length;
  const bands = (['high', 'medium', 'low'] as const).map((band) => {
    const rows = scored.flatMap((c, r) => (c.band === band ? [labels[r] as number] : []));
    const churned = rows.reduce((n, l) => n + l, 0);
    const rate = rows.length === 0 ? 0 : churned / rows.length;
    return { band, customers: rows.length, churned, rate, lift: base > 0 ? rate / base : 0 };
  });
  const risk = scored.map((c) => c.risk);
  return { customers: labels.length, churners, rocAuc: rocAuc(labels, risk), prAuc: prAuc(labels, risk), bands };
}

/**
 * `churnguard score`: the champion scores every active customer at the as-of, read-only (no RISK
 * items, no outreach: that is the job's `score` mode, which scores the same way). Who is active,
 * and what the risk means, follow the champion's own churn definition and horizon.
 *
 * @throws Error when there is no champion yet, or when a requested definition conflicts with the champion's
 */
export async function scoreCustomers(request: ScoreRequest, deps: JobDependencies): Promise<ScoreResult> {
  const { asOf } = await resolveAsOf(request.asOf, deps, (message) => deps.log(message));
  const model = await deps.registry.loadChampion();
  if (!model) throw new Error('no champion model yet: run `churnguard train` first');
  try {
    const question = scoringQuestion(model, deps.config);
    const matrix = await deps.buildScoringMatrix(deps.histories({ totalSegments: deps.config.totalSegments }), asOf, question);
    deps.log(`scoring ${matrix.customerIds.length} active customers as of ${asOf} with ${model.version} (${describeQuestion(question)})`);
    const reach = deps.config.maxMessages;
    const banded = assignBands(scoreWithPlaybooks(model, matrix), {
      threshold: model.threshold,
      reach,
      unknownMrrValueCents: deps.config.unknownMrrValueCents,
    });
    const outcomes = observedOutcomes(matrix.labels, banded.customers);
    const customers = banded.customers
      .map((c) => ({ ...c, bandReason: bandReason(c.band, c.risk, model.threshold, banded.rankOf.get(c.customerId), reach) }))
      .sort((a, b) => b.risk - a.risk);
    return {
      asOf,
      modelVersion: model.version,
      question,
      threshold: model.threshold,
      reach,
      bands: banded.guide,
      customers,
      ...(outcomes ? { outcomes } : {}),
    };
  } finally {
    model.dispose();
  }
}
