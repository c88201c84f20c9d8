import { csvText as quote } from '../csv.ts';
import type { FeatureMatrix } from './matrix.ts';

/** The header of `matrixToCsvRows`: customerId, every numeric then categorical column, mrrCents, label. */
export const matrixCsvHeader = (m: FeatureMatrix): string =>
  ['customerId', ...m.numericColumns.map((c) => c.name), ...m.categoricalColumns.map((c) => c.name), 'mrrCents', 'label']
    .map(quote)
    .join(',');

/**
 * The rows of a matrix as CSV lines: numbers as they are (empty when missing), categories by name
 * (empty when missing), label 1/0 or empty when unknown.
 */
export function* matrixToCsvRows(m: FeatureMatrix): Generator<string> {
  const nNum = m.numericColumns.length;
  const nCat = m.categoricalColumns.length;
  for (let r = 0; r < m.customerIds.length; r++) {
    const cells: string[] = [quote(m.customerIds[r] ?? '')];
    for (let c = 0; c < nNum; c++) {
      const v = m.numeric[r * nNum + c] as number;
      cells.push(Number.isNaN(v) ? '' : String(Math.round(v * 1e6) / 1e6));
    }
    for (let c = 0; c < nCat; c++) {
      const code = m.categorical[r * nCat + c] as number;
      cells.push(code < 0 ? '' : quote(m.categoricalColumns[c]?.categories[code] ?? ''));
    }
    const mrr = m.mrrCents[r] as number;
    cells.push(Number.isNaN(mrr) ? '' : String(mrr));
    const label = m.labels[r] as number;
    cells.push(label < 0 ? '' : String(label));
    yield cells.join(',');
  }
}
