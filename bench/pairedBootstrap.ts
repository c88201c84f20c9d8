import { rocAuc } from '../model/nn/metrics.ts';
import { seededRandom } from '../model/nn/random.ts';

/**
 * The ROC AUC difference of two scorers on the same rows, with a 95% percentile interval from a
 * paired bootstrap (rows resampled with replacement, within each class so that every resample has
 * both, the same rows for both scorers). On a test split of a few hundred churners a difference
 * of 0.01 is often noise: "level" means the interval holds 0.
 */
export function aucDifference(
  labels: ArrayLike<number>,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  resamples = 1_000,
  seed = 7,
): { difference: number; low: number; high: number; verdict: 'better' | 'level' | 'worse' } {
  const random = seededRandom(seed);
  const byClass = [0, 1].map((label) => Array.from({ length: labels.length }, (_, i) => i).filter((i) => labels[i] === label));
  const differences: number[] = [];
  const n = labels.length;
  const sampleLabels = new Int8Array(n);
  const sampleA = new Float64Array(n);
  const sampleB = new Float64Array(n);
  for (let s = 0; s < resamples; s++) {
    let k = 0;
    for (const rows of byClass) {
      for (let j = 0; j < rows.length; j++) {
        const row = rows[Math.floor(random() * rows.length)] as number;
        sampleLabels[k] = labels[row] as number;
        sampleA[k] = a[row] as number;
        sampleB[k] = b[row] as number;
        k++;
      }
    }
    differences.push(rocAuc(sampleLabels, sampleA) - rocAuc(sampleLabels, sampleB));
  }
  differences.sort((x, y) => x - y);
  const low = differences[Math.floor(0.025 * resamples)] as number;
  const high = differences[Math.ceil(0.975 * resamples) - 1] as number;
  const difference = rocAuc(labels, a) - rocAuc(labels, b);
  return { difference, low, high, verdict: low > 0 ? 'better' : high < 0 ? 'worse' : 'level' };
}
