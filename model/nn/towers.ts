import * as tf from '@tensorflow/tfjs';

/**
 * The churn network as three matrix products over ONE flat parameter vector: the same function
 * as the LayersModel `buildNetwork` makes (what is saved and loaded), computed with a few dozen
 * tensor operations a training step instead of ~500. On the wasm backend, a step on small
 * matrices costs more in per-operation overhead than in arithmetic, and a transposed matMul runs
 * on a plain loop (~1 GFLOP/s) where transpose + matMul runs on XNNPACK (~5–10). So:
 *
 * - layer 1 of every tower and every tower's wide logit are ONE product with [width × (T·h1 + T)];
 * - deeper layers and the deep logits are block-diagonal products (tower t reads only its own
 *   block; the blocks off the diagonal stay zero: their gradient is masked);
 * - gradients are written out by hand (the network is a few ReLU layers) with explicit
 *   transposes, and Adam updates the flat vector in one go.
 *
 * `readFlat`/`writeFlat` move weights between the flat vector and the LayersModel's layers.
 */

/**
 * One layer of the fused network, as a place in the flat vector: `rows × cols` as if one matrix.
 * A `split` layer holds one [rows/T × cols/T] kernel per tower, one after the other (a tower's
 * units read only its own units); its bias, tower after tower, is one [cols] vector either way.
 */
interface Block {
  rows: number;
  cols: number;
  kernel: number;
  bias: number;
  split: boolean;
}

/**
 * The flat vector's layout: `layers[0]` is layer 1 of every tower plus the wide logits, the middle
 * layers are split by tower, and the last maps each tower's last hidden layer to its deep logit
 * through a block-diagonal [T·h × T] kernel (small, so one product beats T).
 */
export interface FlatLayout {
  width: number;
  towers: number;
  hidden: number[];
  layers: Block[];
  size: number;
  /** 1 on kernel entries that exist (L2 applies, gradients flow), 0 on biases and off-diagonal blocks. */
  kernelMask: Float32Array;
  /** 1 on every parameter that exists (everything but the off-diagonal blocks). */
  liveMask: Float32Array;
}

/** The layout of a network of `towers` towers with `hidden` layer sizes on `width` inputs. */
export function flatLayout(width: number, towers: number, hidden: readonly number[]): FlatLayout {
  const sizes = [width, ...hidden.map((h) => towers * h), towers];
  const layers: Block[] = [];
  let offset = 0;
  const last = sizes.length - 2;
  for (let l = 0; l <= last; l++) {
    const rows = sizes[l] as number;
    // Layer 1 also holds the wide logits: T more columns after the hidden units.
    const cols = (sizes[l + 1] as number) + (l === 0 && hidden.length > 0 ? towers : 0);
    const split = l > 0 && l < last;
    const kernelSize = split ? (rows * cols) / towers : rows * cols;
    layers.push({ rows, cols, kernel: offset, bias: offset + kernelSize, split });
    offset += kernelSize + cols;
  }
  const kernelMask = new Float32Array(offset);
  const liveMask = new Float32Array(offset).fill(1);
  for (const [l, block] of layers.entries()) {
    const size = block.split ? (block.rows * block.cols) / towers : block.rows * block.cols;
    kernelMask.fill(1, block.kernel, block.kernel + size);
    if (l === 0 || block.split) continue;
    // The last layer is block-diagonal: row r (unit of tower ⌊r/h⌋) feeds only column ⌊r/h⌋.
    const h = block.rows / towers;
    for (let r = 0; r < block.rows; r++) {
      for (let c = 0; c < block.cols; c++) {
        if (Math.floor(r / h) === c) continue;
        kernelMask[block.kernel + r * block.cols + c] = 0;
        liveMask[block.kernel + r * block.cols + c] = 0;
      }
    }
  }
  return { width, towers, hidden: [...hidden], layers, size: offset, kernelMask, liveMask };
}

const kernelView = (flat: tf.Tensor1D, block: Block) =>
  tf.reshape(tf.slice(flat, block.kernel, block.rows * block.cols), [block.rows, block.cols]) as tf.Tensor2D;
const biasView = (flat: tf.Tensor1D, block: Block) => tf.slice(flat, block.bias, block.cols) as tf.Tensor1D;
/** Tower t's kernel of a split layer. */
const towerKernel = (flat: tf.Tensor1D, block: Block, towers: number, t: number) => {
  const rows = block.rows / towers;
  const cols = block.cols / towers;
  return tf.reshape(tf.slice(flat, block.kernel + t * rows * cols, rows * cols), [rows, cols]) as tf.Tensor2D;
};

