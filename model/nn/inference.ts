import * as tf from '@tensorflow/tfjs';
import type { FlatLayout } from './towers.ts';

/**
 * The trained network re-laid for inference: one dense product per layer, T towers and their
 * average folded in. Training keeps the towers apart (towers.ts: a split of the activations and a
 * product per tower, so each tower has its own gradient); scoring has no gradient to keep apart,
 * and on the wasm backend a dozen small operations a batch (slices, splits, concats, separate bias
 * adds and ReLUs) cost more than the arithmetic they save. So:
 *
 * - every middle layer is one block-diagonal product (a tower's units read only its own block);
 * - the towers' wide logits become two extra units, +s and −s with s = Σ_t wide_t: after a ReLU,
 *   relu(s) − relu(−s) = s, so they pass through every layer unchanged (identity weights), and the
 *   output layer adds them back with weights ±1/T;
 * - the output layer averages the towers' deep logits (weights divided by T): one logit column.
 *
 * Same function as the training graph up to float rounding (test/unit/nnInference.test.ts), and
 * the same DeepLIFT attributions: on the ±s units the Rescale multipliers sum to exactly 1/T.
 */
export interface InferencePlan {
  /** Kernel [in × out], its transpose [out × in] (for attributions), bias [out]. */
  layers: Array<{ kernel: tf.Tensor2D; kernelT: tf.Tensor2D; bias: tf.Tensor1D; relu: boolean }>;
  width: number;
}

/** The dense layers of the plan, as plain arrays: [in × out] kernels, row-major. */
export function inferenceWeights(
  layout: FlatLayout,
  flat: Float32Array,
): Array<{ rows: number; cols: number; kernel: Float32Array; bias: Float32Array }> {
  const { towers: T, hidden, width } = layout;
  const first = layout.layers[0];
  if (first === undefined) throw new Error('a network needs at least one layer');
  if (hidden.length === 0) {
    // The logistic case: T linear logits averaged into one.
    const kernel = new Float32Array(width);
    let bias = 0;
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < width; r++) kernel[r] = (kernel[r] as number) + (flat[first.kernel + r * first.cols + t] as number) / T;
      bias += (flat[first.bias + t] as number) / T;
    }
    return [{ rows: width, cols: 1, kernel, bias: Float32Array.of(bias) }];
  }
  const units = T * (hidden[0] as number);
  const cols1 = units + 2;
  const kernel1 = new Float32Array(width * cols1);
  const bias1 = new Float32Array(cols1);
  for (let r = 0; r < width; r++) {
    let wide = 0;
    for (let c = 0; c < units; c++) kernel1[r * cols1 + c] = flat[first.kernel + r * first.cols + c] as number;
    for (let t = 0; t < T; t++) wide += flat[first.kernel + r * first.cols + units + t] as number;
    kernel1[r * cols1 + units] = wide;
    kernel1[r * cols1 + units + 1] = -wide;
  }
  let wideBias = 0;
  for (let c = 0; c < units; c++) bias1[c] = flat[first.bias + c] as number;
  for (let t = 0; t < T; t++) wideBias += flat[first.bias + units + t] as number;
  bias1[units] = wideBias;
  bias1[units + 1] = -wideBias;
  const layers = [{ rows: width, cols: cols1, kernel: kernel1, bias: bias1 }];
  for (let l = 1; l < layout.layers.length; l++) {
    const block = layout.layers[l] as NonNullable<(typeof layout.layers)[number]>;
    const rows = block.rows + 2;
    if (block.split) {
      // Middle layer: tower t's [rows/T × cols/T] kernel on the diagonal, identity for ±s.
      const cols = block.cols + 2;
      const kernel = new Float32Array(rows * cols);
      const bias = new Float32Array(cols);
      const towerRows = block.rows / T;
      const towerCols = block.cols / T;
      for (let t = 0; t < T; t++) {
        for (let r = 0; r < towerRows; r++) {
          for (let c = 0; c < towerCols; c++) {
            kernel[(t * towerRows + r) * cols + t * towerCols + c] = flat[
              block.kernel + t * towerRows * towerCols + r * towerCols + c
            ] as number;
          }
        }
      }
      for (let c = 0; c < block.cols; c++) bias[c] = flat[block.bias + c] as number;
      kernel[block.rows * cols + block.cols] = 1;
      kernel[(block.rows + 1) * cols + block.cols + 1] = 1;
      layers.push({ rows, cols, kernel, bias });
    } else {
      // Output layer: unit r of tower ⌊r/h⌋ feeds that tower's deep logit; the average over towers.
      const kernel = new Float32Array(rows);
      const towerRows = block.rows / T;
      let bias = 0;
      for (let r = 0; r < block.rows; r++) kernel[r] = (flat[block.kernel + r * block.cols + Math.floor(r / towerRows)] as number) / T;
      for (let t = 0; t < T; t++) bias += (flat[block.bias + t] as number) / T;
      kernel[block.rows] = 1 / T;
      kernel[block.rows + 1] = -1 / T;
      layers.push({ rows, cols: 1, kernel, bias: Float32Array.of(bias) });
    }
  }
  return layers;
}

