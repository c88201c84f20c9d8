import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocateOutreach, type ClaimOutcome, expectedLossCents, rankForOutreach } from '../../model/outreach/selection.ts';
import { scoredCustomer } from './outreachFactories.ts';

describe('expectedLossCents', () => {
  it('is calibrated risk × MRR, and risk × the unit value when MRR is unknown', () => {
    expect(expectedLossCents(0.25, 8_000)).toBe(2_000);
    expect(expectedLossCents(0.25, null)).toBe(0.25);
    expect(expectedLossCents(0.25, null, 4_000)).toBe(1_000);
  });
});

describe('expectedLossCents with an unusable MRR', () => {
  it('uses the unit value for a negative, infinite or NaN MRR, but a zero MRR is worth nothing', () => {
    expect(expectedLossCents(0.5, -100, 10)).toBe(5);
    expect(expectedLossCents(0.5, Number.POSITIVE_INFINITY, 10)).toBe(5);
    expect(expectedLossCents(0.5, Number.NaN, 10)).toBe(5);
    expect(expectedLossCents(0.5, 0, 10)).toBe(0);
  });
});

describe('rankForOutreach', () => {
  it('keeps customers at or above the cost threshold, ranked by expected loss, not by risk', () => {
    // Prepare
    const scored = [
      scoredCustomer({ customerId: 'cheap-risky', risk: 0.9, mrrCents: 1_000 }), // 900
      scoredCustomer({ customerId: 'valuable', risk: 0.4, mrrCents: 10_000 }), // 4000
      scoredCustomer({ customerId: 'at-threshold', risk: 0.3, mrrCents: 5_000 }), // 1500
      scoredCustomer({ customerId: 'below', risk: 0.29, mrrCents: 100_000 }),
    ];
    // Act
    const { ranked, belowThreshold } = rankForOutreach(scored, { threshold: 0.3 });
    // Assess
    expect(ranked.map((r) => r.customer.customerId)).toEqual(['valuable', 'at-threshold', 'cheap-risky']);
    expect(ranked.map((r) => r.expectedLossCents)).toEqual([4_000, 1_500, 900]);
    expect(belowThreshold).toBe(1);
  });

  it('orders equal expected losses by risk, then customer id, so re-runs pick the same customers', () => {
    const scored = [
      scoredCustomer({ customerId: 'b', risk: 0.5, mrrCents: 2_000 }),
      scoredCustomer({ customerId: 'a', risk: 0.5, mrrCents: 2_000 }),
      scoredCustomer({ customerId: 'c', risk: 1, mrrCents: 1_000 }),
    ];
    expect(rankForOutreach(scored, { threshold: 0 }).ranked.map((r) => r.customer.customerId)).toEqual(['c', 'a', 'b']);
  });

  it('orders equal losses and risks by customer id whatever the input order, and counts a NaN risk below the threshold', () => {
    const tie = (id: string) => scoredCustomer({ customerId: id, risk: 0.5, mrrCents: null });
    for (const order of [
      ['c', 'a', 'b'],
      ['a', 'b', 'c'],
      ['c', 'b', 'a'],
    ]) {
      const { ranked, belowThreshold } = rankForOutreach([...order.map(tie), scoredCustomer({ customerId: 'nan', risk: Number.NaN })], {
        threshold: 0,
        unknownMrrValueCents: 4_000,
      });
      expect(ranked.map((r) => r.customer.customerId)).toEqual(['a', 'b', 'c']);
      expect(ranked.map((r) => r.expectedLossCents)).toEqual([2_000, 2_000, 2_000]);
      expect(belowThreshold).toBe(1);
    }
  });

  it('applies to each customer the threshold of the model that scored them, when given one per customer', () => {
    // Prepare: stored scores of two models, thresholds 0.5 and 0.2
    const thresholds: Record<string, number> = { strict: 0.5, lenient: 0.2 };
    const scored = [
      scoredCustomer({ customerId: 'strict-in', risk: 0.5, mrrCents: 1_000, modelVersion: 'strict' }),
      scoredCustomer({ customerId: 'strict-out', risk: 0.4, mrrCents: 9_000, modelVersion: 'strict' }),
      scoredCustomer({ customerId: 'lenient-in', risk: 0.25, mrrCents: 4_000, modelVersion: 'lenient' }),
      scoredCustomer({ customerId: 'lenient-out', risk: 0.1, mrrCents: 9_000, modelVersion: 'lenient' }),
    ];
    // Act
    const { ranked, belowThreshold } = rankForOutreach(scored, { threshold: (c) => thresholds[c.modelVersion] as number });
    // Assess: one ranking across both models, by expected loss
    expect(ranked.map((r) => r.customer.customerId)).toEqual(['lenient-in', 'strict-in']);
    expect(belowThreshold).toBe(2);
  });
});

