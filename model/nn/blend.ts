import * as tf from '@tensorflow/tfjs';
import type { FeatureMatrix } from '../features/matrix.ts';
import { fitPlatt, type PlattCalibration } from './calibration.ts';
import { denseOf } from './fitting.ts';
import { rocAuc } from './metrics.ts';
import { type Architecture, buildNetwork, predictLogits } from './network.ts';
import type { Preprocessing } from './preprocessing.ts';

/**
 * Shares of the logistic baseline tried in the scoring network's logit: (1 − s)·MLP + s·baseline.
 * Both are trained anyway, and where the MLP and the baseline are level (Telco, simulated
 * businesses) their blend ranks better than either, while on Orange a small share still helps.
 */
export const BASELINE_SHARES = [0, 0.25, 0.5, 0.75] as const;

/** (1 − share)·mlp + share·baseline, row by row. */
export function blendedLogits(mlp: Float64Array, baseline: Float64Array, share: number): Float64Array {
  return mlp.map((z, i) => (1 - share) * z + share * (baseline[i] as number));
}

/**
 * The share of `BASELINE_SHARES` whose blend has the highest validation ROC AUC; on a tie the
 * smaller share (the MLP alone at 0).
 */
export function chooseBaselineShare(
  labels: ArrayLike<number>,
  mlp: Float64Array,
  baseline: Float64Array,
): { share: number; rocAuc: number } {
  let best = { share: 0, rocAuc: rocAuc(labels, mlp) };
  for (const share of BASELINE_SHARES.slice(1)) {
    const auc = rocAuc(labels, blendedLogits(mlp, baseline, share));
    if (auc > best.rocAuc + 1e-12) best = { share, rocAuc: auc };
  }
  return best;
}

/** The layers of tower `t` (1-based) of a network built by `buildNetwork`. */
const towerLayer = (model: tf.LayersModel, t: number, name: string) => model.getLayer(`t${t}_${name}`);

/** Towers of a network built by `buildNetwork`. */
const towerCount = (model: tf.LayersModel): number => model.layers.filter((layer) => /^t\d+_wide_logit$/.test(layer.name)).length;

function setScaled(layer: tf.layers.Layer, weights: tf.Tensor[], scale: number): void {
  const scaled = weights.map((w) => tf.mul(w, scale));
  layer.setWeights(scaled);
  tf.dispose(scaled);
}

/**
 * One network computing (1 − share)·mlp + share·baseline: the MLP's T towers and one more tower
 * holding the baseline's linear logit (its hidden units all zero). The network averages its T + 1
 * towers, so the MLP's towers are scaled by (T + 1)(1 − share)/T at their output layers (ReLU
 * layers are unchanged) and the baseline's by (T + 1)·share. The same saved format, scoring path
 * and drivers as any MLP: DeepLIFT attributions still add up to the logit difference.
 */
export function blendNetworks(mlp: tf.LayersModel, architecture: Architecture, baseline: tf.LayersModel, share: number): tf.LayersModel {
  const towers = towerCount(mlp);
  const baselineTowers = towerCount(baseline);
  if (architecture.hidden.length === 0) throw new Error('blendNetworks blends an MLP with its logistic baseline');
  const width = (towerLayer(mlp, 1, 'wide_logit').getWeights()[0] as tf.Tensor).shape[0] as number;
  const blended = buildNetwork(width, { ...architecture, ensemble: towers + 1 }, 0);
  const mlpScale = ((towers + 1) * (1 - share)) / towers;
  for (let t = 1; t <= towers; t++) {
    architecture.hidden.forEach((_, i) => {
      const name = `hidden_${i + 1}`;
      towerLayer(blended, t, name).setWeights(towerLayer(mlp, t, name).getWeights());
    });
    setScaled(towerLayer(blended, t, 'wide_logit'), towerLayer(mlp, t, 'wide_logit').getWeights(), mlpScale);
    setScaled(towerLayer(blended, t, 'deep_logit'), towerLayer(mlp, t, 'deep_logit').getWeights(), mlpScale);
  }
  const last = towers + 1;
  for (const name of [...architecture.hidden.map((_, i) => `hidden_${i + 1}`), 'deep_logit']) {
    const layer = towerLayer(blended, last, name);
    const zeros = layer.getWeights().map((w) => tf.zerosLike(w));
    layer.setWeights(zeros);
    tf.dispose(zeros);
  }
  // The baseline's own towers are averaged, then scaled into the last tower.
  const wide = tf.tidy(() => {
    const parts = Array.from({ length: baselineTowers }, (_, t) => towerLayer(baseline, t + 1, 'wide_logit').getWeights());
    return [0, 1].map((k) => tf.div(tf.addN(parts.map((p) => p[k] as tf.Tensor)), baselineTowers));
  });
  setScaled(towerLayer(blended, last, 'wide_logit'), wide, (towers + 1) * share);
  tf.dispose(wide);
  return blended;
}

/**
 * The scoring network and its calibration when the baseline joins the MLP at `share`: the blend
 * of the two fitted networks, Platt-calibrated on `rows` (the held-out customers after a final
 * fit, else validation). Both networks must share `preprocessing` (they were fitted on the same rows).
 */
export function blendForScoring(
  mlp: tf.LayersModel,
  architecture: Architecture,
  baseline: tf.LayersModel,
  share: number,
  preprocessing: Preprocessing,
  rows: FeatureMatrix,
): { network: tf.LayersModel; calibration: PlattCalibration } {
  const network = blendNetworks(mlp, architecture, baseline, share);
  try {
    return { network, calibration: fitPlatt(rows.labels, predictLogits(network, denseOf(preprocessing, rows))) };
  } catch (error) {
    network.dispose();
    throw error;
  }
}
