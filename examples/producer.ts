/**
 * A producer in Node: sends usage events to churnguard's ingest API with the package's typed
 * client (SigV4 with the default AWS credentials, batches, retries) and prints what was not taken.
 *
 *   EVENTS_URL=https://abc123.execute-api.eu-west-1.amazonaws.com/events npx tsx examples/producer.ts
 *   EVENTS_URL=http://127.0.0.1:8787/events npx tsx examples/producer.ts   # a local `churnguard serve`
 */
import { randomUUID } from 'node:crypto';
import { createEventsClient, type EventResult } from 'churnguard/client';

const client = createEventsClient({
  endpoint: process.env.EVENTS_URL ?? 'http://127.0.0.1:8787/events',
  region: process.env.AWS_REGION ?? 'us-east-1',
});

// What an app would record as it happens: a session, a feature used, a failed payment.
const now = new Date().toISOString();
const events = [
  { eventId: randomUUID(), customerId: 'acme-corp', type: 'session_started', occurredAt: now, properties: { durationSeconds: 300 } },
  {
    eventId: randomUUID(),
    customerId: 'acme-corp',
    type: 'feature_used',
    occurredAt: now,
    properties: { feature: 'reports', quantity: 2 },
  },
  {
    eventId: randomUUID(),
    customerId: 'acme-corp',
    type: 'payment_failed',
    occurredAt: now,
    properties: { amountCents: 4900, reason: 'card_declined' },
  },
];

const results: EventResult[] = await client.send(events);
const taken = results.filter((r) => r.status === 'accepted').length;
console.log(`${taken} of ${events.length} events accepted by ${client.endpoint}`);
for (const r of results) {
  if (r.status === 'rejected')
    console.error(`event ${r.index} (${r.eventId}) rejected: ${r.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  if (r.status === 'unstored') console.error(`event ${r.index} (${r.eventId}) not stored, send it again later: ${r.reason}`);
}
process.exitCode = taken === events.length ? 0 : 1;
