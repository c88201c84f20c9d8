import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodyFormat, parseIngestRequest } from '../../lambdas/ingest/requestBody.ts';
import { UnreadableRecord } from '../../model/events/ingest.ts';
import { EVENT_LIMITS } from '../../model/events/limits.ts';
import { makeEvent } from '../helpers/eventFactories.ts';

const json = (body: string) => parseIngestRequest({ body, contentType: 'application/json' });
const ndjson = (body: string) => parseIngestRequest({ body, contentType: 'application/x-ndjson' });

describe('ingest request body', () => {
  it('reads a JSON array of events', () => {
    const events = [makeEvent(), makeEvent('feature_used')];
    expect(json(JSON.stringify(events))).toEqual({ ok: true, records: events });
  });

  it('reads { "events": [...] }', () => {
    const events = [makeEvent()];
    expect(json(JSON.stringify({ events }))).toEqual({ ok: true, records: events });
  });

  it('reads NDJSON, one event per line, skipping blank lines', () => {
    const [a, b] = [makeEvent(), makeEvent()];
    expect(ndjson(`${JSON.stringify(a)}\r\n\n${JSON.stringify(b)}\n`)).toEqual({ ok: true, records: [a, b] });
  });

  it('makes an NDJSON line that is not JSON a record of its own, not a refusal of the request', () => {
    const result = ndjson(`${JSON.stringify(makeEvent())}\n{"broken"\n${JSON.stringify(makeEvent())}`);
    expect(result.ok).toBe(true);
    const records = result.ok ? result.records : [];
    expect(records).toHaveLength(3);
    expect(records[1]).toBeInstanceOf(UnreadableRecord);
    expect((records[1] as UnreadableRecord).reason).toMatch(/^line 2 is not valid JSON/);
  });

  it('decodes base64-encoded bodies', () => {
    const events = [makeEvent()];
    const body = Buffer.from(JSON.stringify(events)).toString('base64');
    expect(parseIngestRequest({ body, isBase64Encoded: true, contentType: 'application/json; charset=utf-8' })).toEqual({
      ok: true,
      records: events,
    });
  });

  it.each([
    ['missing', undefined, 415, /content-type header is missing/],
    ['form-encoded', 'application/x-www-form-urlencoded', 415, /not supported/],
    ['text/plain', 'text/plain', 415, /not supported/],
    ['JSON in Latin-1', 'application/json; charset=iso-8859-1', 415, /send UTF-8/],
  ])('refuses a %s content type with 415', (_what, contentType, status, message) => {
    expect(parseIngestRequest({ body: '[]', contentType })).toEqual({ ok: false, status, message: expect.stringMatching(message) });
  });

  it.each(['application/json', 'Application/JSON; charset=UTF-8', 'application/x-ndjson', 'application/ndjson', 'application/jsonl'])(
    'accepts the content type %s',
    (type) => {
      expect(typeof bodyFormat(type)).toBe('string');
    },
  );

  it.each([
    ['empty', '', /body is empty/],
    ['not JSON', '{"events": [', /body is not valid JSON/],
    ['a single event object', JSON.stringify(makeEvent()), /JSON array of events or an object/],
    ['an object with extra keys', JSON.stringify({ events: [], source: 'x' }), /JSON array of events or an object/],
    ['an empty array', '[]', /holds no events/],
    ['a number', '42', /JSON array of events/],
  ])('refuses a JSON body that is %s with 400', (_what, body, message) => {
    expect(json(body)).toEqual({ ok: false, status: 400, message: expect.stringMatching(message) });
  });

  it('refuses invalid UTF-8 and invalid base64 with 400', () => {
    const latin1 = Buffer.from([0x5b, 0xe9, 0x5d]).toString('base64');
    expect(parseIngestRequest({ body: latin1, isBase64Encoded: true, contentType: 'application/json' })).toMatchObject({
      status: 400,
      message: 'body is not valid UTF-8',
    });
    expect(parseIngestRequest({ body: 'not*base64!', isBase64Encoded: true, contentType: 'application/json' })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/not valid base64/),
    });
  });

  it(`refuses more than ${EVENT_LIMITS.maxEventsPerRequest} events with 413, and accepts exactly ${EVENT_LIMITS.maxEventsPerRequest}`, () => {
    const events = (n: number) => JSON.stringify(Array.from({ length: n }, () => ({ eventId: 'e' })));
    expect(json(events(EVENT_LIMITS.maxEventsPerRequest))).toMatchObject({ ok: true });
    expect(json(events(EVENT_LIMITS.maxEventsPerRequest + 1))).toEqual({
      ok: false,
      status: 413,
      message: 'body holds 501 events, the limit is 500',
    });
  });

  it('refuses a body over 1 MiB with 413, plain or base64, and accepts 1 MiB exactly', () => {
    const exactly = `["${'x'.repeat(EVENT_LIMITS.maxRequestBytes - 4)}"]`;
    const over = `["${'x'.repeat(EVENT_LIMITS.maxRequestBytes - 3)}"]`;
    expect(json(exactly)).toMatchObject({ ok: true });
    expect(json(over)).toMatchObject({ ok: false, status: 413 });
    expect(
      parseIngestRequest({ body: Buffer.from(over).toString('base64'), isBase64Encoded: true, contentType: 'application/json' }),
    ).toMatchObject({ status: 413 });
  });

  it('never throws and only refuses with 400, 413 or 415, whatever the body (10,000 hostile bodies)', () => {
    const body = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .array(
          fc.oneof(
            fc.jsonValue().map((v) => JSON.stringify(v)),
            fc.string({ maxLength: 40 }),
          ),
          { maxLength: 12 },
        )
        .map((lines) => lines.join('\n')),
      fc.nat({ max: 3000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
      fc.constantFrom('{"__proto__":{"polluted":1}}', '[{"__proto__":null}]', '\uFEFF[]', '\u0000', '{"events":{"length":3}}'),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'application/x-ndjson',
      'text/plain',
      undefined,
      'application/json; charset=latin1',
    );
    fc.assert(
      fc.property(body, contentType, fc.boolean(), (text, type, base64) => {
        const result = parseIngestRequest({
          body: base64 ? Buffer.from(text).toString('base64') : text,
          isBase64Encoded: base64,
          contentType: type,
        });
        if (result.ok) {
          expect(result.records.length).toBeGreaterThan(0);
          expect(result.records.length).toBeLessThanOrEqual(EVENT_LIMITS.maxEventsPerRequest);
        } else {
          expect([400, 413, 415]).toContain(result.status);
          expect(result.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 10_000 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps every NDJSON line that is JSON, in order, whatever junk lines surround it', () => {
    const line = fc.oneof(
      fc.jsonValue().map((v) => ({ text: JSON.stringify(v), value: JSON.parse(JSON.stringify(v)) as unknown })),
      fc
        .string({ maxLength: 20 })
        .filter((s) => !s.includes('\n'))
        .map((s) => ({ text: s, value: undefined })),
    );
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 30 }), (lines) => {
        const result = ndjson(lines.map((l) => l.text).join('\n'));
        const nonBlank = lines.filter((l) => l.text.trim() !== '');
        if (nonBlank.length === 0) {
          expect(result).toMatchObject({ ok: false, status: 400 });
          return;
        }
        expect(result.ok).toBe(true);
        const records = result.ok ? result.records : [];
        expect(records).toHaveLength(nonBlank.length);
        nonBlank.forEach((l, i) => {
          let parses = true;
          try {
            JSON.parse(l.text);
          } catch {
            parses = false;
          }
          if (parses) expect(records[i]).toEqual(JSON.parse(l.text));
          else expect(records[i]).toBeInstanceOf(UnreadableRecord);
        });
      }),
      { numRuns: 2000 },
    );
  });
});