/** h · kernel + bias for layer `block` (per tower when it is split). */
function applyLayer(layout: FlatLayout, flat: tf.Tensor1D, block: Block, h: tf.Tensor2D): tf.Tensor2D {
  if (!block.split) return tf.add(tf.matMul(h, kernelView(flat, block)), biasView(flat, block)) as tf.Tensor2D;
  const parts = tf.split(h, layout.towers, 1) as tf.Tensor2D[];
  const outs = parts.map((part, t) => tf.matMul(part, towerKernel(flat, block, layout.towers, t)));
  return tf.add(tf.concat(outs, 1), biasView(flat, block)) as tf.Tensor2D;
}

/** d(input) of layer `block` from d(output): dz · kernelᵀ (per tower when it is split). */
function inputGradient(layout: FlatLayout, flat: tf.Tensor1D, block: Block, dz: tf.Tensor2D): tf.Tensor2D {
  if (!block.split) return tf.matMul(dz, tf.transpose(kernelView(flat, block)));
  const parts = tf.split(dz, layout.towers, 1) as tf.Tensor2D[];
  return tf.concat(
    parts.map((part, t) => tf.matMul(part, tf.transpose(towerKernel(flat, block, layout.towers, t)))),
    1,
  ) as tf.Tensor2D;
}

/** d(kernel), flattened in the layout's order: inputᵀ · dz (per tower when it is split). */
function kernelGradient(layout: FlatLayout, block: Block, input: tf.Tensor2D, dz: tf.Tensor2D): tf.Tensor1D {
  if (!block.split) return tf.reshape(tf.matMul(tf.transpose(input), dz), [-1]);
  const inputs = tf.split(input, layout.towers, 1) as tf.Tensor2D[];
  const dzs = tf.split(dz, layout.towers, 1) as tf.Tensor2D[];
  return tf.concat(
    inputs.map((part, t) => tf.reshape(tf.matMul(tf.transpose(part), dzs[t] as tf.Tensor2D), [-1])),
    0,
  ) as tf.Tensor1D;
}

/** Inverted-dropout masks for a batch: [rows, units] of 0 or 1/(1 − rate). */
export type DropoutMask = (rows: number, units: number) => tf.Tensor2D;

/**
 * Inverted-dropout masks from a seeded generator, 16 bits a draw (tf.randomUniform with a seed
 * draws through a slow per-element generator, and would repeat one mask forever).
 */
export function dropoutMasks(rate: number, random: () => number): DropoutMask {
  const scale = 1 / (1 - rate);
  const threshold = Math.round(rate * 65_536);
  return (rows, units) => {
    const mask = new Float32Array(rows * units);
    for (let i = 0; i < mask.length; i += 2) {
      const bits = Math.floor(random() * 4_294_967_296);
      mask[i] = (bits & 0xffff) >= threshold ? scale : 0;
      if (i + 1 < mask.length) mask[i + 1] = bits >>> 16 >= threshold ? scale : 0;
    }
    return tf.tensor2d(mask, [rows, units]);
  };
}

/** What a forward pass keeps for the backward pass. */
interface Forward {
  /** Each tower's logit: [rows, towers]. */
  logits: tf.Tensor2D;
  /** Inputs of every layer (x, then each hidden activation after dropout) and the pre-activations. */
  inputs: tf.Tensor2D[];
  preActivations: tf.Tensor2D[];
  masks: Array<tf.Tensor2D | undefined>;
}

