import { describe, expect, it } from 'vitest';
import { classCounts } from '../../model/nn/rows.ts';
import { capTrainingRows } from '../../model/nn/trainChurnModel.ts';
import { syntheticMatrix } from './nnFixtures.ts';

describe('capTrainingRows (a large customer base trains on a stratified sample)', () => {
  it('keeps every row when there are no more than the cap', () => {
    const rows = syntheticMatrix(200, 1);
    expect(capTrainingRows(rows, 200, 7, () => {})).toBe(rows);
  });

  it('samples down to the cap, keeping the share of churners, and says so', () => {
    // Prepare
    const rows = syntheticMatrix(2000, 2);
    const before = classCounts(rows.labels);
    const messages: string[] = [];
    // Act
    const capped = capTrainingRows(rows, 500, 7, (m) => messages.push(m));
    // Assess
    const after = classCounts(capped.labels);
    expect(capped.customerIds.length).toBeGreaterThanOrEqual(498);
    expect(capped.customerIds.length).toBeLessThanOrEqual(502);
    expect(after.positives / capped.customerIds.length).toBeCloseTo(before.positives / rows.customerIds.length, 2);
    expect(capped.numeric.length).toBe(capped.customerIds.length * capped.numericColumns.length);
    expect(messages.join()).toContain('stratified sample');
  });

  it('draws the same sample for the same seed', () => {
    const rows = syntheticMatrix(1000, 3);
    expect(capTrainingRows(rows, 300, 11, () => {}).customerIds).toEqual(capTrainingRows(rows, 300, 11, () => {}).customerIds);
  });
});
