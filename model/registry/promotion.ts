import type { FeatureMatrix } from '../features/matrix.ts';
import { ChurnModel, type ModelArtifacts } from '../nn/churnModel.ts';
import type { ModelMetrics } from '../nn/metricSchemas.ts';
import { rocAuc } from '../nn/metrics.ts';
import { IncompatibleFeaturesError } from '../nn/preprocessing.ts';

/** What a registered model is: the churn network, or the logistic-regression baseline. */
export type ModelKind = 'mlp' | 'logistic';

/** Which model of a training run becomes champion (if any), and why. */
export interface Verdict {
  winner: ModelKind | undefined;
  reason: string;
  /** The MLP's own decision when its baseline won. */
  mlpReason?: string;
}

/** A training run's candidates, as the promotion policy weighs them. */
export interface PromotionCandidates {
  mlp: { version: string; model: Pick<ChurnModel, 'predict'>; metrics: ModelMetrics };
  /** Validation metrics of the logistic baseline trained in the same run. */
  baselineMetrics: ModelMetrics;
  /** The calibrated baseline as artifacts, promotable in the MLP's place (a look-alike result in tests may lack it). */
  baseline?: ModelArtifacts | undefined;
  /** The labelled validation rows both were measured on: the champion is scored on them too. */
  validation: FeatureMatrix;
}

/** The current champion: its version and a way to load it (it may fail to load: then it loses). */
export interface CurrentChampion {
  version: string;
  load(): Promise<ChurnModel>;
}

const auc = (n: number) => n.toFixed(4);

/**
 * The champion/challenger policy. The MLP is promoted when it beats its logistic baseline
 * (validation ROC AUC, strictly) and the current champion scored on the SAME validation rows.
 * When it does not beat its baseline, the baseline is promoted if there is no champion yet, or
 * if it beats the champion on the same rows (a retention team never gets an empty queue because
 * the network lost to logistic regression); otherwise nothing changes. When the champion cannot
 * score the rows (its feature columns are gone) the stored validation metrics are compared, and
 * the reason says so; a champion that cannot be loaded at all (corrupted) loses.
 *
 * @example
 * const verdict = await decidePromotion({ mlp, baselineMetrics, baseline, validation }, pointer && { version: pointer.version, load: () => registry.load(pointer.version) });
 */
export async function decidePromotion(candidates: PromotionCandidates, champion: CurrentChampion | undefined): Promise<Verdict> {
  const { mlp, baseline, baselineMetrics } = candidates;
  if (mlp.metrics.rocAuc > baselineMetrics.rocAuc) {
    const beatsBaseline = `beats the logistic baseline (ROC AUC ${auc(mlp.metrics.rocAuc)} vs ${auc(baselineMetrics.rocAuc)})`;
    if (!champion) return { winner: 'mlp', reason: `promoted: first model; ${beatsBaseline}` };
    if (champion.version === mlp.version) return { winner: 'mlp', reason: `already champion; ${beatsBaseline}` };
    const versus = await versusChampion(champion, mlp.model, candidates.validation, mlp.metrics.rocAuc);
    return versus.wins
      ? { winner: 'mlp', reason: `promoted: ${versus.compared}; ${beatsBaseline}` }
      : { winner: undefined, reason: `rejected challenger: ${versus.compared}` };
  }
  const rejectedMlp = `rejected: validation ROC AUC ${auc(mlp.metrics.rocAuc)} does not beat the logistic baseline's ${auc(baselineMetrics.rocAuc)}`;
  if (!baseline) return { winner: undefined, reason: rejectedMlp };
  const baselineVersion = baseline.metadata.version;
  const lost = `MLP ${mlp.version} ROC AUC ${auc(mlp.metrics.rocAuc)} did not beat baseline ${auc(baselineMetrics.rocAuc)}`;
  const promoted = (why: string): Verdict => ({
    winner: 'logistic',
    reason: `baseline promoted: ${lost}; ${why}`,
    mlpReason: `${rejectedMlp}; its baseline ${baselineVersion} was promoted instead`,
  });
  if (!champion) return promoted('no champion yet');
  if (champion.version === baselineVersion)
    return { ...promoted('already champion'), reason: `already champion; baseline promoted: ${lost}` };
  const candidate = await ChurnModel.fromArtifacts(baseline);
  try {
    const versus = await versusChampion(champion, candidate, candidates.validation, baselineMetrics.rocAuc);
    return versus.wins
      ? promoted(versus.compared)
      : { winner: undefined, reason: `${rejectedMlp}; the baseline does not replace the champion either: ${versus.compared}` };
  } finally {
    candidate.dispose();
  }
}

/**
 * Scores the champion and `candidate` on the SAME validation rows. When the champion cannot
 * score them (its feature columns are gone) the stored validation metrics are compared; a
 * champion that cannot be loaded (corrupted) loses.
 */
async function versusChampion(
  current: CurrentChampion,
  candidate: Pick<ChurnModel, 'predict'>,
  validation: FeatureMatrix,
  candidateStoredAuc: number,
): Promise<{ wins: boolean; compared: string }> {
  let champion: ChurnModel;
  try {
    champion = await current.load();
  } catch (error) {
    return { wins: true, compared: `the current champion ${current.version} cannot be loaded (${(error as Error).message})` };
  }
  try {
    const labels = validation.labels;
    const candidateAuc = rocAuc(labels, candidate.predict(validation));
    const championAuc = rocAuc(labels, champion.predict(validation));
    return {
      wins: candidateAuc > championAuc,
      compared: `ROC AUC ${auc(candidateAuc)} vs champion ${current.version} ${auc(championAuc)} on the same ${labels.length} validation rows`,
    };
  } catch (error) {
    if (!(error instanceof IncompatibleFeaturesError)) throw error;
    const championAuc = champion.metadata.metrics.rocAuc;
    return {
      wins: candidateStoredAuc > championAuc,
      compared: `the champion ${current.version} cannot score the new validation rows (${error.message}), so compared on stored validation metrics: ROC AUC ${auc(candidateStoredAuc)} vs ${auc(championAuc)}`,
    };
  } finally {
    champion.dispose();
  }
}
