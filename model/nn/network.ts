import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { disposePlan, inferencePlan, planLogits, readTidy } from './inference.ts';
import { seededRandom, shuffleInPlace } from './random.ts';
import { averageLogit, backward, dropoutMasks, FlatAdam, flatOf, forward, writeFlat } from './towers.ts';

/**
 * The network outputs the churn LOGIT (calibration and explanations work on the logit). A
 * logistic-regression baseline is the same network with no hidden layer. Dropout is applied by
 * the training loop, not stored as layers: the saved model is exactly the inference graph, and masks come from our seeded generator (a tfjs Dropout layer
 * draws masks from Math.random, or repeats one mask forever when given a seed).
 */
export const Architecture = z.object({
  kind: z.enum(['mlp', 'logistic']),
  hidden: z.array(z.number().int().positive()),
  dropout: z.number().min(0).max(0.9),
  l2: z.number().min(0),
  learningRate: z.number().positive(),
  batchSize: z.number().int().positive(),
  maxEpochs: z.number().int().positive(),
  /** Epochs without improvement of the early-stopping loss before training stops. */
  patience: z.number().int().positive(),
  /**
   * Independent towers whose logits are averaged (an ensemble in one graph). Each tower has its
   * own initialisation, dropout masks and loss, so they train as separate networks on the same batches.
   */
  ensemble: z.number().int().min(1).max(16).default(1),
  /**
   * After early stopping found the best epoch count on the stopping slice, train a fresh network
   * (same seeds) on ALL training rows for that many epochs: the stopping slice is not wasted.
   */
  refit: z.boolean().default(false),
  /**
   * `early-stopping`: a constant learning rate until the stopping slice's loss stops improving.
   * `one-cycle`: `maxEpochs` passes over the training customers (a customer seen at k cutoffs
   * counts once) on every training row, at most `maxSteps` steps, the learning rate rising linearly
   * to `learningRate` over the first 30% of the steps and falling along a cosine to zero (Smith's
   * one-cycle policy): no stopping slice, no refit.
   */
  schedule: z.enum(['early-stopping', 'one-cycle']).default('early-stopping'),
  /**
   * One-cycle only: the optimizer steps to take, whatever the number of rows (at most `maxEpochs`
   * epochs, at least one). A fixed step budget trains a small data set for many epochs and a large
   * one for few, so training time stops growing with the data beyond a point.
   */
  maxSteps: z.number().int().positive().optional(),
});
export type Architecture = z.output<typeof Architecture>;

/**
 * Defaults chosen by 2×4-fold CV on the benchmarks' 80% (bench/tuneModel.ts) and on simulated
 * businesses (docs/tuning-history.md): three towers of 64 → 32 ReLUs on a one-cycle schedule over
 * 20 passes through the customers (at most 600 steps) match the former towers of 128 → 64 with early
 * stopping and a refit (Orange 0.9124 → 0.9121, Telco 0.8466 → 0.8480; simulated businesses of 600,
 * 1,000 and 3,000 customers 0.948 → 0.955, 0.925 → 0.933, 0.908 → 0.907) and train 6–20× faster.
 */
export const MLP_ARCHITECTURE: Architecture = {
  kind: 'mlp',
  hidden: [64, 32],
  dropout: 0.3,
  l2: 1e-3,
  learningRate: 1.5e-2,
  batchSize: 128,
  maxEpochs: 20,
  patience: 15,
  ensemble: 3,
  refit: false,
  schedule: 'one-cycle',
  maxSteps: 600,
};
export const LOGISTIC_ARCHITECTURE: Architecture = {
  kind: 'logistic',
  hidden: [],
  dropout: 0,
  l2: 1e-4,
  learningRate: 2e-2,
  batchSize: 128,
  maxEpochs: 20,
  patience: 10,
  ensemble: 1,
  refit: false,
  schedule: 'one-cycle',
  maxSteps: 2_000,
};

/** Dense inputs: `rows × width` floats, row-major, as produced by transformMatrix. */
export interface DenseInputs {
  values: Float32Array;
  rows: number;
  width: number;
}

/**
 * Builds the network (weights initialised from `seed`): "wide and deep". The churn logit is
 * a linear function of the inputs (the wide part: logistic regression) plus an MLP of them (the
 * deep part), so the network can always fall back on what the baseline knows and spends its
 * hidden units on interactions. With no hidden layer it IS the logistic baseline.
 */
