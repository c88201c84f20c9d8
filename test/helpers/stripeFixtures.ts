import { readFileSync } from 'node:fs';
import path from 'node:path';
import Stripe from 'stripe';
import type { StripeEvent } from '../../model/integrations/stripe/stripePayloads.ts';

/** The endpoint signing secret the Stripe tests sign with. */
export const STRIPE_TEST_SECRET = 'whsec_churnguardTestSecret0123456789abcdef';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'stripe');

/** The raw text of a fixture under test/fixtures/stripe (e.g. `invoice.payment_failed`). */
export const stripeFixtureText = (name: string): string => readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8');

/** A fixture parsed, to be changed by a test before it is signed. */
export const stripeFixture = (name: string): StripeEvent & Record<string, unknown> => JSON.parse(stripeFixtureText(name));

/**
 * The `Stripe-Signature` header Stripe would send with `payload`, made by the official package's test
 * helper; `timestamp` (Unix seconds, default now) lets a test send a stale one.
 */
export function stripeSignature(payload: string, options: { secret?: string; timestamp?: number } = {}): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? STRIPE_TEST_SECRET,
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  });
}
