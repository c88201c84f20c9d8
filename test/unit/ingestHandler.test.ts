import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createIngestHandler } from '../../lambdas/ingest/handler.ts';
import type { IngestResponseBody } from '../../lambdas/ingest/responses.ts';
import { apiRequest, invalidEventArb, makeEvent, validEventArb } from '../helpers/eventFactories.ts';
import { MemoryEventStore } from '../helpers/memoryEventStore.ts';

function setup(store = new MemoryEventStore()) {
  const metrics = new Metrics({ namespace: 'test', serviceName: 'ingest' });
  const addMetric = vi.spyOn(metrics, 'addMetric');
  const handler = createIngestHandler({ store: () => store, logger: new Logger({ logLevel: 'SILENT' }), metrics });
  return { store, handler, addMetric };
}

const post = async (
  handler: ReturnType<typeof setup>['handler'],
  body: string | undefined,
  options: Parameters<typeof apiRequest>[1] = {},
) => {
  const result = await handler(apiRequest(body, options));
  return { status: result.statusCode, body: JSON.parse(result.body ?? '{}') as IngestResponseBody, headers: result.headers ?? {} };
};

describe('ingest handler', () => {
  it('answers 200 with the count when every event is accepted, and stores them', async () => {
    const { handler, store } = setup();
    const events = [makeEvent('feature_used'), makeEvent('payment_failed', { customerId: 'c2' })];
    const res = await post(handler, JSON.stringify(events));
    expect(res).toMatchObject({ status: 200, body: { accepted: 2, rejected: [] }, headers: { 'content-type': 'application/json' } });
    expect(events.every((e) => store.has(e))).toBe(true);
  });

  it('answers 207 naming each rejected event by index, id and field, and stores the valid ones', async () => {
    const { handler, store } = setup();
    const good = makeEvent('session_started');
    const res = await post(
      handler,
      JSON.stringify([{ ...makeEvent('payment_failed'), eventId: 'bad-1', properties: { amountCents: -1, reason: 'other' } }, good]),
    );
    expect(res.status).toBe(207);
    expect(res.body).toEqual({
      accepted: 1,
      rejected: [{ index: 0, eventId: 'bad-1', errors: [{ path: 'properties.amountCents', message: 'amountCents must not be negative' }] }],
    });
    expect(store.has(good)).toBe(true);
  });

  it('answers 400 when no event is valid, storing nothing', async () => {
    const { handler, store } = setup();
    const res = await post(handler, JSON.stringify([{ eventId: 'x' }, null]));
    expect(res.status).toBe(400);
    expect(res.body.accepted).toBe(0);
    expect(res.body.rejected.map((r) => r.index)).toEqual([0, 1]);
    expect(store.putCalls).toBe(0);
  });

  it('rejects a broken NDJSON line at its index and accepts its neighbours (207)', async () => {
    const { handler } = setup();
    const body = `${JSON.stringify(makeEvent())}\n{not json\n${JSON.stringify(makeEvent())}\n`;
    const res = await post(handler, body, { contentType: 'application/x-ndjson' });
    expect(res.status).toBe(207);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected).toEqual([
      { index: 1, errors: [{ path: '(line)', message: expect.stringMatching(/^line 2 is not valid JSON/) }] },
    ]);
  });

  it('handles base64-encoded bodies as API Gateway sends binary media', async () => {
    const { handler } = setup();
    const res = await post(handler, JSON.stringify({ events: [makeEvent()] }), { base64: true });
    expect(res).toMatchObject({ status: 200, body: { accepted: 1 } });
  });

  it.each([
    ['415 for an unsupported content type', 'x', { contentType: 'text/csv' }, 415],
    ['400 for an unparseable body', '[{', {}, 400],
    ['413 for more than 500 events', JSON.stringify(Array.from({ length: 501 }, () => makeEvent())), {}, 413],
    ['405 for a GET', undefined, { method: 'GET' }, 405],
  ] as const)('answers %s, storing nothing', async (_what, body, options, status) => {
    const { handler, store } = setup();
    const res = await post(handler, body, options);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ accepted: 0, rejected: [], message: expect.any(String) });
    expect(store.putCalls).toBe(0);
  });

  it('answers 503 when the store cannot write, counting as accepted only what was stored and naming the rest', async () => {
    const { handler, store } = setup(
      new MemoryEventStore((e) => (e.customerId === 'down' ? 'DynamoDB write failed after 8 attempts: throttled' : undefined)),
    );
    const ok = makeEvent('session_started', { customerId: 'up' });
    const lost = makeEvent('session_started', { customerId: 'down', eventId: 'lost-1' });
    const res = await post(handler, JSON.stringify([ok, lost, { eventId: 'x' }]));
    expect(res.status).toBe(503);
    expect(res.headers).toMatchObject({ 'retry-after': '1' });
    expect(res.body).toMatchObject({
      accepted: 1,
      rejected: [{ index: 2 }],
      unstored: [{ index: 1, eventId: 'lost-1', reason: expect.stringContaining('throttled') }],
      message: expect.stringContaining('1 valid event(s) could not be stored'),
    });
    expect(store.has(ok)).toBe(true);
  });

  it('answers 500 without claiming anything when the store throws unexpectedly', async () => {
    const { handler } = setup({ putEvents: () => Promise.reject(new Error('boom')) } as unknown as MemoryEventStore);
    const res = await post(handler, JSON.stringify([makeEvent()]));
    expect(res).toMatchObject({ status: 500, body: { accepted: 0, message: expect.stringContaining('re-sending them is safe') } });
  });

  it('records EventsAccepted and EventsRejected metrics per request', async () => {
    const { handler, addMetric } = setup();
    await post(handler, JSON.stringify([makeEvent(), makeEvent(), { eventId: 'bad' }]));
    expect(addMetric).toHaveBeenCalledWith('EventsAccepted', 'Count', 2);
    expect(addMetric).toHaveBeenCalledWith('EventsRejected', 'Count', 1);
  });

  it('stores every valid event and rejects exactly the invalid ones, for any mix (200 random batches)', async () => {
    const entry = fc.oneof(
      validEventArb.map((event) => ({ valid: true as const, event })),
      invalidEventArb.map((event) => ({ valid: false as const, event })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 60 }), fc.boolean(), async (entries, asNdjson) => {
        const { handler, store } = setup();
        const body = asNdjson ? entries.map((e) => JSON.stringify(e.event)).join('\n') : JSON.stringify(entries.map((e) => e.event));
        const res = await post(handler, body, { contentType: asNdjson ? 'application/x-ndjson' : 'application/json' });
        const validCount = entries.filter((e) => e.valid).length;
        expect(res.status).toBe(validCount === 0 ? 400 : validCount === entries.length ? 200 : 207);
        expect(res.body.accepted).toBe(validCount);
        expect(res.body.rejected.map((r) => r.index)).toEqual(entries.flatMap((e, i) => (e.valid ? [] : [i])));
        for (const e of entries) if (e.valid) expect(store.has(e.event as Parameters<MemoryEventStore['has']>[0])).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws nor answers 5xx for hostile bodies (200 runs)', async () => {
    const { handler } = setup();
    const body = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.array(fc.jsonValue(), { maxLength: 10 }).map((v) => JSON.stringify(v)),
      fc.nat({ max: 100_000 }).map((depth) => `[${'['.repeat(depth)}${']'.repeat(depth)}]`),
      fc
        .array(
          fc.dictionary(
            fc.constantFrom('eventId', 'customerId', 'type', 'occurredAt', 'properties', '__proto__', 'constructor'),
            fc.jsonValue(),
          ),
          { maxLength: 5 },
        )
        .map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom('application/json', 'application/x-ndjson', 'text/plain'),
        fc.boolean(),
        async (text, contentType, base64) => {
          const res = await post(handler, text, { contentType, base64 });
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 200 },
    );
  });
});
