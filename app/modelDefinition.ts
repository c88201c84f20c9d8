import { type ChurnDefinition, formatChurnDefinition } from '../model/features/churnDefinition.ts';
import type { JobConfig } from './jobConfig.ts';
import type { ScoringModel } from './ports.ts';

/** What a model predicts: churn by its definition, within its horizon. */
export interface ChurnQuestion {
  horizonDays: number;
  churn: ChurnDefinition;
}

const sameChurn = (a: ChurnDefinition, b: ChurnDefinition) => formatChurnDefinition(a) === formatChurnDefinition(b);
export const describeQuestion = (q: ChurnQuestion) => `churn ${formatChurnDefinition(q.churn)} within ${q.horizonDays} days`;

/** The question a model was trained to answer, when its training window records it (older models do not). */
export function questionOf(model: ScoringModel): Partial<ChurnQuestion> {
  const window = model.metadata?.trainingWindow;
  return {
    ...(window?.horizonDays !== undefined ? { horizonDays: window.horizonDays } : {}),
    ...(window?.churn !== undefined ? { churn: window.churn } : {}),
  };
}

/**
 * The churn definition and horizon a model scores with: its own, as it was trained (who counts
 * as active, and what its risk means, follow from them). Older models that do not record them
 * use the configured ones. A flag given explicitly (`config.requested`) that disagrees with the
 * model is an error that names the model's definition: scoring a 90-day "inactive" model as if
 * churn meant "cancelled" would score the wrong customers and misread every risk.
 *
 * @throws Error naming the model's definition and the conflicting flag
 * @example scoringQuestion(champion, deps.config) // { horizonDays: 90, churn: { kind: 'inactive', days: 90 } }
 */
export function scoringQuestion(model: ScoringModel, config: Pick<JobConfig, 'horizonDays' | 'churn' | 'requested'>): ChurnQuestion {
  const own = questionOf(model);
  const question: ChurnQuestion = { horizonDays: own.horizonDays ?? config.horizonDays, churn: own.churn ?? config.churn };
  const requested = config.requested ?? {};
  const conflicts = [
    ...(requested.churn !== undefined && own.churn !== undefined && !sameChurn(requested.churn, own.churn)
      ? [`--churn ${formatChurnDefinition(requested.churn)}`]
      : []),
    ...(requested.horizonDays !== undefined && own.horizonDays !== undefined && requested.horizonDays !== own.horizonDays
      ? [`--horizon ${requested.horizonDays}d`]
      : []),
  ];
  if (conflicts.length > 0) {
    throw new Error(
      `model ${model.version} predicts ${describeQuestion(question)} (--churn ${formatChurnDefinition(question.churn)} --horizon ${question.horizonDays}d); ${conflicts.join(' and ')} conflicts with it: leave the flag out to score with the model's definition, or train a model with it`,
    );
  }
  return question;
}

/** Whether two questions are the same (a scoring matrix built for one serves the other). */
export const sameQuestion = (a: ChurnQuestion, b: ChurnQuestion): boolean => a.horizonDays === b.horizonDays && sameChurn(a.churn, b.churn);
