import type { FeatureMatrix } from '../model/features/matrix.ts';
import { resolveAsOf } from './asOf.ts';
import type { JobDependencies } from './ports.ts';

/**
 * `churnguard features`: every active customer's point-in-time features at the as-of (default:
 * just after the latest stored event), with labels where the horizon after it is observed. The
 * same matrix the job's scoring step builds.
 */
export async function featuresAt(
  request: { asOf?: string | undefined },
  deps: JobDependencies,
): Promise<{ asOf: string; matrix: FeatureMatrix }> {
  const { asOf } = await resolveAsOf(request.asOf, deps, (message) => deps.log(message));
  const matrix = await deps.buildScoringMatrix(deps.histories({ totalSegments: deps.config.totalSegments }), asOf);
  return { asOf, matrix };
}
