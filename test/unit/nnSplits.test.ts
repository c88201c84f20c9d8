import { describe, expect, it } from 'vitest';
import { stratifiedGroupSplit, stratifiedSplit } from '../../model/nn/random.ts';

describe('stratifiedGroupSplit (the early-stopping slice holds out whole customers)', () => {
  /** 300 customers seen at 1 to 4 cutoffs each; a customer churns at its last cutoff one time in six. */
  const groups: string[] = [];
  const labels: number[] = [];
  for (let c = 0; c < 300; c++) {
    const cutoffs = 1 + (c % 4);
    for (let k = 0; k < cutoffs; k++) {
      groups.push(`cust-${c}`);
      labels.push(c % 6 === 0 && k === cutoffs - 1 ? 1 : 0);
    }
  }

  it('never puts a customer on both sides', () => {
    const { keep, holdout } = stratifiedGroupSplit(labels, groups, 0.15, 3);
    const kept = new Set(keep.map((row) => groups[row]));
    expect(holdout.filter((row) => kept.has(groups[row]))).toEqual([]);
    expect([...keep, ...holdout].sort((a, b) => a - b)).toEqual(labels.map((_, row) => row));
  });

  it('holds out about the share of churning and of staying customers', () => {
    const { holdout } = stratifiedGroupSplit(labels, groups, 0.15, 3);
    const heldCustomers = new Set(holdout.map((row) => groups[row]));
    const churners = [...heldCustomers].filter((id) => Number(id?.slice(5)) % 6 === 0).length;
    expect(churners).toBe(Math.round(50 * 0.15));
    expect(heldCustomers.size - churners).toBe(Math.round(250 * 0.15));
  });

  it('is stratifiedSplit when every row is its own customer', () => {
    const single = labels.map((_, row) => `row-${row}`);
    expect(stratifiedGroupSplit(labels, single, 0.2, 9)).toEqual(stratifiedSplit(labels, 0.2, 9));
  });
});
