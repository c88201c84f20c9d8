import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelIntegrityError } from '../../model/nn/artifacts.ts';
import { initBackend } from '../../model/nn/backend.ts';
import { ChurnModel, LOW_RISK_DRIVERS_NOTE, riskBand } from '../../model/nn/churnModel.ts';
import { deepLiftAttributions } from '../../model/nn/inference.ts';
import { buildNetwork, MLP_ARCHITECTURE, predictLogits } from '../../model/nn/network.ts';
import { seededRandom } from '../../model/nn/random.ts';
import { selectRows } from '../../model/nn/rows.ts';
import { flatOf } from '../../model/nn/towers.ts';
import { type TrainOptions, type TrainResult, trainChurnModel } from '../../model/nn/trainChurnModel.ts';
import { integratedGradients } from '../helpers/integratedGradients.ts';
import { syntheticMatrix } from './nnFixtures.ts';

// Small and quick: a few hundred rows, a small network, few epochs.
const FAST: TrainOptions = { epochs: 30, architecture: { hidden: [16, 8], batchSize: 64, ensemble: 2 }, seed: 11 };
const train = syntheticMatrix(600, 1);
const validation = syntheticMatrix(300, 2, { idPrefix: 'v' });
let result: TrainResult;

beforeAll(async () => {
  await initBackend(() => {});
  result = await trainChurnModel(train, validation, FAST);
  return () => result.model.dispose();
});

/** The backend initBackend must pick here: tfjs-node when the optional dependency resolves, else wasm (its binaries ship with the package). */
function expectedBackend(): 'tensorflow' | 'wasm' {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return 'tensorflow';
  } catch {
    return 'wasm';
  }
}

describe('initBackend', () => {
  it('chooses tfjs-node where it is installed, else wasm, and keeps that choice when switched away', async () => {
    const backend = await initBackend(() => {});
    expect(backend).toBe(expectedBackend());
    expect(tf.getBackend()).toBe(backend);
    await tf.setBackend('cpu');
    expect(await initBackend(() => {})).toBe(backend);
    expect(tf.getBackend()).toBe(backend);
  });
});

