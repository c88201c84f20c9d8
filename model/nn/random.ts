import { customerIndexOfRows } from './rows.ts';
/**
 * Seeded randomness for reproducible training: the same seed gives the same shuffles,
 * splits and dropout masks on every run and backend.
 */

/** mulberry32: a small, fast 32-bit PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of `items` in place, driven by `random`. */
export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}

/**
 * stratifiedSplit by group: every row of a group (a customer seen at several cutoffs) lands on
 * the same side, so a held-out slice never holds a customer the model trained on. A group
 * counts as positive when any of its rows is. With one row per group it is stratifiedSplit.
 */
export function stratifiedGroupSplit(
  labels: ArrayLike<number>,
  groups: readonly string[],
  holdoutShare: number,
  seed: number,
): { keep: number[]; holdout: number[] } {
  const groupOfRow = customerIndexOfRows(groups);
  const groupLabels = new Array<number>(groupOfRow.reduce((n, g) => Math.max(n, g + 1), 0)).fill(0);
  for (const [row, g] of groupOfRow.entries()) groupLabels[g] = Math.max(groupLabels[g] as number, labels[row] as number);
  const held = new Set(stratifiedSplit(groupLabels, holdoutShare, seed).holdout);
  const keep: number[] = [];
  const holdout: number[] = [];
  for (const [row, g] of groupOfRow.entries()) (held.has(g) ? holdout : keep).push(row);
  return { keep, holdout };
}

/**
 * Splits row indices into two parts, keeping the share of positives equal in both
 * (stratified by `labels`). `holdoutShare` of each class goes to `holdout`, at least one row
 * of a class when the class has two or more rows.
 */
export function stratifiedSplit(labels: ArrayLike<number>, holdoutShare: number, seed: number): { keep: number[]; holdout: number[] } {
  const random = seededRandom(seed);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    const rows = byClass.get(label) ?? [];
    rows.push(i);
    byClass.set(label, rows);
  }
  const keep: number[] = [];
  const holdout: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = shuffleInPlace(byClass.get(label) ?? [], random);
    const share = rows.length >= 2 ? Math.max(1, Math.round(rows.length * holdoutShare)) : 0;
    holdout.push(...rows.slice(0, share));
    keep.push(...rows.slice(share));
  }
  const byIndex = (a: number, b: number) => a - b;
  return { keep: keep.sort(byIndex), holdout: holdout.sort(byIndex) };
}
