import type * as tf from '@tensorflow/tfjs';
import { TENURE_DAYS_FEATURE } from '../features/definitions.ts';
import { describeFeature } from '../features/explain.ts';
import type { FeatureColumn, FeatureFamily, FeatureMatrix } from '../features/matrix.ts';
import { dunningOfRow, type RiskBand, type RiskDriver, type ScoredCustomer } from '../scoring.ts';
import { loadNetwork, type NetworkArtifacts, saveNetwork, sha256Hex } from './artifacts.ts';
import { applyCalibration } from './calibration.ts';
import { deepLiftAttributions } from './inference.ts';
import { type ModelMetadata, StoredModelMetadata } from './metadata.ts';
import { type DenseInputs, predictLogits } from './network.ts';
import { rawFeatureValue, transformMatrix } from './preprocessing.ts';
import { selectRows } from './rows.ts';
import { flatOf } from './towers.ts';

/** A model as saved: network buffers plus metadata carrying the weights checksum. */
export interface ModelArtifacts extends NetworkArtifacts {
  metadata: StoredModelMetadata;
}

export interface ScoreOptions {
  /** Drivers per customer (default 3). */
  topDrivers?: number;
  /**
   * Risk from which a customer's drivers are computed (default: the cost threshold, where the high
   * and medium bands start; see model/outreach/bands.ts). 0 explains everyone. Outreach, the report
   * and a retention team read the drivers of at-risk customers; explaining the low band would cost
   * most of scoring's time.
   */
  explainFrom?: number;
}

/** What a customer below `explainFrom` gets instead of drivers. */
export const LOW_RISK_DRIVERS_NOTE = 'low risk: drivers are computed for the high and medium bands only';

/**
 * A provisional band from the risk alone, before the base is ranked: `high` at or above the
 * cost-optimal threshold t, `medium` from t/2, `low` below. The use cases band the whole base by
 * threshold AND outreach budget (model/outreach/bands.ts), which is what scores, RISK items,
 * summaries and messages carry.
 */
export function riskBand(risk: number, threshold: number): RiskBand {
  if (risk >= threshold) return 'high';
  if (risk >= threshold / 2) return 'medium';
  return 'low';
}

/** Indexes (within `values[offset, offset + width)`) of the `top` largest positive values, largest first, without sorting the row. */
function topPositive(values: Float64Array, offset: number, width: number, top: number): number[] {
  const best: number[] = [];
  for (let k = 0; k < width; k++) {
    const v = values[offset + k] as number;
    if (!(v > 0)) continue;
    if (best.length === top && v <= (values[offset + (best[top - 1] as number)] as number)) continue;
    let at = best.length;
    while (at > 0 && v > (values[offset + (best[at - 1] as number)] as number)) at--;
    best.splice(at, 0, k);
    if (best.length > top) best.pop();
  }
  return best;
}

/** The column of tenure in days (by name, else the first of the tenure family), or -1. */
function tenureColumnOf(matrix: FeatureMatrix): number {
  const named = matrix.numericColumns.findIndex((c) => c.name === TENURE_DAYS_FEATURE);
  return named >= 0 ? named : matrix.numericColumns.findIndex((c) => c.family === 'tenure');
}

/**
 * A trained churn model: preprocessing, network and calibration, versioned by its metadata.
 * Holds TF.js tensors: call `dispose()` when done (a warm Lambda scores many times).
 */
export class ChurnModel {
  readonly version: string;
  readonly metadata: ModelMetadata;
  /** Risk at or above which outreach pays off; starts at the cost-optimal validation threshold. */
  threshold: number;
  readonly #network: tf.LayersModel;

  constructor(network: tf.LayersModel, metadata: ModelMetadata) {
    this.#network = network;
    this.metadata = metadata;
    this.version = metadata.version;
    this.threshold = metadata.threshold;
  }

  /** The TF.js network (benchmarks and tools; scoring goes through `predict` and `score`). */
  get network(): tf.LayersModel {
    return this.#network;
  }

  /** Dense network inputs for `matrix` (throws IncompatibleFeaturesError when columns are missing). */
  inputs(matrix: FeatureMatrix): DenseInputs {
    const values = transformMatrix(this.metadata.preprocessing, matrix);
    return { values, rows: matrix.customerIds.length, width: this.metadata.preprocessing.inputs.length };
  }