describe('allocateOutreach', () => {
  // Made in each test (not while collecting), so that each test runs on the code under test as it is then.
  const candidates = () =>
    rankForOutreach(
      ['a', 'b', 'c', 'd', 'e'].map((id, i) => scoredCustomer({ customerId: id, risk: 0.9 - i * 0.1 })),
      { threshold: 0 },
    ).ranked;

  it('claims best first within the budget and counts the rest as over budget', async () => {
    const claimed: string[] = [];
    const allocation = await allocateOutreach(candidates(), { maxMessages: 2 }, async ({ customer }) => {
      claimed.push(customer.customerId);
      return 'claimed';
    });
    expect(allocation.toSend.map((c) => c.customer.customerId)).toEqual(['a', 'b']);
    expect(claimed).toEqual(['a', 'b']); // never claims beyond the budget
    expect(allocation.skippedBudget).toBe(3);
  });

  it('skips customers in cooldown without spending budget on them', async () => {
    const outcomes: Record<string, ClaimOutcome> = { a: 'cooldown', b: 'claimed', c: 'cooldown', d: 'claimed', e: 'claimed' };
    const allocation = await allocateOutreach(candidates(), { maxMessages: 2 }, async ({ customer }) => outcomes[customer.customerId]!);
    expect(allocation.toSend.map((c) => c.customer.customerId)).toEqual(['b', 'd']);
    expect(allocation.skippedCooldown).toBe(2);
    expect(allocation.skippedBudget).toBe(1);
  });

  it('re-sends resumed claims and counts already-sent ones against the budget without re-sending', async () => {
    const outcomes: Record<string, ClaimOutcome> = { a: 'already-sent', b: 'resumed', c: 'claimed', d: 'claimed', e: 'claimed' };
    const allocation = await allocateOutreach(candidates(), { maxMessages: 3 }, async ({ customer }) => outcomes[customer.customerId]!);
    expect(allocation.alreadySent.map((c) => c.customer.customerId)).toEqual(['a']);
    expect(allocation.toSend.map((c) => c.customer.customerId)).toEqual(['b', 'c']);
    expect(allocation.skippedBudget).toBe(2);
  });

  it('sends nothing with a zero budget', async () => {
    const allocation = await allocateOutreach(candidates(), { maxMessages: 0 }, async () => 'claimed');
    expect(allocation.toSend).toEqual([]);
    expect(allocation.skippedBudget).toBe(5);
  });
});

describe('selection properties', () => {
  const customerArb = fc.record({
    risk: fc.double({ min: 0, max: 1, noNaN: true }),
    mrrCents: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: null }),
  });
  const outcomeArb = fc.constantFrom<ClaimOutcome>('claimed', 'resumed', 'already-sent', 'cooldown', 'over-budget');

  it('never exceeds the budget, keeps rank order, and accounts for every candidate', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(customerArb, outcomeArb), { maxLength: 40 }),
        fc.integer({ min: 0, max: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (rows, maxMessages, threshold) => {
          const scored = rows.map(([c], i) => scoredCustomer({ customerId: `c${i}`, ...c }));
          const outcomeOf = new Map(rows.map(([, o], i) => [`c${i}`, o]));
          const { ranked, belowThreshold } = rankForOutreach(scored, { threshold });
          const allocation = await allocateOutreach(ranked, { maxMessages }, async ({ customer }) => outcomeOf.get(customer.customerId)!);
          const used = allocation.toSend.length + allocation.alreadySent.length;
          expect(used).toBeLessThanOrEqual(maxMessages);
          expect(ranked.length + belowThreshold).toBe(scored.length);
          expect(ranked.every((r) => r.customer.risk >= threshold)).toBe(true);
          expect(used + allocation.skippedCooldown + allocation.skippedBudget).toBe(ranked.length);
          for (let i = 1; i < ranked.length; i++)
            expect(ranked[i - 1]!.expectedLossCents).toBeGreaterThanOrEqual(ranked[i]!.expectedLossCents);
          const position = new Map(ranked.map((r, i) => [r.customer.customerId, i]));
          const sendOrder = allocation.toSend.map((r) => position.get(r.customer.customerId)!);
          expect([...sendOrder].sort((a, b) => a - b)).toEqual(sendOrder);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('allocateOutreach and the daily budget', () => {
  it('stops at the first over-budget claim: the day is spent for every later candidate', async () => {
    const ranked = rankForOutreach(
      ['a', 'b', 'c', 'd'].map((id, i) => scoredCustomer({ customerId: id, risk: 0.9 - i * 0.1 })),
      { threshold: 0 },
    ).ranked;
    const asked: string[] = [];
    const allocation = await allocateOutreach(ranked, { maxMessages: 10 }, async ({ customer }) => {
      asked.push(customer.customerId);
      return customer.customerId === 'b' ? 'over-budget' : 'claimed';
    });
    expect(allocation.toSend.map((c) => c.customer.customerId)).toEqual(['a']);
    expect(allocation.skippedBudget).toBe(3);
    expect(asked).toEqual(['a', 'b']);
  });
});
