import { featureDistribution } from '../model/monitoring/drift.ts';
import { selectRows } from '../model/nn/rows.ts';
import type { RunSummary } from '../model/runSummary.ts';
import type { Datasets, JobDependencies, TrainingRequest, TrainOutcome } from './ports.ts';
import type { TrainingTimings } from './timings.ts';

/** The training section of a run summary. */
export type Training = NonNullable<RunSummary['training']>;

/**
 * Trains on the datasets and registers the result (champion or challenger), then stores the
 * training distribution for later drift checks. The same code serves `churnguard train`,
 * `churnguard run --mode train` and the scheduled job, so the same data and settings give the
 * same model version, metrics, fingerprint and stored distribution.
 *
 * A run that already trained these matrices with these settings (a retried or resumed run: its
 * summary has the same fingerprint) reuses its decision instead of training again.
 *
 * @example const training = await trainAndRegister(datasets, 'train-2026-06-30', deps);
 */
export async function trainAndRegister(
  datasets: Datasets,
  runId: string,
  deps: JobDependencies,
  featuresPass: Pick<TrainingTimings, 'scanMs' | 'featuresMs'> = { scanMs: 0, featuresMs: 0 },
): Promise<Training> {
  const request = trainingRequest(deps, datasets.cutoffs.scoring);
  const fingerprint = deps.fingerprint(datasets.train, datasets.validation, request);
  const previous = (await deps.runs.getSummary(runId))?.training;
  if (previous && previous.dataFingerprint === fingerprint) {
    deps.log('run already trained on this data: reusing its model decision', { runId, candidateVersion: previous.candidateVersion });
    return previous;
  }
  const result = await deps.train(datasets.train, datasets.validation, request);
  try {
    const registryStarted = performance.now();
    const cutoffs = [...datasets.cutoffs.training].sort();
    const fittedThrough = result.model.metadata?.trainingWindow?.fittedThrough;
    const decision = await deps.registry.register(withComparisonColumns(result, datasets), {
      trainingWindow: {
        from: cutoffs[0] ?? datasets.cutoffs.validation,
        to: datasets.cutoffs.validation,
        cutoffs: [...cutoffs, datasets.cutoffs.validation],
        horizonDays: deps.config.horizonDays,
        churn: deps.config.churn,
        ...(fittedThrough ? { fittedThrough } : {}),
      },
    });
    await deps.runs.putTrainingDistribution(decision.version, featureDistribution(datasets.train));
    if (decision.challengerVersion)
      await deps.runs.putTrainingDistribution(decision.challengerVersion, featureDistribution(datasets.train));
    const timings: TrainingTimings = {
      ...featuresPass,
      fitMs: result.timings?.fitMs ?? result.trainingMs,
      calibrationMs: result.timings ? result.timings.preprocessingMs + result.timings.calibrationMs : 0,
      registryMs: performance.now() - registryStarted,
    };
    deps.log('model registered', { runId, ...decision });
    return {
      candidateVersion: decision.version,
      promoted: decision.promoted,
      reason: decision.reason,
      kind: decision.kind,
      ...(decision.challengerVersion ? { challengerVersion: decision.challengerVersion } : {}),
      dataFingerprint: fingerprint,
      backend: result.backend,
      trainingMs: Math.round(result.trainingMs),
      timings: {
        scanMs: Math.round(timings.scanMs),
        featuresMs: Math.round(timings.featuresMs),
        fitMs: Math.round(timings.fitMs),
        calibrationMs: Math.round(timings.calibrationMs),
        registryMs: Math.round(timings.registryMs),
      },
      cutoffs: { training: cutoffs, validation: datasets.cutoffs.validation },
      model: result.metrics,
      baseline: result.baselineMetrics,
      gains: result.gains,
      calibration: result.calibration,
    };
  } finally {
    result.model.dispose();
  }
}

/**
 * The result as the registry weighs it: its comparison rows with every column the data offers, so
 * a champion trained on columns this run dropped (constant now, or over the generated budget)
 * can still be scored on the same rows.
 */
function withComparisonColumns(result: TrainOutcome, datasets: Datasets): TrainOutcome {
  if (!result.validation || !datasets.comparison) return result;
  const wanted = new Set(result.validation.customerIds);
  const rows = datasets.comparison.customerIds.flatMap((id, r) => (wanted.has(id) ? [r] : []));
  return { ...result, validation: selectRows(datasets.comparison, rows) };
}

/** The training settings of a run from its configuration. */
export const trainingRequest = (deps: Pick<JobDependencies, 'config'>, asOf: string): TrainingRequest => ({
  seed: deps.config.seed,
  costLostCustomer: deps.config.costLostCustomer,
  costIntervention: deps.config.costIntervention,
  asOf,
});
