import { describe, expect, it } from 'vitest';
import { riskItem, StoredRiskItem } from '../../adapters/aws/riskStore.ts';
import { storableNumber } from '../../adapters/aws/storableNumber.ts';
import { driver, scoredCustomer } from './outreachFactories.ts';

describe('riskItem', () => {
  it('stores numbers DynamoDB would reject as underflow (below 1e-130) as 0 and keeps the rest exactly', () => {
    // Prepare: a customer the model is all but sure stays, with a vanishing driver
    const customer = scoredCustomer({
      customerId: 'c-1',
      risk: 5e-131,
      band: 'low',
      drivers: [
        { ...driver('activity', 1e-200), value: -2e-140 },
        { ...driver('payments', 0.25), value: 1e-129 },
      ],
    });
    // Act
    const item = riskItem({
      customer,
      playbook: 're_engagement',
      runId: 'score-2026-06-30',
      scoredAt: '2026-06-30T00:00:00.000Z',
      threshold: 0.2,
    });
    // Assess
    const stored = StoredRiskItem.parse(item);
    expect(stored.risk).toBe(0);
    expect(stored.drivers.map((d) => [d.contribution, d.value])).toEqual([
      [0, 0],
      [0.25, 1e-129],
    ]);
  });

  it('leaves ordinary and large numbers alone', () => {
    expect([storableNumber(0.3), storableNumber(-1e-130), storableNumber(1e300), storableNumber(0)]).toEqual([0.3, -1e-130, 1e300, 0]);
  });
});
