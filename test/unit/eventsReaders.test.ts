import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnreadableRecord } from '../../model/events/ingest.ts';
import { csvRowToEvent, readCsv } from '../../model/events/readers/csv.ts';
import { NotAJsonArrayError, readJsonArray } from '../../model/events/readers/jsonArray.ts';
import { readNdjson, splitNdjson } from '../../model/events/readers/ndjson.ts';
import type { SourceRecord } from '../../model/events/readers/sourceRecord.ts';
import { validateEvent } from '../../model/events/validate.ts';
import { makeEvent } from '../helpers/eventFactories.ts';

async function collect(records: AsyncIterable<SourceRecord>): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

/** Feeds `text` as byte chunks cut at the given positions, like a file stream might. */
async function* chunked(text: string, cuts: number[] = []): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  let start = 0;
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    yield bytes.subarray(start, cut);
    start = cut;
  }
  yield bytes.subarray(start);
}

const reasonOf = (value: unknown) => (value instanceof UnreadableRecord ? value.reason : undefined);

describe('NDJSON reader', () => {
  it('reads one record per non-blank line, with 1-based line numbers, CRLF or LF', async () => {
    const text = '{"a":1}\r\n\n  \n{"a":2}\n[3]';
    const records = await collect(readNdjson(chunked(text)));
    expect(records.map((r) => [r.line, r.value])).toEqual([
      [1, { a: 1 }],
      [4, { a: 2 }],
      [5, [3]],
    ]);
  });

  it('turns a line that is not JSON into an unreadable record at its place, keeping the others', async () => {
    const records = await collect(readNdjson(chunked('{"a":1}\n{oops\n{"a":3}\n')));
    expect(records.map((r) => r.line)).toEqual([1, 2, 3]);
    expect(reasonOf(records[1]?.value)).toMatch(/^line 2 is not valid JSON/);
    expect(records[2]?.value).toEqual({ a: 3 });
  });

  it('gives the same records however the stream is cut, even inside multi-byte characters', async () => {
    const text = '{"name":"Zoë 🎉"}\n{"b":"ü"}\nnot json\n\n{"c":[1,2]}\n';
    const expected = splitNdjson(text).map((r) => [r.line, reasonOf(r.value) ?? r.value]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: Buffer.byteLength(text) }), { maxLength: 8 }), async (cuts) => {
        const records = await collect(readNdjson(chunked(text, cuts)));
        expect(records.map((r) => [r.line, reasonOf(r.value) ?? r.value])).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a line longer than 1 MiB without buffering it, and reads the next line', async () => {
    const huge = `{"x":"${'y'.repeat(1_100_000)}"}`;
    const records = await collect(readNdjson(chunked(`${huge}\n{"a":1}\n`, [1000, 500_000, 1_050_000])));
    expect(records.map((r) => [r.line, reasonOf(r.value) ?? r.value])).toEqual([
      [1, 'line 1 is longer than 1048576 characters'],
      [2, { a: 1 }],
    ]);
  });

  it('strips a byte-order mark', async () => {
    expect((await collect(readNdjson(chunked('\uFEFF{"a":1}\n'))))[0]?.value).toEqual({ a: 1 });
  });
});

