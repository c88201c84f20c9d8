import type { FeatureMatrix } from '../model/features/matrix.ts';
import { choosePlaybook, type Playbook } from '../model/outreach/playbooks.ts';
import type { ScoredCustomer } from '../model/scoring.ts';
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
  /** Riskiest first. */
  customers: Scored[];
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
    const customers = scoreWithPlaybooks(model, matrix).sort((a, b) => b.risk - a.risk);
    return { asOf, modelVersion: model.version, question, threshold: model.threshold, customers };
  } finally {
    model.dispose();
  }
}
