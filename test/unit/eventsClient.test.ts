import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventsClient, EventsApiAuthError, eventsUrl, regionOfHost } from '../../adapters/http/eventsClient.ts';
import { verifySignedRequest } from '../../adapters/http/sigv4.ts';
import { type HttpApi, startHttpApi } from '../../cli/local/httpApi.ts';
import { createIngestHandler } from '../../lambdas/ingest/handler.ts';
import { EVENT_LIMITS } from '../../model/events/limits.ts';
import type { ChurnEvent } from '../../model/events/schemas.ts';
import { makeEvent } from '../helpers/eventFactories.ts';
import { closeServer, listenOnLoopback } from '../helpers/loopbackServer.ts';
import { MemoryEventStore } from '../helpers/memoryEventStore.ts';

const KEY = { accessKeyId: 'AKIDCLIENT', secretAccessKey: 'client-secret' };
const REGION = 'eu-west-1';
const FAST = { baseDelayMs: 1 };

let api: HttpApi | undefined;
let fake: Server | undefined;
afterEach(async () => {
  await api?.close();
  await closeServer(fake);
  api = undefined;
  fake = undefined;
});

/** The ingest Lambda handler behind the local HTTP API with IAM auth, on an in-memory store. */
async function iamApi(store = new MemoryEventStore()) {
  const handler = createIngestHandler({
    store: () => store,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'test', serviceName: 'ingest' }),
  });
  api = await startHttpApi({
    port: 0,
    handler,
    authorize: (request) => verifySignedRequest(request, { region: REGION, identities: [KEY] }),
  });
  return { store, endpoint: `${api.url}/events` };
}

/** A server that answers each request with the next scripted answer, recording the bodies it got. */
async function scriptedServer(
  answer: (request: { count: number; lines: string[] }) => { status: number; body: unknown; headers?: object },
) {
  const seen: string[][] = [];
  let inFlight = 0;
  const stats = { maxInFlight: 0 };
  fake = http.createServer((request: IncomingMessage, response: ServerResponse) => {
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const lines = Buffer.concat(chunks).toString('utf8').split('\n');
      seen.push(lines);
      const a = answer({ count: seen.length, lines });
      setTimeout(() => {
        inFlight--;
        response.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
        response.end(JSON.stringify(a.body));
      }, 5);
    });
  });
  const url = await listenOnLoopback(fake);
  return { endpoint: url, seen, stats };
}

const events = (n: number, prefix = 'e') =>
  Array.from({ length: n }, (_, i) => makeEvent('feature_used', { eventId: `${prefix}-${i}`, customerId: `c-${i % 7}` }));