/** The forward pass: every tower's logit [rows, towers]. Call inside tf.tidy. */
export function forward(layout: FlatLayout, flat: tf.Tensor1D, x: tf.Tensor2D, dropout?: DropoutMask): Forward {
  const rows = x.shape[0];
  const hiddenUnits = layout.towers * (layout.hidden[0] ?? 0);
  const inputs: tf.Tensor2D[] = [x];
  const preActivations: tf.Tensor2D[] = [];
  const masks: Array<tf.Tensor2D | undefined> = [];
  const first = layout.layers[0] as Block;
  const joint = tf.add(tf.matMul(x, kernelView(flat, first)), biasView(flat, first)) as tf.Tensor2D;
  if (layout.hidden.length === 0) return { logits: joint, inputs, preActivations, masks };
  const wide = tf.slice(joint, [0, hiddenUnits], [rows, layout.towers]) as tf.Tensor2D;
  let z = tf.slice(joint, [0, 0], [rows, hiddenUnits]) as tf.Tensor2D;
  for (let l = 1; l < layout.layers.length; l++) {
    const mask = dropout ? dropout(rows, z.shape[1]) : undefined;
    const h = (mask ? tf.mul(tf.relu(z), mask) : tf.relu(z)) as tf.Tensor2D;
    preActivations.push(z);
    masks.push(mask);
    inputs.push(h);
    z = applyLayer(layout, flat, layout.layers[l] as Block, h);
  }
  return { logits: tf.add(wide, z) as tf.Tensor2D, inputs, preActivations, masks };
}

/** The network's output: the average of the towers' logits, [rows]. Call inside tf.tidy. */
export function averageLogit(layout: FlatLayout, flat: tf.Tensor1D, x: tf.Tensor2D): tf.Tensor1D {
  return tf.mean(forward(layout, flat, x).logits, 1) as tf.Tensor1D;
}

/**
 * The gradient of `Σ_rows Σ_towers dLogits ⊙ logits` with respect to the flat vector, given the
 * forward pass and dLogits [rows, towers]: backpropagation written out with explicit transposes.
 */
export function backward(layout: FlatLayout, flat: tf.Tensor1D, pass: Forward, dLogits: tf.Tensor2D): tf.Tensor1D {
  const pieces: tf.Tensor[] = new Array(layout.layers.length * 2);
  const last = layout.layers.length - 1;
  let dz = dLogits;
  for (let l = last; l >= 1; l--) {
    const block = layout.layers[l] as Block;
    pieces[2 * l] = kernelGradient(layout, block, pass.inputs[l] as tf.Tensor2D, dz);
    pieces[2 * l + 1] = tf.sum(dz, 0);
    const dh = inputGradient(layout, flat, block, dz);
    const mask = pass.masks[l - 1];
    const gate = tf.step(pass.preActivations[l - 1] as tf.Tensor2D);
    dz = tf.mul(mask ? tf.mul(dh, mask) : dh, gate) as tf.Tensor2D;
  }
  // Layer 1 also produced the wide logits: their gradient is dLogits itself.
  const dJoint = layout.hidden.length === 0 ? dz : (tf.concat([dz, dLogits], 1) as tf.Tensor2D);
  pieces[0] = tf.reshape(tf.matMul(tf.transpose(pass.inputs[0] as tf.Tensor2D), dJoint), [-1]);
  pieces[1] = tf.sum(dJoint, 0);
  return tf.concat(pieces, 0) as tf.Tensor1D;
}

/** Adam (Kingma & Ba) on the flat vector, with tfjs's defaults (β1 0.9, β2 0.999, ε 1e-7). */
export class FlatAdam {
  readonly #m: tf.Variable;
  readonly #v: tf.Variable;
  #step = 0;

  constructor(
    private readonly flat: tf.Variable,
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-7,
  ) {
    this.#m = tf.tidy(() => tf.variable(tf.zerosLike(flat), false));
    this.#v = tf.tidy(() => tf.variable(tf.zerosLike(flat), false));
  }