describe('trainChurnModel', () => {
  it('learns the synthetic churn drivers, non-linear ones included: well above chance and above the logistic baseline', () => {
    expect(result.metrics.rocAuc).toBeGreaterThan(0.65);
    expect(result.metrics.rocAuc).toBeGreaterThan(result.baselineMetrics.rocAuc);
    expect(result.metrics.rows).toBe(300);
    expect(result.backend).toBe(expectedBackend());
  });

  it('reports the logistic baseline, gains and calibration bins computed on the same validation rows', () => {
    expect(result.baselineMetrics.rows).toBe(result.metrics.rows);
    expect(result.baselineMetrics.rocAuc).toBeGreaterThan(0.6);
    expect(result.gains[0]).toEqual({ populationShare: 0, churnersFound: 0 });
    expect(result.gains.at(-1)).toEqual({ populationShare: 1, churnersFound: 1 });
    expect(result.calibration.reduce((n, b) => n + b.count, 0)).toBe(300);
  });

  it('chooses the threshold that minimises cost on validation, so costlier losses lower it', async () => {
    // The costs only choose the threshold: the same seed gives the same validation probabilities.
    const cheapLoss = await trainChurnModel(train, validation, { ...FAST, costLostCustomer: 60, costIntervention: 50 });
    cheapLoss.model.dispose();
    expect(cheapLoss.metrics.rocAuc).toBe(result.metrics.rocAuc);
    expect(cheapLoss.metrics.logLoss).toBe(result.metrics.logLoss);
    // Each operating point as (contacted, churners caught) from its precision and recall.
    const pointOf = (m: TrainResult['metrics']) => {
      const caught = Math.round(m.recallAtThreshold * m.positives);
      return { contacted: caught === 0 ? 0 : Math.round(caught / m.precisionAtThreshold), caught };
    };
    const costOf = (point: { contacted: number; caught: number }, lost: number, intervention: number) =>
      point.contacted * intervention + (result.metrics.positives - point.caught) * lost;
    const dear = pointOf(result.metrics); // a lost customer costs 500, a contact 50
    const cheap = pointOf(cheapLoss.metrics); // a lost customer costs 60, a contact 50
    // With losses 10× a contact, contacting is worth it from a ~10% risk; at 60 vs 50, only from ~83%.
    expect(cheapLoss.metrics.threshold).toBeGreaterThan(result.metrics.threshold);
    expect(cheap.contacted).toBeLessThan(dear.contacted);
    // Each threshold is the cheapest of the two under its own costs (both points were candidates for both).
    expect(costOf(dear, 500, 50)).toBeLessThan(costOf(cheap, 500, 50));
    expect(costOf(cheap, 60, 50)).toBeLessThan(costOf(dear, 60, 50));
    // And each beats contacting nobody.
    expect(costOf(dear, 500, 50)).toBeLessThan(result.metrics.positives * 500);
    expect(result.model.threshold).toBe(result.metrics.threshold);
  });

  it('is reproducible: the same seed and data give the same version suffix and the same risks', async () => {
    const again = await trainChurnModel(train, validation, FAST);
    const first = result.model.predict(validation);
    const second = again.model.predict(validation);
    again.model.dispose();
    expect(again.model.version.slice(-6)).toBe(result.model.version.slice(-6));
    expect(Array.from(second)).toEqual(Array.from(first));
  });

  it('ignores rows with unknown labels (-1)', async () => {
    const partlyUnknown = { ...validation, labels: Int8Array.from(validation.labels, (y, i) => (i < 50 ? -1 : y)) };
    const partial = await trainChurnModel(train, partlyUnknown, { ...FAST, epochs: 2 });
    partial.model.dispose();
    expect(partial.metrics.rows).toBe(250);
    expect(partial.validation.customerIds[0]).toBe('v50');
  });

  it('refuses validation data without churners, saying what it got', async () => {
    const stayersOnly = { ...validation, labels: new Int8Array(validation.labels.length) };
    await expect(trainChurnModel(train, stayersOnly, FAST)).rejects.toThrow(
      /validation data needs labelled churners and stayers: got 0 churners/,
    );
  });

  it('disposes every tensor: a train-and-score cycle leaves tf.memory().numTensors unchanged', async () => {
    const before = tf.memory().numTensors;
    const cycle = await trainChurnModel(train, validation, { ...FAST, epochs: 3 });
    cycle.model.score(validation);
    cycle.model.dispose();
    const baseline = await ChurnModel.fromArtifacts(cycle.baseline);
    baseline.score(validation);
    baseline.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the logistic-regression baseline of a training run', () => {
  it('comes back as a complete saved model of kind logistic, versioned <model version>-lr, with its own metrics and threshold', async () => {
    const baseline = await ChurnModel.fromArtifacts(result.baseline);
    baseline.dispose();
    expect(baseline.version).toBe(`${result.model.version}-lr`);
    expect(baseline.metadata.architecture.kind).toBe('logistic');
    expect(result.model.metadata.architecture.kind).toBe('mlp');
    expect(baseline.metadata.metrics).toEqual(result.baselineMetrics);
    expect(baseline.threshold).toBe(result.baselineMetrics.threshold);
    expect(baseline.metadata.gains.at(-1)).toEqual({ populationShare: 1, churnersFound: 1 });
  });

  it('scores and explains like the MLP; its attributions are exact: per row they add up to logit(row) minus one constant', async () => {
    const baseline = await ChurnModel.fromArtifacts(result.baseline);
    const logits = baseline.logits(validation);
    const { featureNames, values } = baseline.attributions(validation);
    const scored = baseline.score(validation);
    baseline.dispose();
    const width = featureNames.length;
    const offsets = Array.from(logits, (logit, r) => logit - values.slice(r * width, (r + 1) * width).reduce((a, b) => a + b, 0));
    const spread = Math.max(...offsets) - Math.min(...offsets);
    expect(spread).toBeLessThan(1e-3);
    expect(scored).toHaveLength(300);
    expect(
      scored.every((c) => c.modelVersion === baseline.version && c.drivers.every((d) => d.contribution > 0 && d.sentence.length > 0)),
    ).toBe(true);
  });
});

describe('ChurnModel.score', () => {
  it('gives every customer a calibrated risk, a band from the cost threshold and at most 3 risk-raising drivers with sentences', () => {
    const scored = result.model.score(validation, { explainFrom: 0 });
    expect(scored).toHaveLength(300);
    for (const customer of scored) {
      expect(customer.risk).toBeGreaterThan(0);
      expect(customer.risk).toBeLessThan(1);
      expect(customer.band).toBe(riskBand(customer.risk, result.model.threshold));
      expect(customer.drivers.length).toBeLessThanOrEqual(3);
      for (const driver of customer.drivers) expect(driver.contribution).toBeGreaterThan(0);
      expect(customer.drivers.map((d) => d.contribution)).toEqual([...customer.drivers.map((d) => d.contribution)].sort((a, b) => b - a));
      expect(customer.modelVersion).toBe(result.model.version);
    }
  });

  it('explains the customers at or above the threshold (the high and medium bands) only: a low-risk one gets no drivers and a note saying why', () => {
    const scored = result.model.score(validation);
    const low = scored.filter((c) => c.risk < result.model.threshold);
    const atRisk = scored.filter((c) => c.risk >= result.model.threshold);
    expect(low.length).toBeGreaterThan(0);
    expect(atRisk.length).toBeGreaterThan(0);
    for (const c of low) expect(c).toMatchObject({ drivers: [], driversNote: LOW_RISK_DRIVERS_NOTE });
    for (const c of atRisk) expect(c.driversNote).toBeUndefined();
    expect(atRisk.some((c) => c.drivers.length > 0)).toBe(true);
  });

  it('gives an at-risk customer the same drivers whether or not everyone else is explained (explainFrom 0)', () => {
    const some = result.model.score(validation);
    const all = result.model.score(validation, { explainFrom: 0 });
    expect(all.every((c) => c.driversNote === undefined)).toBe(true);
    for (const [i, c] of some.entries()) {
      if (c.risk < result.model.threshold) continue;
      expect(c.drivers.map((d) => [d.feature, d.sentence])).toEqual(all[i]?.drivers.map((d) => [d.feature, d.sentence]));
      for (const [k, d] of c.drivers.entries()) expect(d.contribution).toBeCloseTo(all[i]?.drivers[k]?.contribution as number, 5);
    }
  });

  it('names failed payments first for a customer whose only unusual trait is many failed payments', () => {
    const customer = selectRows(validation, [0]);
    customer.numeric.set([5, 20, 100]); // 5 failed payments; ordinary sessions and tenure
    customer.categorical.set([1]); // plan "pro": neutral
    const [scored] = result.model.score(customer, { explainFrom: 0 });
    expect(scored?.drivers[0]?.feature).toBe('payments_failed_30d');
    expect(scored?.drivers[0]?.family).toBe('payments');
    expect(scored?.drivers[0]?.value).toBe(5);
    expect(scored?.drivers[0]?.sentence).toMatch(/5/);
  });

  it('sums one-hot slots and missing indicators into their source feature', () => {
    const { featureNames, values } = result.model.attributions(validation);
    expect(featureNames).toEqual(['payments_failed_30d', 'sessions_30d', 'tenure_days', 'plan']);
    expect(values).toHaveLength(300 * 4);
  });

  it('carries MRR and tenure of each customer', () => {
    const [first] = result.model.score(validation);
    expect(first?.mrrCents).toBe(validation.mrrCents[0]);
    expect(first?.tenureDays).toBe(validation.numeric[2]);
  });

  it('carries the payment dunning of a customer with a failed payment, and none for the others', () => {
    const n = validation.customerIds.length;
    const nextRetryMs = new Float64Array(n).fill(Number.NaN);
    const lastFailureMs = new Float64Array(n).fill(Number.NaN);
    lastFailureMs[0] = Date.parse('2026-05-30T00:00:00Z');
    nextRetryMs[0] = Date.parse('2026-06-03T00:00:00Z');
    lastFailureMs[1] = Date.parse('2026-05-20T00:00:00Z');
    const [first, second, third] = result.model.score({ ...validation, paymentDunning: { nextRetryMs, lastFailureMs } });
    expect(first?.dunning).toEqual({ lastFailureAt: '2026-05-30T00:00:00.000Z', nextRetryAt: '2026-06-03T00:00:00.000Z' });
    expect(second?.dunning).toEqual({ lastFailureAt: '2026-05-20T00:00:00.000Z' });
    expect(third).not.toHaveProperty('dunning');
  });

  it('bands: high at or above the threshold, medium from half of it, low below', () => {
    expect([riskBand(0.2, 0.2), riskBand(0.1, 0.2), riskBand(0.099, 0.2)]).toEqual(['high', 'medium', 'low']);
  });
});

describe('DeepLIFT attributions (the drivers)', () => {
  /** A small MLP with random weights (biases too), rows and a baseline, all seeded. */
  function fixture(hidden: number[]) {
    const random = seededRandom(5);
    const width = 12;
    const rows = 200;
    const network = buildNetwork(width, { ...MLP_ARCHITECTURE, hidden, kind: hidden.length ? 'mlp' : 'logistic' }, 3);
    for (const layer of network.layers) {
      const weights = layer.getWeights();
      if (weights.length === 0) continue;
      const random = weights.map((w) => tf.randomNormal(w.shape, 0, 0.5, 'float32', 7));
      layer.setWeights(random);
      tf.dispose(random);
    }
    const x = { values: Float32Array.from({ length: rows * width }, () => random() * 4 - 2), rows, width };
    const baseline = Array.from({ length: width }, () => random() - 0.5);
    const { layout, flat } = flatOf(network);
    return { network, x, baseline, attributions: deepLiftAttributions(layout, flat, x, baseline), rows, width };
  }

  it('add up, per row, to logit(row) − logit(baseline) within 1e-4 (completeness)', () => {
    const { network, x, baseline, attributions, rows, width } = fixture([16, 8]);
    const logits = predictLogits(network, x);
    const base = predictLogits(network, { values: Float32Array.from(baseline), rows: 1, width })[0] as number;
    for (let r = 0; r < rows; r++) {
      const sum = attributions.slice(r * width, (r + 1) * width).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - ((logits[r] as number) - base))).toBeLessThan(1e-4);
    }
    network.dispose();
  });

  it('agree with integrated gradients (256 steps) on the network: mean cosine ≥ 0.98, the same top driver for ≥ 80% of rows', () => {
    const { network, x, baseline, attributions, rows, width } = fixture([16, 8]);
    const reference = integratedGradients(network, x, baseline, 256);
    let cosine = 0;
    let sameTop = 0;
    for (let r = 0; r < rows; r++) {
      const a = Array.from(attributions.slice(r * width, (r + 1) * width));
      const b = Array.from(reference.slice(r * width, (r + 1) * width));
      cosine += a.reduce((s, v, i) => s + v * (b[i] as number), 0) / (Math.hypot(...a) * Math.hypot(...b));
      if (a.indexOf(Math.max(...a)) === b.indexOf(Math.max(...b))) sameTop++;
    }
    expect(cosine / rows).toBeGreaterThanOrEqual(0.98);
    expect(sameTop / rows).toBeGreaterThanOrEqual(0.8);
    network.dispose();
  });

  it('are exactly weight × (value − baseline) for the logistic baseline', () => {
    const { network, x, baseline, attributions, width } = fixture([]);
    const kernel = (network.getLayer('t1_wide_logit').getWeights()[0] as tf.Tensor).dataSync();
    for (let j = 0; j < width; j++) {
      expect(attributions[j]).toBeCloseTo((kernel[j] as number) * ((x.values[j] as number) - (baseline[j] as number)), 5);
    }
    network.dispose();
  });
});

describe('saved models', () => {
  it('reload on wasm and on cpu and predict the same risks to 1e-5', async () => {
    const artifacts = await result.model.toArtifacts();
    const expected = result.model.predict(validation);
    const risks: Record<string, Float64Array> = {};
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const loaded = await ChurnModel.fromArtifacts(artifacts);
      risks[backend] = loaded.predict(validation);
      loaded.dispose();
    }
    await initBackend(() => {});
    for (const backend of ['cpu', 'wasm']) {
      const got = risks[backend] as Float64Array;
      const worst = got.reduce((m, p, i) => Math.max(m, Math.abs(p - (expected[i] as number))), 0);
      expect(worst, backend).toBeLessThan(1e-5);
    }
    expect(artifacts.metadata.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuse weights whose sha256 does not match the metadata', async () => {
    const artifacts = await result.model.toArtifacts();
    const weights = artifacts.weights.slice();
    weights[0] = (weights[0] as number) ^ 0xff;
    await expect(ChurnModel.fromArtifacts({ ...artifacts, weights })).rejects.toThrow(ModelIntegrityError);
    await expect(ChurnModel.fromArtifacts({ ...artifacts, weights })).rejects.toThrow(/sha256 .* does not match metadata/);
  });
});
