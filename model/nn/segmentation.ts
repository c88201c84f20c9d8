import type { PreprocessingOptions } from './preprocessing.ts';

/**
 * Where to cut a number into pieces the network can use: quantile edges, and honest supervised
 * thresholds (a one-feature decision tree whose splits must be confirmed on the other half of the
 * customers), within a budget of churners per input.
 */

/** A split of a supervised segmentation must be significant at p < 0.001 on the rows that chose it (1 degree of freedom)… */
export const SPLIT_CHI_SQUARE = 10.83;
/** …and confirmed at p < 0.05, in the same direction, on the rows that did not. */
export const CONFIRM_CHI_SQUARE = 3.84;
/** Each side of a supervised split keeps at least this many rows and this share of the rows. */
export const MIN_SPLIT_ROWS = 30;
export const MIN_SPLIT_SHARE = 0.02;

/** 2×2 chi-square of (churners, stayers) left vs right, signed: positive when the right side churns more. */
function signedChiSquare(leftRows: number, leftChurned: number, rightRows: number, rightChurned: number): number {
  const [a, b, c, d] = [leftChurned, leftRows - leftChurned, rightChurned, rightRows - rightChurned];
  const denominator = (a + b) * (c + d) * (a + c) * (b + d);
  if (denominator <= 0) return 0;
  return (Math.sign(c * (a + b) - a * (c + d)) * ((a + b + c + d) * (a * d - b * c) ** 2)) / denominator;
}

/**
 * Target-aware segment edges of one numeric column (the "PLE-T" variant of Gorishniy et al.,
 * 2022): a decision tree on the column alone, down to log2(maxSegments) levels. Honest splits:
 * the rows of half 0 choose each threshold (the midpoint between distinct values with the largest
 * chi-square, above SPLIT_CHI_SQUARE) and the rows of half 1 must confirm it (CONFIRM_CHI_SQUARE,
 * same direction), so thresholds that only fit noise are dropped. `halves` gives each row's half
 * (default: even rows, odd rows); fitPreprocessing halves by customer, so a customer seen at
 * several cutoffs cannot confirm its own threshold. Returns [min, thresholds…, max], or none for
 * a column of one or two values or without a confirmed split.
 */
export function supervisedEdges(
  values: ArrayLike<number>,
  labels: ArrayLike<number>,
  maxSegments: number,
  halves?: ArrayLike<number>,
): number[] {
  return supervisedSegmentation(values, labels, maxSegments, halves).edges;
}

/** supervisedEdges with the chi-square of the first (root) split: how strongly the column separates churners. */
export function supervisedSegmentation(
  values: ArrayLike<number>,
  labels: ArrayLike<number>,
  maxSegments: number,
  halves: ArrayLike<number> = Array.from({ length: values.length }, (_, row) => row % 2),
): { edges: number[]; strength: number } {
  const none = { edges: [], strength: 0 };
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  const xs = Float64Array.from(order, (i) => values[i] as number);
  if (n === 0 || xs.findIndex((x) => x > (xs[0] as number) && x < (xs[n - 1] as number)) < 0) return none;
  // Prefix counts over the sorted rows, per half: rows and churners at positions < k.
  const count = [new Float64Array(n + 1), new Float64Array(n + 1)];
  const churned = [new Float64Array(n + 1), new Float64Array(n + 1)];
  order.forEach((row, k) => {
    for (const half of [0, 1]) {
      const mine = halves[row] === half ? 1 : 0;
      (count[half] as Float64Array)[k + 1] = ((count[half] as Float64Array)[k] as number) + mine;
      (churned[half] as Float64Array)[k + 1] = ((churned[half] as Float64Array)[k] as number) + (mine && labels[row] === 1 ? 1 : 0);
    }
  });
  const between = (half: number, lo: number, k: number, hi: number) => {
    const c = count[half] as Float64Array;
    const p = churned[half] as Float64Array;
    return signedChiSquare(
      (c[k] as number) - (c[lo] as number),
      (p[k] as number) - (p[lo] as number),
      (c[hi] as number) - (c[k] as number),
      (p[hi] as number) - (p[k] as number),
    );
  };
  const minLeaf = Math.max(MIN_SPLIT_ROWS, Math.ceil(MIN_SPLIT_SHARE * n));
  const maxDepth = Math.floor(Math.log2(Math.max(1, maxSegments)));
  const thresholds: number[] = [];
  let strength = 0;
  const split = (lo: number, hi: number, depth: number): void => {
    if (depth >= maxDepth || hi - lo < 2 * minLeaf) return;
    let best = { chiSquare: SPLIT_CHI_SQUARE, at: -1, sign: 0 };
    for (let k = lo + minLeaf; k <= hi - minLeaf; k++) {
      if ((xs[k] as number) === (xs[k - 1] as number)) continue;
      const chosen = between(0, lo, k, hi);
      if (Math.abs(chosen) > best.chiSquare) best = { chiSquare: Math.abs(chosen), at: k, sign: Math.sign(chosen) };
    }
    if (best.at < 0) return;
    const confirmed = between(1, lo, best.at, hi);
    if (Math.sign(confirmed) !== best.sign || Math.abs(confirmed) < CONFIRM_CHI_SQUARE) return;
    if (depth === 0) strength = best.chiSquare;
    thresholds.push(((xs[best.at - 1] as number) + (xs[best.at] as number)) / 2);
    split(lo, best.at, depth + 1);
    split(best.at, hi, depth + 1);
  };
  split(0, n, 0);
  if (thresholds.length === 0) return none;
  return { edges: [xs[0] as number, ...thresholds.sort((a, b) => a - b), xs[n - 1] as number], strength };
}

/** Segment inputs the training churners can carry: ⌊churners / minChurnersPerSegment⌋, unlimited without a cap. */
export function segmentInputBudget(options: PreprocessingOptions, churners: number): number {
  const perInput = options.minChurnersPerSegment ?? 0;
  return perInput > 0 ? Math.floor(churners / perInput) : Number.POSITIVE_INFINITY;
}

/** Segments per numeric column after the churners-per-segment cap (0 or ≥ 2: one segment adds nothing). */
export function segmentsPerColumn(options: PreprocessingOptions, churners: number, numericColumns: number): number {
  const wanted = options.numericSegments ?? 0;
  const affordable = numericColumns > 0 ? Math.floor(segmentInputBudget(options, churners) / numericColumns) : wanted;
  const segments = Math.min(wanted, affordable);
  return segments >= 2 ? segments : 0;
}

/** Ascending `edges` without near-repeats (within 1e-9 of the previous kept edge). */
export function distinctAscending(edges: number[]): number[] {
  const kept: number[] = [];
  for (const edge of [...edges].sort((a, b) => a - b))
    if (kept.length === 0 || edge > (kept[kept.length - 1] as number) + 1e-9) kept.push(edge);
  return kept;
}

/** Distinct quantile edges of `sorted` (ascending) at k/segments, k = 0..segments: none when fewer than 2 segments remain. */
export function quantileEdges(sorted: ArrayLike<number>, segments: number): number[] {
  if (segments < 2 || sorted.length === 0) return [];
  const at = (k: number) => sorted[Math.min(sorted.length - 1, Math.round((k / segments) * (sorted.length - 1)))] as number;
  const edges = distinctAscending(Array.from({ length: segments + 1 }, (_, k) => at(k)));
  return edges.length >= 3 ? edges : [];
}
