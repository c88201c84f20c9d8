import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import { eventStoreFromEnv } from '../../lambdas/ingest/config.ts';
import { type CliProcess, LISTENING, spawnCli } from '../helpers/cliProcess.ts';
import { STRIPE_TEST_SECRET, stripeFixture, stripeFixtureText, stripeSignature } from '../helpers/stripeFixtures.ts';

/**
 * `churnguard serve` with a Stripe endpoint secret: a signed Stripe delivery POSTed to
 * /integrations/stripe goes through the Stripe Lambda handler into the events table (dynalite),
 * under the customer the metadata key names; a tampered or stale one is refused and stores nothing.
 */

let dir: string;
let dataDir: string;
let url: string;
let server: CliProcess;
let joined: LocalStack;

const post = async (body: string, signature: string | undefined) => {
  const response = await fetch(`${url}/integrations/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...(signature ? { 'stripe-signature': signature } : {}) },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const storedFor = (customerId: string) => eventStoreFromEnv().listCustomerEvents(customerId);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-stripe-'));
  dataDir = path.join(dir, 'data');
  server = spawnCli(['serve', '--port', '0', '--data-dir', dataDir], {
    env: {
      ...process.env,
      CHURNGUARD_DATA_DIR: '',
      STRIPE_WEBHOOK_SECRET: STRIPE_TEST_SECRET,
      STRIPE_CUSTOMER_METADATA_KEY: 'churnguard_id',
    },
    until: LISTENING,
  });
  url = await server.ready;
  joined = await openLocalStack(dataDir);
}, 60_000);

afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  await joined?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('POST /integrations/stripe on `churnguard serve`', () => {
  it('stores a signed invoice.payment_failed as payment_failed for the customer its metadata names, with the retry; a redelivery stores it once', async () => {
    const payload = stripeFixtureText('invoice.payment_failed');
    const first = await post(payload, stripeSignature(payload));
    const again = await post(payload, stripeSignature(payload));
    expect(first).toEqual({
      status: 200,
      body: { received: true, stripeEventId: 'evt_1SVcPf2eZvKYlo2CdAxNl0QT', stored: ['stripe:evt_1SVcPf2eZvKYlo2CdAxNl0QT'] },
    });
    expect(again.status).toBe(200);
    const stored = await storedFor('blue-fern');
    expect(stored).toEqual([
      {
        eventId: 'stripe:evt_1SVcPf2eZvKYlo2CdAxNl0QT',
        customerId: 'blue-fern',
        type: 'payment_failed',
        occurredAt: '2026-06-01T09:30:00.000Z',
        properties: { amountCents: 4900, reason: 'other', nextRetryAt: '2026-06-03T09:30:00.000Z', measures: { attempt: 1 } },
      },
    ]);
    expect(await storedFor('cus_TSblueFern01')).toEqual([]);
  });

  it('refuses a tampered body with 400 and stores nothing', async () => {
    const fixture = stripeFixture('invoice.payment_failed');
    fixture.id = 'evt_tampered';
    const signed = JSON.stringify(fixture);
    // The amount changed after signing: the signature covers the exact bytes.
    const tampered = signed.replace('"amount_due":4900', '"amount_due":1');
    expect(tampered).not.toBe(signed);
    const answer = await post(tampered, stripeSignature(signed));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ received: false, message: expect.stringContaining('Stripe-Signature does not verify') });
    expect((await storedFor('blue-fern')).map((e) => e.eventId)).not.toContain('stripe:evt_tampered');
  });

  it('refuses a stale signature, a wrong secret and a missing header with 400, storing nothing', async () => {
    const fixture = stripeFixture('invoice.paid');
    const payload = JSON.stringify(fixture);
    const stale = await post(payload, stripeSignature(payload, { timestamp: Math.floor(Date.now() / 1000) - 301 }));
    const wrongSecret = await post(payload, stripeSignature(payload, { secret: 'whsec_someoneElse' }));
    const unsigned = await post(payload, undefined);
    expect([stale.status, wrongSecret.status, unsigned.status]).toEqual([400, 400, 400]);
    expect(String(stale.body.message)).toMatch(/tolerance/i);
    expect(unsigned.body.message).toBe('the Stripe-Signature header is missing');
    expect((await storedFor('blue-fern')).map((e) => e.type)).not.toContain('payment_succeeded');
  });

  it('acknowledges an event type it does not read with 200 and the reason, storing nothing', async () => {
    const payload = JSON.stringify({ ...stripeFixture('invoice.paid'), id: 'evt_refund', type: 'charge.refunded' });
    const answer = await post(payload, stripeSignature(payload));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ received: true, stripeEventId: 'evt_refund', ignored: expect.stringContaining('charge.refunded') });
    expect((await storedFor('blue-fern')).map((e) => e.eventId)).not.toContain('stripe:evt_refund');
  });
});
