import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import { parseStripeSecrets } from '../../adapters/stripe/stripeSignature.ts';
import { createStripeHandler } from '../../lambdas/stripe/handler.ts';
import type { StripeCustomerLookup } from '../../model/integrations/stripe/stripeCustomer.ts';
import { apiRequest } from '../helpers/eventFactories.ts';
import { MemoryEventStore } from '../helpers/memoryEventStore.ts';
import { STRIPE_TEST_SECRET, stripeFixture, stripeFixtureText, stripeSignature } from '../helpers/stripeFixtures.ts';

/** The Stripe function's answers: what Stripe retries (non-2xx) and what it must not. */

function setup(options: { store?: MemoryEventStore; lookup?: StripeCustomerLookup; secrets?: string[] } = {}) {
  const store = options.store ?? new MemoryEventStore();
  const metrics = new Metrics({ namespace: 'test', serviceName: 'stripe' });
  const addMetric = vi.spyOn(metrics, 'addMetric');
  const handler = createStripeHandler({
    receiver: () => ({
      store: () => store,
      secrets: async () => options.secrets ?? [STRIPE_TEST_SECRET],
      lookup: options.lookup ?? { by: 'customer-id' },
    }),
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics,
  });
  const deliver = async (payload: string, signature = stripeSignature(payload), extra: { base64?: boolean; method?: string } = {}) => {
    const request = apiRequest(payload, { contentType: 'application/json; charset=utf-8', ...extra });
    request.headers['Stripe-Signature'] = signature;
    const result = await handler(request);
    return { status: result.statusCode, body: JSON.parse(result.body ?? '{}') as Record<string, unknown> };
  };
  return { store, deliver, addMetric };
}

describe('the Stripe webhook function', () => {
  it('verifies the exact bytes of a base64-encoded body too, and counts the stored event', async () => {
    const { deliver, store, addMetric } = setup();
    const answer = await deliver(stripeFixtureText('invoice.paid'), undefined, { base64: true });
    expect(answer).toMatchObject({ status: 200, body: { stored: ['stripe:evt_1SVdQk2eZvKYlo2CbW0lEKs9'] } });
    expect(store.items.size).toBe(1);
    expect(addMetric).toHaveBeenCalledWith('StripeEventsStored', 'Count', 1);
  });

  it('accepts a signature of either secret while the endpoint secret is rolled', async () => {
    const { deliver } = setup({ secrets: ['whsec_newOne', STRIPE_TEST_SECRET] });
    expect((await deliver(stripeFixtureText('invoice.paid'))).status).toBe(200);
  });

  it('answers 503 when the store fails, so that Stripe retries', async () => {
    const { deliver, addMetric } = setup({ store: new MemoryEventStore(() => 'throttled') });
    const answer = await deliver(stripeFixtureText('invoice.payment_failed'));
    expect(answer).toMatchObject({ status: 503, body: { received: false, message: expect.stringContaining('throttled') } });
    expect(addMetric).toHaveBeenCalledWith('StripeEventsUnstored', 'Count', 1);
  });

  it('acknowledges, with the contract’s rejection, an event whose metadata names an id churnguard cannot hold', async () => {
    const fixture = stripeFixture('customer.subscription.deleted');
    Object.assign((fixture.data as { object: object }).object, { metadata: { churnguard_id: 'blue fern!' } });
    const { deliver, store, addMetric } = setup({ lookup: { by: 'metadata', key: 'churnguard_id' } });
    const answer = await deliver(JSON.stringify(fixture));
    expect(answer).toMatchObject({
      status: 200,
      body: { received: true, stored: [], rejected: [{ index: 0, errors: [{ path: 'customerId' }] }] },
    });
    expect(store.items.size).toBe(0);
    expect(addMetric).toHaveBeenCalledWith('StripeEventsRejected', 'Count', 1);
  });

  it('refuses a signed body that is not a Stripe event, and any method but POST', async () => {
    const { deliver } = setup();
    expect(await deliver('{"hello":"world"}')).toMatchObject({
      status: 400,
      body: { message: expect.stringContaining('not a Stripe event') },
    });
    expect((await deliver(stripeFixtureText('invoice.paid'), undefined, { method: 'GET' })).status).toBe(405);
  });
});

describe('the endpoint secret setting', () => {
  it('takes one whsec_ secret, two while rolling, or JSON, and names what is wrong', () => {
    expect(parseStripeSecrets('whsec_a whsec_b', 'S')).toEqual(['whsec_a', 'whsec_b']);
    expect(parseStripeSecrets('{"secret":"whsec_a"}', 'S')).toEqual(['whsec_a']);
    expect(() => parseStripeSecrets('sk_live_oops', 'S')).toThrow('S #1 is not a Stripe endpoint secret');
    expect(() => parseStripeSecrets(' ', 'S')).toThrow('S is empty');
  });
});
