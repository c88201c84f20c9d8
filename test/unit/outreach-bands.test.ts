import { describe, expect, it } from 'vitest';
import { assignBands, bandReason } from '../../model/outreach/bands.ts';
import { scoredCustomer } from './outreachFactories.ts';

describe('bands that guide action', () => {
  // Risks 0.9 … 0.1 with MRR such that expected loss and risk disagree on the order.
  const base = [
    scoredCustomer({ customerId: 'a', risk: 0.9, mrrCents: 1_000 }), // loss 900
    scoredCustomer({ customerId: 'b', risk: 0.6, mrrCents: 10_000 }), // loss 6,000
    scoredCustomer({ customerId: 'c', risk: 0.5, mrrCents: 4_000 }), // loss 2,000
    scoredCustomer({ customerId: 'd', risk: 0.3, mrrCents: 5_000 }), // loss 1,500
    scoredCustomer({ customerId: 'e', risk: 0.2, mrrCents: 50_000 }), // below the threshold
    scoredCustomer({ customerId: 'f', risk: 0.1, mrrCents: 5_000 }),
  ];

  it('are high above the threshold within the budget’s reach by expected loss, medium above it beyond the reach, low below it', () => {
    const { customers, rankOf } = assignBands(base, { threshold: 0.25, reach: 2 });
    expect(customers.map((c) => [c.customerId, c.band])).toEqual([
      ['a', 'medium'],
      ['b', 'high'],
      ['c', 'high'],
      ['d', 'medium'],
      ['e', 'low'],
      ['f', 'low'],
    ]);
    expect(Object.fromEntries(rankOf)).toEqual({ b: 1, c: 2, d: 3, a: 4 });
  });

  it('cap the high band at the budget however many customers are above the threshold', () => {
    const many = Array.from({ length: 500 }, (_, i) => scoredCustomer({ customerId: `c${i}`, risk: 0.3 + (i % 7) / 10 }));
    const { customers, guide } = assignBands(many, { threshold: 0.254, reach: 100 });
    expect(customers.filter((c) => c.band === 'high')).toHaveLength(100);
    expect(guide.map((g) => [g.band, g.customers])).toEqual([
      ['high', 100],
      ['medium', 400],
      ['low', 0],
    ]);
  });

  it('say what each band means, the churn the model expects in it and its lift over the whole base', () => {
    const { guide } = assignBands(base, { threshold: 0.25, reach: 2 });
    const high = guide.find((g) => g.band === 'high');
    expect(high?.meaning).toBe(
      'at or above the cost threshold (risk 0.250) and within the 2 highest expected losses (risk × MRR) the outreach budget reaches: contact first',
    );
    expect(high?.meanRisk).toBeCloseTo(0.55, 12);
    expect(high?.lift).toBeCloseTo(0.55 / (2.6 / 6), 12);
    expect(guide.find((g) => g.band === 'low')?.meaning).toBe(
      'below the cost threshold (risk 0.250): outreach is expected to cost more than the loss it prevents',
    );
  });

  it('say why one customer is in their band', () => {
    expect(bandReason('high', 0.6, 0.25, 1, 100)).toBe(
      "risk 60.0% ≥ the cost threshold 25.0%, and rank 1 by expected loss is within the budget's reach of 100",
    );
    expect(bandReason('medium', 0.3, 0.25, 140, 100)).toBe(
      "risk 30.0% ≥ the cost threshold 25.0%, but rank 140 by expected loss is beyond the budget's reach of 100",
    );
    expect(bandReason('low', 0.1, 0.25, undefined, 100)).toBe('risk 10.0% is below the cost threshold 25.0%');
  });
});
