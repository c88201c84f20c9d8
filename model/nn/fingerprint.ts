import { createHash } from 'node:crypto';
import type { FeatureMatrix } from '../features/matrix.ts';

/** The training settings that change the model a matrix trains into (everything but the data). */
export interface FingerprintedSettings {
  seed: number;
  costLostCustomer: number;
  costIntervention: number;
  epochs?: number | undefined;
  maxTrainingRows?: number | undefined;
  architecture?: object | undefined;
  baselineArchitecture?: object | undefined;
  preprocessing?: object | undefined;
  /** false: no final fit on every labelled cutoff (the benchmarks compare both). */
  finalFit?: boolean | undefined;
  /** Whether the baseline may be blended into the scoring network (blend.ts). */
  blend?: boolean | undefined;
}

/**
 * The one fingerprint of a training run: a sha256 (hex) of the training and validation matrices
 * (cutoffs, column names, customer ids, values, labels, in order) and of the settings that shape
 * the model. The same data and settings give the same fingerprint, hence the same model version,
 * whether the CLI's `train` or the scheduled job trains; a retried run recognises its own model.
 *
 * @example trainingFingerprint(datasets.train, datasets.validation, { seed: 42, costLostCustomer: 500, costIntervention: 50, backend: 'wasm' })
 */
export function trainingFingerprint(train: FeatureMatrix, validation: FeatureMatrix, settings: FingerprintedSettings): string {
  const hash = createHash('sha256');
  for (const m of [train, validation]) {
    hash.update(
      JSON.stringify({
        cutoff: m.cutoff,
        numeric: m.numericColumns.map((c) => c.name),
        categorical: m.categoricalColumns.map((c) => [c.name, c.categories]),
        customers: m.customerIds,
      }),
    );
    for (const array of [m.numeric, m.categorical, m.labels, m.mrrCents]) {
      hash.update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    }
  }
  hash.update(stableJson(settings));
  return hash.digest('hex');
}

/** JSON with object keys sorted at every level, so that equal settings hash equally. */
const stableJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );

/**
 * Model version: `m-<yyyymmddThhmmssZ of the training as-of>-<first 6 hex of the fingerprint>`.
 * Versions sort by the moment they describe, and training the same data the same way twice
 * gives the same version (registering it again is idempotent).
 */
export function modelVersionId(asOf: Date, fingerprint: string): string {
  const stamp = asOf
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `m-${stamp}-${fingerprint.slice(0, 6)}`;
}
