import type { FeatureMatrix } from '../features/matrix.ts';
import { fnv1a } from '../hash.ts';
import { fitPlatt, type PlattCalibration } from './calibration.ts';
import { denseOf, targets } from './fitting.ts';
import { type Architecture, buildNetwork, fitNetwork, predictLogits } from './network.ts';
import { fitPreprocessing, type Preprocessing, type PreprocessingOptions } from './preprocessing.ts';
import { classCounts, labelledRows, selectRows } from './rows.ts';

/**
 * The final fit: after the settings (epochs) were chosen and the model validated on the newest
 * labelled cutoff, the model that scores learns from EVERY labelled cutoff, the newest included.
 * The newest rows are the closest to the customers it will score (on a purchase log of one
 * cohort, the only rows whose customers are as old as those scored).
 *
 * Calibration stays honest: the customers of a fixed share, chosen by a hash of their id, are
 * held out of the final fit at every cutoff, and the calibration is fitted on their rows at the
 * newest cutoff. The share does not depend on the run (seed, as-of), so a champion trained last
 * week held out the same customers: the registry compares candidate and champion on them, rows
 * neither learnt from.
 */

/** One customer in CALIBRATION_SHARE_DENOMINATOR is held out of the final fit (20%). */
const CALIBRATION_SHARE_DENOMINATOR = 5;
/** Below this many churners or stayers among the held-out customers, there is no final fit: calibration would be noise. */
export const MIN_CALIBRATION_CLASS_ROWS = 20;

/** Whether a customer is held out of every final fit, for calibration and champion comparisons. */
export const isHeldOutCustomer = (customerId: string): boolean => fnv1a(`calibration:${customerId}`) % CALIBRATION_SHARE_DENOMINATOR === 0;

/** Rows of `matrix` whose customer is (or is not) held out. */
export function heldOutRows(matrix: FeatureMatrix, heldOut: boolean): FeatureMatrix {
  const rows: number[] = [];
  matrix.customerIds.forEach((id, r) => {
    if (isHeldOutCustomer(id) === heldOut) rows.push(r);
  });
  return selectRows(matrix, rows);
}

/** Training and validation rows (same columns) as one matrix: every labelled cutoff. */
export function everyLabelledRow(train: FeatureMatrix, validation: FeatureMatrix): FeatureMatrix {
  const parts = [train, validation];
  const numeric = new Float64Array(parts.reduce((n, m) => n + m.numeric.length, 0));
  const categorical = new Int32Array(parts.reduce((n, m) => n + m.categorical.length, 0));
  numeric.set(train.numeric, 0);
  numeric.set(validation.numeric, train.numeric.length);
  categorical.set(train.categorical, 0);
  categorical.set(validation.categorical, train.categorical.length);
  const all: FeatureMatrix = {
    ...validation,
    customerIds: [...train.customerIds, ...validation.customerIds],
    numeric,
    categorical,
    labels: Int8Array.from([...train.labels, ...validation.labels]),
    mrrCents: Float64Array.from([...train.mrrCents, ...validation.mrrCents]),
  };
  return selectRows(all, labelledRows(all));
}

/** What the final fit learns from and is calibrated on, or why there is none. */
export type FinalFitPlan = { fit: FeatureMatrix; calibration: FeatureMatrix } | { skipped: string };

/**
 * The rows of the final fit (every labelled row of the customers not held out) and of its
 * calibration (the held-out customers' validation rows), or the reason there is none.
 */
export function planFinalFit(train: FeatureMatrix, validation: FeatureMatrix): FinalFitPlan {
  const calibration = heldOutRows(validation, true);
  const { positives, negatives } = classCounts(calibration.labels);
  if (positives < MIN_CALIBRATION_CLASS_ROWS || negatives < MIN_CALIBRATION_CLASS_ROWS) {
    return {
      skipped: `the held-out customers have ${positives} churners and ${negatives} stayers at the validation cutoff, fewer than ${MIN_CALIBRATION_CLASS_ROWS} of each to calibrate on`,
    };
  }
  const fit = heldOutRows(everyLabelledRow(train, validation), false);
  const fitted = classCounts(fit.labels);
  if (fitted.positives === 0 || fitted.negatives === 0) return { skipped: 'the final fit rows lack churners or stayers' };
  return { fit, calibration };
}

export interface FinalNetwork {
  network: ReturnType<typeof buildNetwork>;
  preprocessing: Preprocessing;
  calibration: PlattCalibration;
  fittedRows: number;
  fittedPositives: number;
}

/**
 * Fits a fresh network (same seed) on `plan.fit` for `epochs` (the count early stopping chose),
 * with preprocessing fitted on those rows, and calibrates it on `plan.calibration`.
 */
export async function fitFinal(
  architecture: Architecture,
  plan: { fit: FeatureMatrix; calibration: FeatureMatrix },
  epochs: number,
  preprocessingOptions: PreprocessingOptions,
  seed: number,
  log: (message: string) => void,
): Promise<FinalNetwork> {
  const preprocessing = fitPreprocessing(plan.fit, preprocessingOptions);
  const network = buildNetwork(preprocessing.inputs.length, architecture, seed);
  try {
    const x = denseOf(preprocessing, plan.fit);
    await fitNetwork(
      network,
      { x, ...targets(plan.fit.labels) },
      undefined,
      { ...architecture, maxEpochs: Math.max(1, epochs) },
      seed,
      log,
    );
    const logits = predictLogits(network, denseOf(preprocessing, plan.calibration));
    return {
      network,
      preprocessing,
      calibration: fitPlatt(plan.calibration.labels, logits),
      fittedRows: plan.fit.customerIds.length,
      fittedPositives: classCounts(plan.fit.labels).positives,
    };
  } catch (error) {
    network.dispose();
    throw error;
  }
}