describe('JSON array reader', () => {
  it('streams the elements of a top-level array with the line each starts on', async () => {
    const text = '[\n  {"a": "x,]}"},\n  {"b": [1, {"c": "\\"]"}]}\n]\n';
    const records = await collect(readJsonArray(chunked(text)));
    expect(records.map((r) => [r.line, r.value])).toEqual([
      [2, { a: 'x,]}' }],
      [3, { b: [1, { c: '"]' }] }],
    ]);
  });

  it('reads an empty array as no records', async () => {
    expect(await collect(readJsonArray(chunked(' [ ] ')))).toEqual([]);
  });

  it('makes a broken element an unreadable record and keeps reading the others', async () => {
    const records = await collect(readJsonArray(chunked('[{"a":1}, {bad}, {"a":3}]')));
    expect(records.map((r) => r.value instanceof UnreadableRecord)).toEqual([false, true, false]);
    expect(records[2]?.value).toEqual({ a: 3 });
  });

  it.each([
    ['an object', '{"events":[]}', /expected a JSON array/],
    ['empty', '   ', /the file is empty/],
    ['unclosed', '[{"a":1},', /not closed/],
    ['followed by content', '[1] [2]', /after the closing/],
  ])('refuses a file that is %s', async (_what, text, message) => {
    await expect(collect(readJsonArray(chunked(text)))).rejects.toThrow(NotAJsonArrayError);
    await expect(collect(readJsonArray(chunked(text)))).rejects.toThrow(message);
  });

  it('reads any array of JSON values back exactly, however the stream is cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.jsonValue(), { maxLength: 12 }),
        fc.array(fc.nat({ max: 400 }), { maxLength: 6 }),
        fc.boolean(),
        async (values, cuts, pretty) => {
          const text = JSON.stringify(values, null, pretty ? 2 : undefined);
          const records = await collect(readJsonArray(chunked(text, cuts)));
          // JSON cannot tell -0 from 0: compare what JSON round-trips to.
          expect(records.map((r) => r.value)).toEqual(JSON.parse(text));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('CSV reader', () => {
  it('builds events from envelope columns and properties.<name> columns, inferring numbers and booleans', async () => {
    const text = [
      'eventId,customerId,type,occurredAt,properties.amountCents,properties.reason,properties.attributes.seats,properties.attributes.annual,properties.ticketId',
      'e1,c1,payment_failed,2026-01-01T00:00:00Z,1900,card_declined,,,',
      'e2,c1,customer_profile,2026-01-02T00:00:00Z,,,12,true,',
      'e3,c1,support_ticket_resolved,2026-01-03T00:00:00Z,,,,,123',
    ].join('\n');
    const records = await collect(readCsv(chunked(text)));
    expect(records.map((r) => r.line)).toEqual([2, 3, 4]);
    expect(records.map((r) => r.value)).toEqual([
      {
        eventId: 'e1',
        customerId: 'c1',
        type: 'payment_failed',
        occurredAt: '2026-01-01T00:00:00Z',
        properties: { amountCents: 1900, reason: 'card_declined' },
      },
      {
        eventId: 'e2',
        customerId: 'c1',
        type: 'customer_profile',
        occurredAt: '2026-01-02T00:00:00Z',
        properties: { attributes: { seats: 12, annual: true } },
      },
      // ticketId is text in the contract: "123" stays a string.
      {
        eventId: 'e3',
        customerId: 'c1',
        type: 'support_ticket_resolved',
        occurredAt: '2026-01-03T00:00:00Z',
        properties: { ticketId: '123' },
      },
    ]);
    for (const r of records) expect(validateEvent(r.value, 0).ok).toBe(true);
  });

  it('reads a properties column holding JSON, and rejects one that is not an object', () => {
    const header = ['eventId', 'customerId', 'type', 'occurredAt', 'properties'];
    expect(csvRowToEvent(header, ['e', 'c', 'feature_used', '2026-01-01T00:00:00Z', '{"feature":"x","quantity":2}'])).toMatchObject({
      properties: { feature: 'x', quantity: 2 },
    });
    expect(csvRowToEvent(header, ['e', 'c', 'feature_used', '2026-01-01T00:00:00Z', '{nope'])).toBeInstanceOf(UnreadableRecord);
    expect(csvRowToEvent(header, ['e', 'c', 'feature_used', '2026-01-01T00:00:00Z', '[1]'])).toBeInstanceOf(UnreadableRecord);
  });

  it('keeps unknown columns so that validation names them, and flags rows with extra cells', () => {
    const event = csvRowToEvent(['eventId', 'colour'], ['e', 'red']);
    expect(event).toEqual({ eventId: 'e', colour: 'red' });
    expect(csvRowToEvent(['eventId'], ['e', 'extra'])).toBeInstanceOf(UnreadableRecord);
  });

  it('refuses a header that would write into Object.prototype', () => {
    const value = csvRowToEvent(['properties.__proto__.polluted'], ['yes']);
    expect(value).toBeInstanceOf(UnreadableRecord);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('round-trips a valid event written as CSV (quoted cells with commas and quotes)', async () => {
    const event = makeEvent('survey_response', { properties: { score: 3, comment: 'slow, "very" slow' } });
    const text = `eventId,customerId,type,occurredAt,properties.score,properties.comment\n${event.eventId},${event.customerId},${event.type},${event.occurredAt},3,"slow, ""very"" slow"\n`;
    const [record] = await collect(readCsv(chunked(text, [20, 77])));
    expect(record?.value).toEqual(event);
  });
});
