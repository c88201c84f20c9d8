import { describe, expect, it } from 'vitest';
import { assignControl, playbookBandStratum } from '../../model/outreach/controlGroup.ts';
import { allocateOutreach, type ClaimOutcome } from '../../model/outreach/selection.ts';
import type { ScoredCustomer } from '../../model/scoring.ts';

interface Item {
  id: string;
  playbook: string;
  band: string;
}

const items = (count: number, playbook = 'offer', band = 'high'): Item[] =>
  Array.from({ length: count }, (_, i) => ({ id: `${playbook}-${band}-${i}`, playbook, band }));

const control = (list: Item[], share: number, seed = 's') =>
  assignControl(list, { share, seed, stratum: playbookBandStratum, id: (item) => item.id });

describe('assignControl: a seeded, stratified hold-out', () => {
  it('holds out the share of every stratum, up to one in a block', () => {
    // Prepare: three strata of different sizes
    const list = [...items(200, 'offer'), ...items(57, 'payment_recovery'), ...items(20, 'offer', 'medium')];
    // Act
    const held = control(list, 0.1);
    // Assess
    const inStratum = (prefix: string) => [...held].filter((id) => id.startsWith(prefix)).length;
    expect(inStratum('offer-high-')).toBe(20);
    expect(Math.abs(inStratum('payment_recovery-high-') - 5.7)).toBeLessThan(1);
    expect(inStratum('offer-medium-')).toBe(2);
  });

  it('holds out a share that is not a whole number per block, on average', () => {
    const held = control(items(1000), 0.15);
    expect(held.size).toBe(150);
  });

  it('gives the same group for the same seed and order, and another for another seed', () => {
    const list = items(100);
    expect([...control(list, 0.2, 'run-1')]).toEqual([...control(list, 0.2, 'run-1')]);
    expect([...control(list, 0.2, 'run-1')].sort()).not.toEqual([...control(list, 0.2, 'run-2')].sort());
  });

  it('balances any prefix of the ranking: the first blocks hold out their share too', () => {
    const held = control(items(400), 0.1);
    for (let end = 20; end <= 400; end += 20) {
      const inPrefix = items(400)
        .slice(0, end)
        .filter((item) => held.has(item.id)).length;
      expect(inPrefix).toBe(end / 10);
    }
  });

  it('gives every position the same chance: over many seeds each rank is held out about share of the time', () => {
    const list = items(40);
    const counts = new Array(40).fill(0) as number[];
    const seeds = 2000;
    for (let s = 0; s < seeds; s++) {
      const held = control(list, 0.1, `seed-${s}`);
      list.forEach((item, i) => {
        if (held.has(item.id)) counts[i] = (counts[i] ?? 0) + 1;
      });
    }
    // Binomial(2000, 0.1): sd ≈ 13.4, so ± 60 is over 4 sd.
    for (const count of counts) expect(Math.abs(count - 200)).toBeLessThan(60);
  });

  it('holds out nobody at 0 and refuses a share outside [0, 1)', () => {
    expect(control(items(50), 0).size).toBe(0);
    expect(() => control(items(5), 1)).toThrow(/control share must be in \[0, 1\), got 1/);
    expect(() => control(items(5), -0.1)).toThrow(/got -0.1/);
  });
});

describe('allocateOutreach with a control group', () => {
  const candidate = (customerId: string) => ({
    customer: { customerId, risk: 0.9, band: 'high', drivers: [], modelVersion: 'm', mrrCents: 100, tenureDays: 10 } as ScoredCustomer,
    expectedLossCents: 90,
  });

  it('claims held-out candidates as control, outside the budget, and stops when the treated have spent it', async () => {
    // Prepare: ten candidates, every third held out, a budget of 4
    const ranked = Array.from({ length: 10 }, (_, i) => candidate(`c${i}`));
    const held = new Set(['c0', 'c3', 'c6', 'c9']);
    const claims: Array<[string, string]> = [];
    // Act
    const allocation = await allocateOutreach(
      ranked,
      { maxMessages: 4 },
      async ({ customer }, arm): Promise<ClaimOutcome> => {
        claims.push([customer.customerId, arm]);
        return customer.customerId === 'c3' ? 'cooldown' : 'claimed';
      },
      ({ customer }) => held.has(customer.customerId),
    );
    // Assess: c1 c2 c4 c5 treated (the budget), c0 control, c3 in cooldown; c6 onwards not reached
    expect(allocation.toSend.map((c) => c.customer.customerId)).toEqual(['c1', 'c2', 'c4', 'c5']);
    expect(allocation.control.map((c) => c.customer.customerId)).toEqual(['c0']);
    expect(allocation.skippedCooldown).toBe(1);
    expect(allocation.skippedBudget).toBe(4);
    expect(claims).toContainEqual(['c0', 'control']);
    expect(claims).toContainEqual(['c1', 'treated']);
  });
});