export function buildNetwork(width: number, architecture: Architecture, seed: number): tf.LayersModel {
  const input = tf.input({ shape: [width], name: 'features' });
  const towers = Array.from({ length: architecture.ensemble }, (_, t) => buildTower(input, architecture, seed + 1000 * t, `t${t + 1}_`));
  const logit =
    towers.length === 1
      ? (towers[0] as tf.SymbolicTensor)
      : (tf.layers.average({ name: 'churn_logit' }).apply(towers) as tf.SymbolicTensor);
  return tf.model({ inputs: input, outputs: logit, name: architecture.kind === 'logistic' ? 'churn_logistic' : 'churn_mlp' });
}

function buildTower(input: tf.SymbolicTensor, architecture: Architecture, seed: number, prefix: string): tf.SymbolicTensor {
  const wide = tf.layers
    .dense({
      units: 1,
      activation: 'linear',
      name: `${prefix}wide_logit`,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 100 }),
    })
    .apply(input) as tf.SymbolicTensor;
  if (architecture.hidden.length === 0) return wide;
  let h: tf.SymbolicTensor = input;
  architecture.hidden.forEach((units, i) => {
    h = tf.layers
      .dense({
        units,
        activation: 'relu',
        name: `${prefix}hidden_${i + 1}`,
        kernelInitializer: tf.initializers.heNormal({ seed: seed + i }),
      })
      .apply(h) as tf.SymbolicTensor;
  });
  const deep = tf.layers
    .dense({
      units: 1,
      activation: 'linear',
      name: `${prefix}deep_logit`,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 200 }),
    })
    .apply(h) as tf.SymbolicTensor;
  return tf.layers.add({ name: `${prefix}logit` }).apply([wide, deep]) as tf.SymbolicTensor;
}

/** Weighted binary cross-entropy of logits [rows] (weighted mean over rows). */
function weightedCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, weights: tf.Tensor): tf.Scalar {
  const perRow = tf.losses.sigmoidCrossEntropy(labels, logits, undefined, undefined, tf.Reduction.NONE);
  return tf.div(tf.sum(tf.mul(perRow, weights)), tf.sum(weights)) as tf.Scalar;
}

/** The learning rate of `step` (0-based) of `total`: constant, or the one-cycle policy's (see `Architecture.schedule`). */
export function learningRateAt(architecture: Pick<Architecture, 'learningRate' | 'schedule'>, step: number, total: number): number {
  if (architecture.schedule !== 'one-cycle') return architecture.learningRate;
  const warmup = Math.max(1, Math.round(0.3 * total));
  if (step < warmup) return (architecture.learningRate * (step + 1)) / warmup;
  const progress = (step - warmup) / Math.max(1, total - warmup);
  return (architecture.learningRate * (1 + Math.cos(Math.PI * progress))) / 2;
}

export interface FitReport {
  epochsRun: number;
  bestEpoch: number;
  bestStoppingLoss: number;
}

/**
 * Trains `model` with Adam on (x, labels, weights), mini-batches in a seeded order, and stops
 * early when the weighted loss on the stopping slice has not improved for `patience` epochs;
 * the best epoch's weights are restored. Every tensor made here is disposed.
 */
