import { describe, expect, it } from 'vitest';
import { scoresCsv } from '../../cli/commands/score.ts';
import type { ScoredCustomer } from '../../model/scoring.ts';

const customer = (id: string, sentences: string[]): ScoredCustomer => ({
  customerId: id,
  risk: 0.25,
  band: 'high',
  drivers: sentences.map((sentence) => ({ feature: 'f', family: 'payments', value: 1, sentence, contribution: 0.1 })),
  modelVersion: 'm-20261123T181500Z-abcdef',
  mrrCents: 1900,
  tenureDays: 40,
});

describe('scoresCsv (churnguard score --out)', () => {
  it('writes customerId, risk, band, three driver sentences and the model version; absent drivers are empty', () => {
    const csv = scoresCsv([customer('c1', ['2 failed payments in the last 14 days'])]);
    expect(csv.split('\n')).toEqual([
      'customerId,risk,band,driver_1,driver_2,driver_3,modelVersion',
      'c1,0.250000,high,2 failed payments in the last 14 days,,,m-20261123T181500Z-abcdef',
      '',
    ]);
  });

  it('quotes fields holding commas or quotes', () => {
    const csv = scoresCsv([customer('c,2', ['plan is "pro", monthly'])]);
    expect(csv.split('\n')[1]).toBe('"c,2",0.250000,high,"plan is ""pro"", monthly",,,m-20261123T181500Z-abcdef');
  });
});