  /** Uncalibrated churn logits, one per row. */
  logits(matrix: FeatureMatrix): Float64Array {
    return predictLogits(this.#network, this.inputs(matrix));
  }

  /** Calibrated churn risk (probability within the horizon), one per row of `matrix`. */
  predict(matrix: FeatureMatrix): Float64Array {
    return applyCalibration(this.metadata.calibration, this.logits(matrix));
  }

  /**
   * DeepLIFT attributions of the churn logit per source feature: rows × features, features in
   * `featureNames` order. One-hot slots, segments, steps and missing indicators add to their
   * feature. A row's attributions add up to its logit minus the baseline's.
   */
  attributions(matrix: FeatureMatrix): { featureNames: string[]; values: Float64Array } {
    const { preprocessing } = this.metadata;
    const dense = this.inputs(matrix);
    const { layout, flat } = flatOf(this.#network);
    const perInput = deepLiftAttributions(layout, flat, dense, preprocessing.baseline);
    const featureNames = [...preprocessing.numeric.map((s) => s.name), ...preprocessing.categorical.map((s) => s.name)];
    const featureIndex = new Map(featureNames.map((name, i) => [name, i]));
    const sourceOf = preprocessing.inputs.map((input) => featureIndex.get(input.source) as number);
    const values = new Float64Array(dense.rows * featureNames.length);
    for (let r = 0; r < dense.rows; r++) {
      for (let j = 0; j < dense.width; j++) {
        const k = r * featureNames.length + (sourceOf[j] as number);
        values[k] = (values[k] as number) + (perInput[r * dense.width + j] as number);
      }
    }
    return { featureNames, values };
  }

  /**
   * Scores every row: calibrated risk and band; for customers at risk (see `explainFrom`) the top
   * risk-raising drivers, each with a sentence.
   */
  score(matrix: FeatureMatrix, options: ScoreOptions = {}): ScoredCustomer[] {
    const topDrivers = options.topDrivers ?? 3;
    const explainFrom = options.explainFrom ?? this.threshold;
    const risk = this.predict(matrix);
    const explained = Array.from(risk, (p, r) => (p >= explainFrom ? r : -1)).filter((r) => r >= 0);
    const drivers = this.#drivers(matrix, explained, topDrivers);
    const tenureColumn = tenureColumnOf(matrix);
    const nNum = matrix.numericColumns.length;
    return matrix.customerIds.map((customerId, r) => {
      const mrr = matrix.mrrCents[r] as number;
      const tenure = tenureColumn >= 0 ? (matrix.numeric[r * nNum + tenureColumn] as number) : Number.NaN;
      const p = risk[r] as number;
      const own = drivers.get(r);
      const dunning = dunningOfRow(matrix.paymentDunning, r);
      return {
        customerId,
        risk: p,
        band: riskBand(p, this.threshold),
        drivers: own ?? [],
        ...(own ? {} : { driversNote: LOW_RISK_DRIVERS_NOTE }),
        modelVersion: this.version,
        mrrCents: Number.isFinite(mrr) ? mrr : null,
        tenureDays: Number.isFinite(tenure) ? tenure : null,
        ...(dunning ? { dunning } : {}),
      };
    });
  }

  /** The top risk-raising drivers of `rows` of `matrix`, by row. */
  #drivers(matrix: FeatureMatrix, rows: number[], topDrivers: number): Map<number, RiskDriver[]> {
    const out = new Map<number, RiskDriver[]>();
    if (rows.length === 0) return out;
    const subset = rows.length === matrix.customerIds.length ? matrix : selectRows(matrix, rows);
    const { featureNames, values } = this.attributions(subset);
    const columns = new Map<string, FeatureColumn>([...matrix.numericColumns, ...matrix.categoricalColumns].map((c) => [c.name, c]));
    const width = featureNames.length;
    for (const [i, r] of rows.entries()) {
      out.set(
        r,
        topPositive(values, i * width, width, topDrivers).map((k) => {
          const feature = featureNames[k] as string;
          const column = columns.get(feature) as FeatureColumn;
          const value = rawFeatureValue(subset, i, feature);
          return {
            feature,
            family: column.family as FeatureFamily,
            value,
            sentence: describeFeature(column, value),
            contribution: values[i * width + k] as number,
          };
        }),
      );
    }
    return out;
  }

  /** Serialises to model.json + weights.bin buffers and metadata with the weights' sha256. */
  async toArtifacts(): Promise<ModelArtifacts> {
    const network = await saveNetwork(this.#network);
    const metadata = StoredModelMetadata.parse({ ...this.metadata, weightsSha256: sha256Hex(network.weights) });
    return { ...network, metadata };
  }

  /** Loads a model saved by `toArtifacts`, refusing corrupted or mismatched weights. */
  static async fromArtifacts(artifacts: ModelArtifacts): Promise<ChurnModel> {
    const metadata = StoredModelMetadata.parse(artifacts.metadata);
    const network = await loadNetwork(artifacts, metadata.weightsSha256, `model ${metadata.version}`);
    return new ChurnModel(network, metadata);
  }

  /** Frees the network's tensors. */
  dispose(): void {
    this.#network.dispose();
  }
}