describe('createEventsClient against the ingest API with IAM auth', () => {
  it('signs with the given credentials, stores every valid event and answers one result per event, in order', async () => {
    const { store, endpoint } = await iamApi();
    const client = createEventsClient({ endpoint, region: REGION, credentials: KEY });
    const bad = { ...makeEvent('payment_failed'), eventId: 'bad-1', properties: { amountCents: -5, reason: 'other' } };
    const sent = [...events(3), bad, 'not an event'];
    const results = await client.send(sent);
    expect(results.map((r) => [r.index, r.status])).toEqual([
      [0, 'accepted'],
      [1, 'accepted'],
      [2, 'accepted'],
      [3, 'rejected'],
      [4, 'rejected'],
    ]);
    expect(results[3]).toMatchObject({ eventId: 'bad-1', errors: [{ path: 'properties.amountCents' }] });
    expect(store.items.size).toBe(3);
  });

  it('throws EventsApiAuthError with the server reason for a wrong secret, and stores nothing', async () => {
    const { store, endpoint } = await iamApi();
    const client = createEventsClient({ endpoint, region: REGION, credentials: { ...KEY, secretAccessKey: 'nope' } });
    const error = await client.send(events(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventsApiAuthError);
    expect((error as EventsApiAuthError).status).toBe(403);
    expect((error as Error).message).toMatch(/403 Forbidden.*signature we calculated does not match.*was signed with SigV4/);
    expect(store.items.size).toBe(0);
  });

  it('splits into requests of at most 500 events and 1 MiB, with at most `concurrency` in flight', async () => {
    const server = await scriptedServer(({ lines }) => ({ status: 200, body: { accepted: lines.length, rejected: [] } }));
    const client = createEventsClient({ endpoint: server.endpoint, region: REGION, credentials: KEY, concurrency: 2, ...FAST });
    const big = 'x'.repeat(3000);
    const many = events(1700).map((e, i) => (i < 1600 ? e : { ...e, properties: { feature: 'f', quantity: 1 }, padding: big }));
    const heavy = Array.from({ length: 1500 }, (_, i) => ({ ...makeEvent('session_started', { eventId: `h-${i}` }), padding: big }));
    const results = await client.send([...many, ...heavy]);
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
    expect(results).toHaveLength(3200);
    expect(server.seen.every((lines) => lines.length <= EVENT_LIMITS.maxEventsPerRequest)).toBe(true);
    expect(server.seen.every((lines) => Buffer.byteLength(lines.join('\n')) <= EVENT_LIMITS.maxRequestBytes)).toBe(true);
    expect(server.seen.reduce((n, lines) => n + lines.length, 0)).toBe(3200);
    // 3 KB events fill 1 MiB before 500 of them: those requests were cut by size.
    expect(
      server.seen.some((lines) => lines.length < 400 && Buffer.byteLength(lines.join('\n')) > 0.9 * EVENT_LIMITS.maxRequestBytes),
    ).toBe(true);
    expect(server.stats.maxInFlight).toBeLessThanOrEqual(2);
    expect(server.stats.maxInFlight).toBe(2);
  });

  it('retries 429 and 5xx with the same events until accepted (ids make it idempotent)', async () => {
    const server = await scriptedServer(({ count, lines }) =>
      count === 1
        ? { status: 429, body: { message: 'Too Many Requests' } }
        : count === 2
          ? { status: 500, body: { message: 'Internal Server Error' } }
          : { status: 200, body: { accepted: lines.length, rejected: [] } },
    );
    const client = createEventsClient({ endpoint: server.endpoint, region: REGION, credentials: KEY, ...FAST });
    const results = await client.send(events(3));
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(server.seen).toHaveLength(3);
    expect(server.seen[2]).toEqual(server.seen[0]);
  });

  it('re-sends only the events a 503 names as unstored, and reports as unstored what never got stored', async () => {
    const server = await scriptedServer(({ count, lines }) =>
      count === 1
        ? {
            status: 503,
            body: { accepted: 2, rejected: [], unstored: [{ index: 1, eventId: 'e-1', reason: 'throttled' }] },
            headers: { 'retry-after': '0' },
          }
        : { status: 200, body: { accepted: lines.length, rejected: [] } },
    );
    const client = createEventsClient({ endpoint: server.endpoint, region: REGION, credentials: KEY, ...FAST });
    expect((await client.send(events(3))).map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(server.seen[1]?.map((l) => (JSON.parse(l) as ChurnEvent).eventId)).toEqual(['e-1']);

    const down = await scriptedServer(() => ({ status: 502, body: { message: 'Bad Gateway' } }));
    const giveUp = createEventsClient({ endpoint: down.endpoint, region: REGION, credentials: KEY, maxAttempts: 3, ...FAST });
    const results = await giveUp.send(events(2, 'g'));
    expect(results).toEqual([
      { status: 'unstored', index: 0, eventId: 'g-0', reason: 'HTTP 502: Bad Gateway (after 3 tries)' },
      { status: 'unstored', index: 1, eventId: 'g-1', reason: 'HTTP 502: Bad Gateway (after 3 tries)' },
    ]);
    expect(down.seen).toHaveLength(3);
  });

  it('does not retry a request the API refuses as a whole (413, 415): its events are unstored with the reason', async () => {
    const server = await scriptedServer(() => ({
      status: 415,
      body: { accepted: 0, rejected: [], message: 'content type "x" is not supported' },
    }));
    const client = createEventsClient({ endpoint: server.endpoint, region: REGION, credentials: KEY, ...FAST });
    const results = await client.send(events(1));
    expect(results[0]).toMatchObject({ status: 'unstored', reason: expect.stringContaining('HTTP 415: content type') });
    expect(server.seen).toHaveLength(1);
  });
});

describe('endpoint and region', () => {
  it('adds /events to a base URL and reads the region of an execute-api host', () => {
    expect(eventsUrl('https://abc.execute-api.eu-west-1.amazonaws.com').toString()).toBe(
      'https://abc.execute-api.eu-west-1.amazonaws.com/events',
    );
    expect(eventsUrl('http://127.0.0.1:8787/events').pathname).toBe('/events');
    expect(eventsUrl('https://x.example.com/prod/').pathname).toBe('/prod/events');
    expect(regionOfHost('abc.execute-api.ap-south-1.amazonaws.com')).toBe('ap-south-1');
    expect(() => eventsUrl('ftp://x/events')).toThrow(/must be http: or https:/);
    expect(() => eventsUrl('not a url')).toThrow(/is not a URL/);
  });
});