export async function fitNetwork(
  model: tf.LayersModel,
  train: { x: DenseInputs; labels: Float32Array; weights: Float32Array },
  stopping: { x: DenseInputs; labels: Float32Array; weights: Float32Array } | undefined,
  architecture: Architecture,
  seed: number,
  log: (message: string) => void = () => {},
): Promise<FitReport> {
  const random = seededRandom(seed);
  const masks = architecture.dropout > 0 ? dropoutMasks(architecture.dropout, random) : undefined;
  const { layout, flat: initial } = flatOf(model);
  const flat = tf.tidy(() => tf.variable(tf.tensor1d(initial), false));
  const optimizer = new FlatAdam(flat, architecture.learningRate);
  const liveMask = tf.tensor1d(layout.liveMask);
  // d/dθ of l2·Σ kernel² is 2·l2·θ on kernel entries.
  const l2Gradient = tf.tensor1d(layout.kernelMask.map((k) => 2 * architecture.l2 * k));
  const xAll = tf.tensor2d(train.x.values, [train.x.rows, train.x.width]);
  const yAll = tf.tensor2d(train.labels, [train.x.rows, 1]);
  const wAll = tf.tensor2d(train.weights, [train.x.rows, 1]);
  const stopTensors = stopping && {
    x: tf.tensor2d(stopping.x.values, [stopping.x.rows, stopping.x.width]),
    y: tf.tensor1d(stopping.labels),
    w: tf.tensor1d(stopping.weights),
  };
  const order = Array.from({ length: train.x.rows }, (_, i) => i);
  const stepsPerEpoch = Math.ceil(train.x.rows / architecture.batchSize);
  const epochs =
    architecture.schedule === 'one-cycle' && architecture.maxSteps !== undefined
      ? Math.max(1, Math.min(architecture.maxEpochs, Math.round(architecture.maxSteps / stepsPerEpoch)))
      : architecture.maxEpochs;
  const totalSteps = epochs * stepsPerEpoch;
  let step = 0;
  let best = { epoch: 0, loss: Number.POSITIVE_INFINITY, weights: initial };
  let epoch = 0;
  try {
    for (epoch = 1; epoch <= epochs; epoch++) {
      shuffleInPlace(order, random);
      for (let start = 0; start < order.length; start += architecture.batchSize) {
        const rate = learningRateAt(architecture, step++, totalSteps);
        tf.tidy(() => {
          const batch = tf.tensor1d(Int32Array.from(order.slice(start, start + architecture.batchSize)), 'int32');
          const pass = forward(layout, flat, tf.gather(xAll, batch) as tf.Tensor2D, masks);
          const weights = tf.gather(wAll, batch);
          // d(mean over towers of the weighted mean cross-entropy)/d(logit) = (σ(logit) − y)·w / (Σw · towers).
          const dLogits = tf.div(
            tf.mul(tf.sub(tf.sigmoid(pass.logits), tf.gather(yAll, batch)), weights),
            tf.mul(tf.sum(weights), layout.towers),
          );
          const gradient = tf.add(tf.mul(backward(layout, flat, pass, dLogits as tf.Tensor2D), liveMask), tf.mul(flat, l2Gradient));
          optimizer.apply(gradient as tf.Tensor1D, rate);
        });
      }
      if (!stopTensors) continue;
      // Early stopping watches the deployed output: the average of the towers' logits.
      const loss = tf.tidy(
        () => weightedCrossEntropy(averageLogit(layout, flat, stopTensors.x), stopTensors.y, stopTensors.w).dataSync()[0] as number,
      );
      if (loss < best.loss - 1e-5) best = { epoch, loss, weights: flat.dataSync().slice() as Float32Array };
      else if (epoch - best.epoch >= architecture.patience) break;
      // Let other work (logging, I/O) run between epochs.
      if (epoch % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const epochsRun = Math.min(epoch, epochs);
    writeFlat(model, layout, stopTensors ? best.weights : (flat.dataSync() as Float32Array));
    log(
      stopTensors
        ? `${architecture.kind}: ${epochsRun} epochs, best stopping loss ${best.loss.toFixed(4)} at epoch ${best.epoch}`
        : `${architecture.kind}: ${architecture.schedule === 'one-cycle' ? 'one-cycle schedule' : 'refitted on all training rows'}, ${epochsRun} epochs`,
    );
    return { epochsRun, bestEpoch: stopTensors ? best.epoch : epochsRun, bestStoppingLoss: best.loss };
  } finally {
    tf.dispose([flat, liveMask, l2Gradient, xAll, yAll, wAll, ...(stopTensors ? [stopTensors.x, stopTensors.y, stopTensors.w] : [])]);
    optimizer.dispose();
  }
}

const PREDICT_BATCH_ROWS = 16_384;

/** Churn logits of every row, computed in batches on the inference layout (inference.ts). */
export function predictLogits(model: tf.LayersModel, x: DenseInputs): Float64Array {
  const { layout, flat } = flatOf(model);
  const plan = inferencePlan(layout, flat);
  const out = new Float64Array(x.rows);
  try {
    for (let start = 0; start < x.rows; start += PREDICT_BATCH_ROWS) {
      const rows = Math.min(PREDICT_BATCH_ROWS, x.rows - start);
      const values = readTidy(() =>
        planLogits(plan, tf.tensor2d(x.values.subarray(start * x.width, (start + rows) * x.width), [rows, x.width])),
      );
      out.set(values, start);
    }
  } finally {
    disposePlan(plan);
  }
  return out;
}
