import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../model/nn/backend.ts';
import { blendedLogits, blendNetworks, chooseBaselineShare } from '../../model/nn/blend.ts';
import { deepLiftAttributions } from '../../model/nn/inference.ts';
import { buildNetwork, LOGISTIC_ARCHITECTURE, MLP_ARCHITECTURE, predictLogits } from '../../model/nn/network.ts';
import { seededRandom } from '../../model/nn/random.ts';
import { flatOf } from '../../model/nn/towers.ts';

beforeAll(async () => {
  await initBackend(() => {});
});

const width = 7;

/** A network with random weights and biases (seeded), so that its towers differ. */
function randomized(network: tf.LayersModel, seed: number): tf.LayersModel {
  for (const layer of network.layers) {
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const random = weights.map((w, i) => tf.randomNormal(w.shape, 0, 0.6, 'float32', seed + i));
    layer.setWeights(random);
    tf.dispose(random);
  }
  return network;
}

function rows(count: number, seed = 4) {
  const random = seededRandom(seed);
  return { values: Float32Array.from({ length: count * width }, () => random() * 4 - 2), rows: count, width };
}

describe('blendNetworks: the baseline as one more tower of the MLP', () => {
  it.each([
    [3, 0.25],
    [3, 0.5],
    [1, 0.75],
  ])('with %i MLP tower(s) at share %f: its logit is (1 − share)·MLP + share·baseline within 1e-4', (towers, share) => {
    const architecture = { ...MLP_ARCHITECTURE, hidden: [6, 4], ensemble: towers };
    const mlp = randomized(buildNetwork(width, architecture, 1), 10);
    const baseline = randomized(buildNetwork(width, LOGISTIC_ARCHITECTURE, 2), 20);
    const x = rows(200);
    const expected = blendedLogits(predictLogits(mlp, x), predictLogits(baseline, x), share);
    const blended = blendNetworks(mlp, architecture, baseline, share);
    const actual = predictLogits(blended, x);
    for (let r = 0; r < x.rows; r++) expect(Math.abs((actual[r] as number) - (expected[r] as number))).toBeLessThan(1e-4);
    // Its DeepLIFT drivers still add up to the logit difference.
    const baselineRow = new Array(width).fill(0.1);
    const { layout, flat } = flatOf(blended);
    const attributions = deepLiftAttributions(layout, flat, x, baselineRow);
    const base = predictLogits(blended, { values: Float32Array.from(baselineRow), rows: 1, width })[0] as number;
    for (let r = 0; r < x.rows; r++) {
      const sum = attributions.slice(r * width, (r + 1) * width).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - ((actual[r] as number) - base))).toBeLessThan(1e-4);
    }
    for (const network of [mlp, baseline, blended]) network.dispose();
  });

  it('refuses a logistic network in place of the MLP', () => {
    const baseline = buildNetwork(width, LOGISTIC_ARCHITECTURE, 2);
    expect(() => blendNetworks(baseline, LOGISTIC_ARCHITECTURE, baseline, 0.5)).toThrow(/blends an MLP/);
    baseline.dispose();
  });
});

describe('chooseBaselineShare', () => {
  const labels = [0, 0, 0, 1, 1, 1];
  it('keeps the MLP alone (share 0) when no blend ranks better on validation', () => {
    const mlp = Float64Array.of(-3, -2, -1, 1, 2, 3);
    const baseline = Float64Array.of(3, 2, 1, -1, -2, -3);
    expect(chooseBaselineShare(labels, mlp, baseline)).toEqual({ share: 0, rocAuc: 1 });
  });

  it('takes the smallest share that ranks best, and reports that ROC AUC', () => {
    // The MLP misorders one pair that the baseline orders; a quarter of the baseline mends it.
    const mlp = Float64Array.of(-2, -1, 0.5, 0.4, 2, 3);
    const baseline = Float64Array.of(-2, -1, -1, 1, 2, 3);
    const chosen = chooseBaselineShare(labels, mlp, baseline);
    expect(chosen).toEqual({ share: 0.25, rocAuc: 1 });
  });
});
