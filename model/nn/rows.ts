import type { FeatureMatrix } from '../features/matrix.ts';

/** A matrix with only `rows` (indices into `matrix`), in the given order; columns unchanged. */
export function selectRows(matrix: FeatureMatrix, rows: readonly number[]): FeatureMatrix {
  const nNum = matrix.numericColumns.length;
  const nCat = matrix.categoricalColumns.length;
  const numeric = new Float64Array(rows.length * nNum);
  const categorical = new Int32Array(rows.length * nCat);
  rows.forEach((r, i) => {
    numeric.set(matrix.numeric.subarray(r * nNum, (r + 1) * nNum), i * nNum);
    categorical.set(matrix.categorical.subarray(r * nCat, (r + 1) * nCat), i * nCat);
  });
  return {
    ...matrix,
    customerIds: rows.map((r) => matrix.customerIds[r] as string),
    numeric,
    categorical,
    labels: Int8Array.from(rows, (r) => matrix.labels[r] as number),
    mrrCents: Float64Array.from(rows, (r) => matrix.mrrCents[r] as number),
  };
}

/** Row indices whose label is known (0 or 1). */
export function labelledRows(matrix: FeatureMatrix): number[] {
  const rows: number[] = [];
  matrix.labels.forEach((label, i) => {
    if (label === 0 || label === 1) rows.push(i);
  });
  return rows;
}

/** Churners and stayers among `labels` (unknown labels are not counted). */
export function classCounts(labels: ArrayLike<number>): { positives: number; negatives: number } {
  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) positives++;
    else if (labels[i] === 0) negatives++;
  }
  return { positives, negatives };
}

/** Each row's customer as a number: customers are numbered 0, 1, 2… in order of first appearance (a customer has one row per cutoff). */
export function customerIndexOfRows(customerIds: readonly string[]): Int32Array {
  const indexOf = new Map<string, number>();
  return Int32Array.from(customerIds, (id) => {
    const known = indexOf.get(id);
    if (known !== undefined) return known;
    indexOf.set(id, indexOf.size);
    return indexOf.size - 1;
  });
}
