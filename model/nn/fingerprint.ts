import { createHash } from 'node:crypto';
import type { FeatureMatrix } from '../features/matrix.ts';

/**
 * A sha256 (hex) of the data a model was trained on: cutoffs, column names, customer ids,
 * values and labels of every matrix, in order. The same data gives the same fingerprint, so a
 * retried registration of the same training run gets the same model version.
 */
export function fingerprintMatrices(...matrices: FeatureMatrix[]): string {
  const hash = createHash('sha256');
  for (const m of matrices) {
    hash.update(JSON.stringify({
      cutoff: m.cutoff,
      numeric: m.numericColumns.map((c) => c.name),
      categorical: m.categoricalColumns.map((c) => [c.name, c.categories]),
      customers: m.customerIds,
    }));
    for (const array of [m.numeric, m.categorical, m.labels, m.mrrCents]) {
      hash.update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    }
  }
  return hash.digest('hex');
}

/** Sortable model version: `m-<UTC yyyymmddThhmmssZ>-<first 6 hex of the data fingerprint>`. */
export function modelVersionId(createdAt: Date, dataFingerprint: string): string {
  const stamp = createdAt.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `m-${stamp}-${dataFingerprint.slice(0, 6)}`;
}
