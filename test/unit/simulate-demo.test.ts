import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWebhookSecret, signWebhook } from '../../adapters/webhook/webhookSignature.ts';
import { simulateToFile, truthPathFor } from '../../cli/commands/simulate.ts';
import { ingestSimulation } from '../../cli/report/ingestSimulation.ts';
import { startWebhookReceiver } from '../../cli/report/webhookReceiver.ts';
import type { EventWriter } from '../../model/events/ingest.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { validateEvent } from '../../model/events/validate.ts';
import { simulateBusiness, simulateCustomers } from '../../model/simulate/index.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-simulate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An in-memory event writer that can be told to fail some writes. */
function memoryWriter(fail: (event: ChurnEvent) => boolean = () => false) {
  const stored = new Map<string, ChurnEvent>();
  const requests: number[] = [];
  const writer: EventWriter = {
    async putEvents(events) {
      requests.push(events.length);
      const failed = events.filter(fail).map((event) => ({ event, reason: 'throttled' }));
      for (const event of events) if (!fail(event)) stored.set(event.eventId, event);
      return { failed };
    },
  };
  return { writer, stored, requests };
}

describe('simulateToFile', () => {
  it('writes every event as one valid NDJSON line and the truth beside the file', async () => {
    // Prepare
    const out = path.join(dir, 'business.ndjson');
    const options = { customers: 50, days: 60, seed: 3 };
    // Act
    const result = await simulateToFile(options, out);
    // Assess
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    const truth = JSON.parse(await readFile(truthPathFor(out), 'utf8'));
    expect(result.truthPath).toBe(path.join(dir, 'business.truth.json'));
    expect(lines).toHaveLength(result.events);
    expect(lines.map((line, i) => validateEvent(JSON.parse(line), i).ok).every(Boolean)).toBe(true);
    expect(lines.map((line) => JSON.parse(line))).toEqual(simulateBusiness(options).events);
    expect(truth.customers).toHaveLength(50);
    expect(truth.window).toEqual(result.window);
    expect(truth.trueEffects.payment_recovery).toEqual({ prevents: ['involuntary'], share: 0.6 });
    expect(truth.trueEffects.loyalty_reward).toEqual({ prevents: [], share: 0 });
  });
});

describe('ingestSimulation', () => {
  it('sends every simulated event through ingest in request-sized batches of at most 500', async () => {
    // Prepare
    const { writer, stored, requests } = memoryWriter();
    const options = { customers: 40, days: 60, seed: 8 };
    // Act
    const result = await ingestSimulation(simulateCustomers(options), writer, { concurrency: 3 });
    // Assess
    const expected = simulateBusiness(options).events;
    expect(result).toMatchObject({ customers: 40, events: expected.length, accepted: expected.length, rejected: 0, unstored: 0 });
    expect(stored.size).toBe(expected.length);
    expect(Math.max(...requests)).toBeLessThanOrEqual(500);
    expect(result.truth.map((t) => t.customerId)).toHaveLength(40);
  });

  it('counts the events the store could not write instead of claiming them accepted', async () => {
    const { writer, stored } = memoryWriter((event) => event.type === 'feature_used');
    const result = await ingestSimulation(simulateCustomers({ customers: 10, days: 30, seed: 1 }), writer);
    expect(result.unstored).toBeGreaterThan(0);
    expect(result.accepted + result.unstored).toBe(result.events);
    expect(stored.size).toBe(result.accepted);
  });
});

describe('the demo webhook receiver', () => {
  it('accepts a delivery signed with the shared secret and refuses a forged one with 401', async () => {
    // Prepare
    const secret = newWebhookSecret();
    const receiver = await startWebhookReceiver(secret);
    const body = JSON.stringify({ dedupId: 'run-1:cus-1', playbook: 'payment_recovery' });
    try {
      // Act
      const good = await fetch(receiver.url, { method: 'POST', body, headers: signWebhook('run-1:cus-1', body, [secret]) });
      const forged = await fetch(receiver.url, { method: 'POST', body, headers: signWebhook('run-1:cus-1', body, [newWebhookSecret()]) });
      const unsigned = await fetch(receiver.url, { method: 'POST', body });
      // Assess
      expect([good.status, forged.status, unsigned.status]).toEqual([204, 401, 401]);
      expect(receiver.delivered).toEqual([{ dedupId: 'run-1:cus-1', webhookId: 'run-1:cus-1', body: JSON.parse(body) }]);
      expect(receiver.badSignatures).toBe(2);
    } finally {
      await receiver.close();
    }
  });
});
