import * as tf from '@tensorflow/tfjs';
import { readTidy } from '../../model/nn/inference.ts';
import type { DenseInputs } from '../../model/nn/network.ts';

/**
 * The reference attribution method the product's DeepLIFT attributions are checked against
 * (test/unit/nnModel.test.ts): the product scored with it until it needed 20k rows/s.
 */
/** Rows × steps interpolation points per gradient call: large enough to amortise, small enough for memory. */
const IG_POINTS_PER_CALL = 8_192;

/**
 * Integrated gradients of the churn logit (Sundararajan et al., 2017) against `baseline`,
 * with a `steps`-point midpoint Riemann sum, batched over rows. Returns rows × width
 * attributions; each row's attributions sum to about logit(x) − logit(baseline).
 */
export function integratedGradients(model: tf.LayersModel, x: DenseInputs, baseline: ArrayLike<number>, steps = 24): Float32Array {
  const out = new Float32Array(x.rows * x.width);
  const gradient = tf.grad((input: tf.Tensor) => tf.sum(model.apply(input) as tf.Tensor));
  const rowsPerCall = Math.max(1, Math.floor(IG_POINTS_PER_CALL / steps));
  const alphas = Float32Array.from({ length: steps }, (_, k) => (k + 0.5) / steps);
  for (let start = 0; start < x.rows; start += rowsPerCall) {
    const rows = Math.min(rowsPerCall, x.rows - start);
    const attributions = readTidy(() => {
      const input = tf.tensor2d(x.values.subarray(start * x.width, (start + rows) * x.width), [rows, x.width]);
      const base = tf.tensor1d(Float32Array.from(baseline));
      const difference = tf.sub(input, base); // [rows, width]
      // [steps, rows, width] points on the straight path from the baseline to each row.
      const path = tf.add(base, tf.mul(tf.reshape(tf.tensor1d(alphas), [steps, 1, 1]), tf.expandDims(difference, 0)));
      const grads = tf.reshape(gradient(tf.reshape(path, [steps * rows, x.width])), [steps, rows, x.width]);
      return tf.mul(tf.mean(grads, 0), difference);
    });
    out.set(attributions, start * x.width);
  }
  return out;
}