  /** One update with gradient `g` (disposed by the caller's tidy), at `learningRate` unless a scheduled rate is given. */
  apply(g: tf.Tensor1D, learningRate = this.learningRate): void {
    this.#step++;
    const { beta1, beta2 } = this;
    const rate = (learningRate * Math.sqrt(1 - beta2 ** this.#step)) / (1 - beta1 ** this.#step);
    this.#m.assign(tf.add(tf.mul(this.#m, beta1), tf.mul(g, 1 - beta1)));
    this.#v.assign(tf.add(tf.mul(this.#v, beta2), tf.mul(tf.square(g), 1 - beta2)));
    this.flat.assign(tf.sub(this.flat, tf.div(tf.mul(this.#m, rate), tf.add(tf.sqrt(this.#v), this.epsilon))));
  }

  dispose(): void {
    tf.dispose([this.#m, this.#v]);
  }
}

/** The towers' layer-name prefixes of a network built by `buildNetwork` (`t1_`, `t2_`, ...). */
const towerPrefixes = (model: tf.LayersModel): string[] =>
  model.layers.filter((layer) => /^t\d+_wide_logit$/.test(layer.name)).map((layer) => layer.name.replace('wide_logit', ''));

/** The layout of a network built by `buildNetwork`, read from its layers. */
export function layoutOf(model: tf.LayersModel): FlatLayout {
  const prefixes = towerPrefixes(model);
  const first = prefixes[0] ?? 't1_';
  const width = (model.getLayer(`${first}wide_logit`).getWeights()[0] as tf.Tensor).shape[0] as number;
  const hidden = model.layers
    .filter((layer) => layer.name.startsWith(`${first}hidden_`))
    .map((layer) => (layer.getWeights()[1] as tf.Tensor).shape[0] as number);
  return flatLayout(width, prefixes.length, hidden);
}

/** Flat weights of each model, in JavaScript memory (no tensor to dispose), until its weights change. */
const flatCache = new WeakMap<tf.LayersModel, { layout: FlatLayout; flat: Float32Array }>();

/** The LayersModel's layout and weights as one flat vector (cached per model). */
export function flatOf(model: tf.LayersModel): { layout: FlatLayout; flat: Float32Array } {
  let cached = flatCache.get(model);
  if (!cached) {
    const layout = layoutOf(model);
    cached = { layout, flat: moveWeights(model, layout, new Float32Array(layout.size), 'read') };
    flatCache.set(model, cached);
  }
  return cached;
}

/** Writes the flat vector's weights into the LayersModel. */
export function writeFlat(model: tf.LayersModel, layout: FlatLayout, flat: Float32Array): void {
  moveWeights(model, layout, flat, 'write');
  flatCache.set(model, { layout, flat: flat.slice() });
}

/**
 * Copies one layer's kernel [rows × cols] and bias [cols] between the LayersModel and the flat
 * vector, where they sit at `rowOffset`, `colOffset` of `block`.
 */
function moveBlock(
  flat: Float32Array,
  block: Block,
  rowOffset: number,
  colOffset: number,
  kernel: Float32Array,
  bias: Float32Array,
  toFlat: boolean,
): void {
  const cols = bias.length;
  const rows = kernel.length / cols;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // A split layer's tower kernel is its own contiguous [rows × cols] matrix.
      const at = block.split
        ? block.kernel + (rowOffset / rows) * rows * cols + r * cols + c
        : block.kernel + (rowOffset + r) * block.cols + colOffset + c;
      if (toFlat) flat[at] = kernel[r * cols + c] as number;
      else kernel[r * cols + c] = flat[at] as number;
    }
  }
  for (let c = 0; c < cols; c++) {
    if (toFlat) flat[block.bias + colOffset + c] = bias[c] as number;
    else bias[c] = flat[block.bias + colOffset + c] as number;
  }
}

function moveWeights(model: tf.LayersModel, layout: FlatLayout, flat: Float32Array, direction: 'read' | 'write'): Float32Array {
  const { hidden, towers } = layout;
  const depth = hidden.length;
  towerPrefixes(model).forEach((prefix, t) => {
    // [layer name, block, row offset, column offset] of each of this tower's layers.
    const places: Array<[string, Block, number, number]> = [
      [`${prefix}wide_logit`, layout.layers[0] as Block, 0, depth === 0 ? t : towers * (hidden[0] as number) + t],
    ];
    hidden.forEach((units, l) => {
      places.push([`${prefix}hidden_${l + 1}`, layout.layers[l] as Block, l === 0 ? 0 : t * (hidden[l - 1] as number), t * units]);
    });
    if (depth > 0) places.push([`${prefix}deep_logit`, layout.layers[depth] as Block, t * (hidden[depth - 1] as number), t]);
    for (const [name, block, rowOffset, colOffset] of places) {
      const layer = model.getLayer(name);
      const [kernelTensor, biasTensor] = layer.getWeights() as [tf.Tensor, tf.Tensor];
      const kernel = Float32Array.from(kernelTensor.dataSync());
      const bias = Float32Array.from(biasTensor.dataSync());
      moveBlock(flat, block, rowOffset, colOffset, kernel, bias, direction === 'read');
      if (direction === 'write') {
        const values = [tf.tensor(kernel, kernelTensor.shape), tf.tensor(bias, biasTensor.shape)];
        layer.setWeights(values);
        tf.dispose(values);
      }
    }
  });
  return flat;
}
