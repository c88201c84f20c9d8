import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';

/** A saved network as two byte buffers: `model.json` (topology + weights manifest) and `weights.bin`. */
export interface NetworkArtifacts {
  modelJson: Uint8Array;
  weights: Uint8Array;
}

/** The weights manifest points at this file name, relative to model.json. */
export const WEIGHTS_FILE = 'weights.bin';

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Thrown when saved artifacts are corrupt, truncated or do not belong together. */
export class ModelIntegrityError extends Error {
  override name = 'ModelIntegrityError';
}

function concatWeightData(data: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const buffers = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const buffer of buffers) {
    out.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  return out;
}

/** Saves `model` into memory buffers through a custom tf.io handler (no file system involved). */
export async function saveNetwork(model: tf.LayersModel): Promise<NetworkArtifacts> {
  let saved: NetworkArtifacts | undefined;
  const handler: tf.io.IOHandler = {
    save: async (artifacts) => {
      const weights = concatWeightData(artifacts.weightData as ArrayBuffer | ArrayBuffer[] | undefined);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      saved = { modelJson: new TextEncoder().encode(JSON.stringify(modelJson)), weights };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    },
  };
  await model.save(handler);
  if (!saved) throw new Error('saving the network produced no artifacts');
  return saved;
}

const ModelJsonShape = (json: unknown): { modelTopology: object; weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> } => {
  const value = json as { modelTopology?: unknown; weightsManifest?: unknown };
  if (typeof value !== 'object' || value === null || typeof value.modelTopology !== 'object' || !Array.isArray(value.weightsManifest)) {
    throw new ModelIntegrityError('model.json has no modelTopology or weightsManifest');
  }
  return value as ReturnType<typeof ModelJsonShape>;
};

/** Bytes a weights manifest promises (float32/int32 = 4 bytes a value). */
function manifestBytes(specs: tf.io.WeightsManifestEntry[]): number {
  return specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * (s.dtype === 'bool' ? 1 : 4), 0);
}

/**
 * Loads a network from buffers through a custom tf.io handler. `expectedSha256` (from the
 * model's metadata) must match weights.bin, and weights.bin must be as long as model.json says.
 */
export async function loadNetwork(artifacts: NetworkArtifacts, expectedSha256: string, label = 'model'): Promise<tf.LayersModel> {
  const actual = sha256Hex(artifacts.weights);
  if (actual !== expectedSha256) {
    throw new ModelIntegrityError(
      `${label}: weights.bin sha256 ${actual.slice(0, 12)}… does not match metadata ${expectedSha256.slice(0, 12)}…; the artifact is corrupted or belongs to another model, refusing to load`,
    );
  }
  let parsed: ReturnType<typeof ModelJsonShape>;
  try {
    parsed = ModelJsonShape(JSON.parse(new TextDecoder().decode(artifacts.modelJson)));
  } catch (error) {
    throw new ModelIntegrityError(`${label}: model.json is not valid: ${error instanceof Error ? error.message : String(error)}`);
  }
  const weightSpecs = parsed.weightsManifest.flatMap((group) => group.weights);
  if (manifestBytes(weightSpecs) !== artifacts.weights.byteLength) {
    throw new ModelIntegrityError(
      `${label}: weights.bin has ${artifacts.weights.byteLength} bytes, model.json expects ${manifestBytes(weightSpecs)}`,
    );
  }
  const weightData = artifacts.weights.slice().buffer;
  const handler: tf.io.IOHandler = { load: async () => ({ modelTopology: parsed.modelTopology, weightSpecs, weightData }) };
  return tf.loadLayersModel(handler);
}