/** The plan's tensors (dispose with `disposePlan`). */
export function inferencePlan(layout: FlatLayout, flat: Float32Array): InferencePlan {
  const weights = inferenceWeights(layout, flat);
  return {
    width: layout.width,
    layers: weights.map((w, l) =>
      tf.tidy(() => {
        const kernel = tf.tensor2d(w.kernel, [w.rows, w.cols]);
        return { kernel, kernelT: tf.transpose(kernel), bias: tf.tensor1d(w.bias), relu: l < weights.length - 1 };
      }),
    ),
  };
}

export function disposePlan(plan: InferencePlan): void {
  for (const layer of plan.layers) tf.dispose([layer.kernel, layer.kernelT, layer.bias]);
}

/**
 * The values of the tensor `compute` returns, every tensor made on the way disposed. Returning the
 * typed array from inside tf.tidy instead would make tidy walk it element by element, looking for
 * tensors to keep: most of scoring's time on a million rows.
 */
export function readTidy(compute: () => tf.Tensor): Float32Array {
  const result = tf.tidy(compute);
  try {
    return result.dataSync() as Float32Array;
  } finally {
    result.dispose();
  }
}

/** The churn logit [rows] of `x` [rows × width]. Call inside tf.tidy. */
export function planLogits(plan: InferencePlan, x: tf.Tensor2D): tf.Tensor1D {
  let h = x;
  for (const layer of plan.layers) {
    h = tf.fused.matMul({ a: h, b: layer.kernel, bias: layer.bias, activation: layer.relu ? 'relu' : 'linear' }) as tf.Tensor2D;
  }
  return tf.reshape(h, [-1]) as tf.Tensor1D;
}

/** The hidden layers' pre-activations of `x`. Call inside tf.tidy. */
function preActivations(plan: InferencePlan, x: tf.Tensor2D): tf.Tensor2D[] {
  const out: tf.Tensor2D[] = [];
  let h = x;
  for (const layer of plan.layers.slice(0, -1)) {
    const z = tf.fused.matMul({ a: h, b: layer.kernel, bias: layer.bias }) as tf.Tensor2D;
    out.push(z);
    h = tf.relu(z);
  }
  return out;
}

/**
 * DeepLIFT (Rescale rule) attributions of the logit of each row of `x` against `base` [1 × width]:
 * [rows × width], each row summing to logit(row) − logit(base) up to float rounding. Each ReLU
 * passes on Δrelu(z)/Δz between the row and the baseline, or its gradient where the two are equal.
 * Call inside tf.tidy.
 */
export function planAttributions(plan: InferencePlan, x: tf.Tensor2D, base: tf.Tensor2D): tf.Tensor2D {
  const output = plan.layers[plan.layers.length - 1] as InferencePlan['layers'][number];
  const delta = tf.sub(x, base);
  if (plan.layers.length === 1) return tf.mul(delta, tf.reshape(output.kernel, [1, -1])) as tf.Tensor2D;
  const zs = preActivations(plan, x);
  const zBases = preActivations(plan, base);
  // d(logit)/d(last hidden layer) is the output kernel, the same row for every row.
  let dh: tf.Tensor2D = output.kernelT;
  let dz: tf.Tensor2D = dh;
  for (let l = zs.length - 1; l >= 0; l--) {
    const z = zs[l] as tf.Tensor2D;
    const zBase = zBases[l] as tf.Tensor2D;
    const deltaZ = tf.sub(z, zBase);
    const apart = tf.greater(tf.abs(deltaZ), 1e-6);
    const slope = tf.div(tf.sub(tf.relu(z), tf.relu(zBase)), tf.where(apart, deltaZ, tf.onesLike(deltaZ)));
    dz = tf.mul(dh, tf.where(apart, slope, tf.step(z))) as tf.Tensor2D;
    if (l > 0) dh = tf.matMul(dz, (plan.layers[l] as InferencePlan['layers'][number]).kernelT);
  }
  return tf.mul(tf.matMul(dz, (plan.layers[0] as InferencePlan['layers'][number]).kernelT), delta) as tf.Tensor2D;
}

/** Rows per attribution batch: the activations of a few layers for this many rows stay well under 100 MB. */
const ATTRIBUTION_BATCH_ROWS = 8_192;

/**
 * DeepLIFT attributions (Shrikumar et al., 2017, the Rescale rule) of the network's output, the
 * towers' average logit, against `baseline`: rows × width, every row adding up to logit(row) −
 * logit(baseline) up to float rounding. The cost is about two forward passes, where integrated
 * gradients costs one forward and one backward pass per integration step.
 */
export function deepLiftAttributions(
  layout: FlatLayout,
  flat: Float32Array,
  x: { values: Float32Array; rows: number; width: number },
  baseline: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(x.rows * x.width);
  const plan = inferencePlan(layout, flat);
  const base = tf.tensor2d(Float32Array.from(baseline), [1, x.width]);
  try {
    for (let start = 0; start < x.rows; start += ATTRIBUTION_BATCH_ROWS) {
      const rows = Math.min(ATTRIBUTION_BATCH_ROWS, x.rows - start);
      const batch = readTidy(() =>
        planAttributions(plan, tf.tensor2d(x.values.subarray(start * x.width, (start + rows) * x.width), [rows, x.width]), base),
      );
      out.set(batch, start * x.width);
    }
  } finally {
    disposePlan(plan);
    base.dispose();
  }
  return out;
}
