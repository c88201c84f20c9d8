import { describe, expect, it } from 'vitest';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { buildFeatureMatrix } from '../../model/features/datasets.ts';
import { dunningHoldUntil, holdDuringDunning } from '../../model/outreach/dunning.ts';
import type { Playbook } from '../../model/outreach/playbooks.ts';
import type { RankedCandidate } from '../../model/outreach/selection.ts';
import { dunningOfRow, type PaymentDunning, type ScoredCustomer } from '../../model/scoring.ts';
import { at, ev, histories, session, start, T, T_MS } from './featuresFixtures.ts';
import { scoredCustomer } from './outreachFactories.ts';

/**
 * The payment_recovery playbook leaves a customer to the payment processor while it still retries
 * the charge (Stripe's dunning): no contact before its announced retry, or before a chosen delay.
 */

const failed = (occurredAt: string, nextRetryAt?: string, customerId = 'c1') =>
  ev('payment_failed', occurredAt, { amountCents: 900, reason: 'card_declined', ...(nextRetryAt ? { nextRetryAt } : {}) }, customerId);

async function dunningAtT(events: ChurnEvent[]): Promise<PaymentDunning | undefined> {
  const matrix = await buildFeatureMatrix(histories(events), T);
  return dunningOfRow(matrix.paymentDunning, matrix.customerIds.indexOf('c1'));
}

const candidate = (
  customerId: string,
  playbook: Playbook,
  dunning?: PaymentDunning,
): RankedCandidate<ScoredCustomer & { playbook: Playbook }> => ({
  customer: { ...scoredCustomer({ customerId, ...(dunning ? { dunning } : {}) }), playbook },
  expectedLossCents: 100,
});

describe('the dunning a feature matrix carries per customer', () => {
  it('is the retry the latest failed payment announced', async () => {
    const dunning = await dunningAtT([start(at(-60)), failed(at(-3), at(2)), session(at(-1))]);
    expect(dunning).toEqual({ lastFailureAt: at(-3), nextRetryAt: at(2) });
  });

  it('has no retry once the last attempt failed without announcing another', async () => {
    const dunning = await dunningAtT([start(at(-60)), failed(at(-10), at(-3)), failed(at(-3))]);
    expect(dunning).toEqual({ lastFailureAt: at(-3) });
  });

  it('ends with a successful payment or a cancellation', async () => {
    expect(
      await dunningAtT([start(at(-60)), failed(at(-3), at(2)), ev('payment_succeeded', at(-1), { amountCents: 900 })]),
    ).toBeUndefined();
    const cancelled = await buildFeatureMatrix(
      histories([start(at(-60)), failed(at(-3), at(2)), ev('subscription_cancelled', at(-1), {})]),
      T,
      { includeInactive: true },
    );
    expect(dunningOfRow(cancelled.paymentDunning, 0)?.nextRetryAt).toBeUndefined();
  });

  it('never reads an event at or after the cutoff', async () => {
    expect(await dunningAtT([start(at(-60)), failed(at(0), at(3))])).toBeUndefined();
  });
});

describe('holding payment_recovery while the processor retries', () => {
  it('holds until the announced retry, and not after it', () => {
    const dunning = { lastFailureAt: at(-1), nextRetryAt: at(2) };
    expect(dunningHoldUntil(dunning, T_MS)).toBe(Date.parse(at(2)));
    expect(dunningHoldUntil(dunning, Date.parse(at(2)))).toBeUndefined();
    expect(dunningHoldUntil(undefined, T_MS)).toBeUndefined();
  });

  it('with a delay, holds at least that long after the failure, announced retry or not', () => {
    expect(dunningHoldUntil({ lastFailureAt: at(-1) }, T_MS, 72)).toBe(Date.parse(at(2)));
    expect(dunningHoldUntil({ lastFailureAt: at(-1) }, T_MS, 24)).toBeUndefined();
    expect(dunningHoldUntil({ lastFailureAt: at(-1), nextRetryAt: at(5) }, T_MS, 72)).toBe(Date.parse(at(5)));
  });

  it('takes out only payment_recovery candidates in an open window, keeping the order of the rest', () => {
    const open = { lastFailureAt: at(-1), nextRetryAt: at(3) };
    const ranked = [
      candidate('a-dunned', 'payment_recovery', open),
      candidate('b-support', 'support_escalation', open),
      candidate('c-closed', 'payment_recovery', { lastFailureAt: at(-9) }),
      candidate('d-none', 'payment_recovery'),
    ];
    const { eligible, held } = holdDuringDunning(ranked, T);
    expect(eligible.map((c) => c.customer.customerId)).toEqual(['b-support', 'c-closed', 'd-none']);
    expect(held).toEqual([{ customerId: 'a-dunned', until: at(3) }]);
  });
});
