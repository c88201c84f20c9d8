import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildOutreachMessage, outreachDedupId } from '../../model/outreach/message.ts';
import { scoredCustomer } from './outreachFactories.ts';

describe('outreachDedupId', () => {
  it('keeps the readable <runId>:<customerId> for ordinary ids', () => {
    expect(outreachDedupId('score-2026-11-23', 'cus_42')).toBe('score-2026-11-23:cus_42');
    expect(outreachDedupId('train.v2_a-b', 'A-1.b_c')).toBe('train.v2_a-b:A-1.b_c');
  });

  it('gives different claims different ids when the run or the customer contains ":" or "%"', () => {
    expect(outreachDedupId('a:b', 'c')).not.toBe(outreachDedupId('a', 'b:c'));
    expect(outreachDedupId('a%3Ab', 'c')).not.toBe(outreachDedupId('a:b', 'c'));
    expect(outreachDedupId('a', 'b%3Ac')).not.toBe(outreachDedupId('a', 'b:c'));
    expect(outreachDedupId('2026-11-23T06:00', 'cus:1')).toBe('2026-11-23T06%3A00:cus%3A1');
  });

  it('is injective: two different (runId, customerId) pairs never share an id', () => {
    const part = fc.string({ unit: fc.constantFrom('a', ':', '%', '3', 'A', '2', '5'), maxLength: 6 });
    fc.assert(
      fc.property(part, part, part, part, (run1, customer1, run2, customer2) => {
        fc.pre(run1 !== run2 || customer1 !== customer2);
        expect(outreachDedupId(run1, customer1)).not.toBe(outreachDedupId(run2, customer2));
      }),
      { numRuns: 2_000 },
    );
  });

  it('is the id the message carries, so the consumer and the webhook receiver deduplicate on it', () => {
    const message = buildOutreachMessage({
      customer: scoredCustomer({ customerId: 'b:c' }),
      playbook: 'payment_recovery',
      runId: 'a',
      createdAt: '2026-11-23T00:00:00.000Z',
    });
    expect(message.dedupId).toBe('a:b%3Ac');
  });
});
