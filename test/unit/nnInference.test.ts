import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../model/nn/backend.ts';
import { deepLiftAttributions, inferenceWeights } from '../../model/nn/inference.ts';
import { buildNetwork, MLP_ARCHITECTURE, predictLogits } from '../../model/nn/network.ts';
import { seededRandom } from '../../model/nn/random.ts';
import { flatOf } from '../../model/nn/towers.ts';

beforeAll(async () => {
  await initBackend(() => {});
});

/** A network with random weights and biases (seeded), and rows to score. */
function randomNetwork(hidden: number[], towers: number, width = 9, rows = 300) {
  const network = buildNetwork(width, { ...MLP_ARCHITECTURE, hidden, ensemble: towers, kind: hidden.length ? 'mlp' : 'logistic' }, 11);
  for (const layer of network.layers) {
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const random = weights.map((w, i) => tf.randomNormal(w.shape, 0, 0.6, 'float32', 13 + i));
    layer.setWeights(random);
    tf.dispose(random);
  }
  const random = seededRandom(3);
  const x = { values: Float32Array.from({ length: rows * width }, () => random() * 4 - 2), rows, width };
  return { network, x, width, rows };
}

/** The LayersModel's own output: the saved graph that `predictLogits` must reproduce. */
function layersModelLogits(network: tf.LayersModel, x: { values: Float32Array; rows: number; width: number }): Float32Array {
  return tf.tidy(() => (network.predict(tf.tensor2d(x.values, [x.rows, x.width])) as tf.Tensor).dataSync() as Float32Array);
}

const shapes: Array<[string, number[], number]> = [
  ['logistic, one tower', [], 1],
  ['logistic, three towers', [], 3],
  ['one hidden layer, two towers', [7], 2],
  ['the default shape: 64 → 32, three towers', [64, 32], 3],
  ['three hidden layers, two towers', [8, 6, 4], 2],
];

describe('predictLogits on the inference layout (towers folded into dense products)', () => {
  it.each(shapes)('%s: equals the LayersModel’s own predict within 1e-4', (_, hidden, towers) => {
    const { network, x } = randomNetwork(hidden, towers);
    const expected = layersModelLogits(network, x);
    const actual = predictLogits(network, x);
    let worst = 0;
    for (let r = 0; r < x.rows; r++) worst = Math.max(worst, Math.abs((actual[r] as number) - (expected[r] as number)));
    expect(worst).toBeLessThan(1e-4);
    // Not vacuous: the rows' logits differ from each other.
    expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(1);
    network.dispose();
  });

  it('carries the wide logits through every layer unchanged: a network whose hidden units are all dead is its wide part', () => {
    const { network, x, width } = randomNetwork([5, 4], 2);
    for (const layer of network.layers.filter((l) => l.name.includes('hidden_1'))) {
      const [kernel, bias] = layer.getWeights() as [tf.Tensor, tf.Tensor];
      const dead = [tf.zerosLike(kernel), tf.fill(bias.shape, -1)];
      layer.setWeights(dead);
      tf.dispose(dead);
    }
    const { layout, flat } = flatOf(network);
    const wideOnly = inferenceWeights(layout, flat);
    expect(wideOnly.map((l) => [l.rows, l.cols])).toEqual([
      [width, 12],
      [12, 10],
      [10, 1],
    ]);
    const expected = layersModelLogits(network, x);
    const actual = predictLogits(network, x);
    for (let r = 0; r < x.rows; r++) expect(actual[r]).toBeCloseTo(expected[r] as number, 4);
    network.dispose();
  });
});

describe('deepLiftAttributions on the inference layout', () => {
  it.each(shapes)('%s: each row adds up to logit(row) − logit(baseline) of the LayersModel within 1e-4', (_, hidden, towers) => {
    const { network, x, width, rows } = randomNetwork(hidden, towers);
    const random = seededRandom(8);
    const baseline = Array.from({ length: width }, () => random() - 0.5);
    const { layout, flat } = flatOf(network);
    const attributions = deepLiftAttributions(layout, flat, x, baseline);
    const logits = layersModelLogits(network, x);
    const base = layersModelLogits(network, { values: Float32Array.from(baseline), rows: 1, width })[0] as number;
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let j = 0; j < width; j++) sum += attributions[r * width + j] as number;
      expect(Math.abs(sum - ((logits[r] as number) - base))).toBeLessThan(1e-4);
    }
    network.dispose();
  });

  it('gives a row equal to the baseline no attribution at all', () => {
    const { network, width } = randomNetwork([6, 3], 3);
    const baseline = Array.from({ length: width }, (_, j) => j / 10);
    const { layout, flat } = flatOf(network);
    const attributions = deepLiftAttributions(layout, flat, { values: Float32Array.from(baseline), rows: 1, width }, baseline);
    expect(attributions).toHaveLength(width);
    expect(Array.from(attributions).every((a) => a === 0)).toBe(true);
    network.dispose();
  });

  it('leaves no tensor behind', () => {
    const { network, x, width } = randomNetwork([6, 3], 3);
    const { layout, flat } = flatOf(network);
    const before = tf.memory().numTensors;
    deepLiftAttributions(layout, flat, x, new Array(width).fill(0));
    predictLogits(network, x);
    expect(tf.memory().numTensors).toBe(before);
    network.dispose();
  });
});
