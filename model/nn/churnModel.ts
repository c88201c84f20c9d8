import type * as tf from '@tensorflow/tfjs';
import { TENURE_DAYS_FEATURE } from '../features/definitions.ts';
import { describeFeature } from '../features/explain.ts';
import type { FeatureColumn, FeatureFamily, FeatureMatrix } from '../features/matrix.ts';
import type { RiskBand, RiskDriver, ScoredCustomer } from '../scoring.ts';
import { loadNetwork, type NetworkArtifacts, saveNetwork, sha256Hex } from './artifacts.ts';
import { applyCalibration } from './calibration.ts';
import { type ModelMetadata, StoredModelMetadata } from './metadata.ts';
import { type DenseInputs, integratedGradients, predictLogits } from './network.ts';
import { rawFeatureValue, transformMatrix } from './preprocessing.ts';

/** A model as saved: network buffers plus metadata carrying the weights checksum. */
export interface ModelArtifacts extends NetworkArtifacts {
  metadata: StoredModelMetadata;
}

export interface ScoreOptions {
  /** Drivers per customer (default 3). */
  topDrivers?: number;
  /** Integrated-gradients steps (default 24). */
  steps?: number;
}

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
   * Integrated-gradients attributions of the churn logit per source feature: rows × features,
   * features in `featureNames` order. One-hot slots and missing indicators add to their feature.
   */
  attributions(matrix: FeatureMatrix, steps = 24): { featureNames: string[]; values: Float64Array } {
    const { preprocessing } = this.metadata;
    const dense = this.inputs(matrix);
    const perInput = integratedGradients(this.#network, dense, preprocessing.baseline, steps);
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

  /** Scores every row: calibrated risk, band and the top risk-raising drivers, each with a sentence. */
  score(matrix: FeatureMatrix, options: ScoreOptions = {}): ScoredCustomer[] {
    const topDrivers = options.topDrivers ?? 3;
    const risk = this.predict(matrix);
    const { featureNames, values } = this.attributions(matrix, options.steps);
    const columns = new Map<string, FeatureColumn>([...matrix.numericColumns, ...matrix.categoricalColumns].map((c) => [c.name, c]));
    const named = matrix.numericColumns.findIndex((c) => c.name === TENURE_DAYS_FEATURE);
    const tenureColumn = named >= 0 ? named : matrix.numericColumns.findIndex((c) => c.family === 'tenure');
    const width = featureNames.length;
    return matrix.customerIds.map((customerId, r) => {
      const ranked = featureNames
        .map((feature, k) => ({ feature, contribution: values[r * width + k] as number }))
        .filter((d) => d.contribution > 0)
        .sort((a, b) => b.contribution - a.contribution)
        .slice(0, topDrivers);
      const drivers: RiskDriver[] = ranked.map(({ feature, contribution }) => {
        const column = columns.get(feature) as FeatureColumn;
        const value = rawFeatureValue(matrix, r, feature);
        return { feature, family: column.family as FeatureFamily, value, sentence: describeFeature(column, value), contribution };
      });
      const mrr = matrix.mrrCents[r] as number;
      const tenure = tenureColumn >= 0 ? (matrix.numeric[r * matrix.numericColumns.length + tenureColumn] as number) : Number.NaN;
      const p = risk[r] as number;
      return {
        customerId,
        risk: p,
        band: riskBand(p, this.threshold),
        drivers,
        modelVersion: this.version,
        mrrCents: Number.isFinite(mrr) ? mrr : null,
        tenureDays: Number.isFinite(tenure) ? tenure : null,
      };
    });
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
