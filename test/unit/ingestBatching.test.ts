import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../adapters/aws/batchWrite.ts';
import type { EventWriter } from '../../model/events/ingest.ts';
import { ingestRecords } from '../../model/events/ingestRecords.ts';
import type { SourceRecord } from '../../model/events/readers/sourceRecord.ts';
import { makeEvent } from '../helpers/eventFactories.ts';

async function* fromArray(records: SourceRecord[]): AsyncGenerator<SourceRecord> {
  yield* records;
}

/** Records the size of every putEvents call. */
function countingWriter(): EventWriter & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    putEvents: async (events) => {
      calls.push(events.length);
      return { failed: [] };
    },
  };
}

describe('request-sized chunking of files', () => {
  it('writes at most 500 events per chunk, in order, and counts every record', async () => {
    const writer = countingWriter();
    const records = Array.from({ length: 1234 }, (_, i) => ({ line: i + 1, value: makeEvent(), bytes: 300 }));
    const summary = await ingestRecords(writer, fromArray(records));
    expect(writer.calls).toEqual([500, 500, 234]);
    expect(summary).toMatchObject({ records: 1234, accepted: 1234, rejectedCount: 0 });
  });

  it('closes a chunk before it would pass 1 MiB', async () => {
    const writer = countingWriter();
    const records = Array.from({ length: 10 }, (_, i) => ({ line: i + 1, value: makeEvent(), bytes: 300 * 1024 }));
    await ingestRecords(writer, fromArray(records));
    expect(writer.calls).toEqual([3, 3, 3, 1]);
  });

  it('locates each rejection by the line and file index of its record, across chunks', async () => {
    const records = Array.from({ length: 700 }, (_, i) => ({
      line: 2 * i + 1,
      value: i % 250 === 7 ? { eventId: `bad-${i}` } : makeEvent(),
      bytes: 100,
    }));
    const summary = await ingestRecords(countingWriter(), fromArray(records));
    expect(summary.rejected.map((r) => [r.index, r.line, r.eventId])).toEqual([
      [7, 15, 'bad-7'],
      [257, 515, 'bad-257'],
      [507, 1015, 'bad-507'],
    ]);
    expect(summary.accepted).toBe(697);
  });

  it('keeps at most maxDetails rejections in detail but counts them all', async () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ line: i + 1, value: null, bytes: 4 }));
    const summary = await ingestRecords(countingWriter(), fromArray(records), { maxDetails: 5 });
    expect([summary.rejectedCount, summary.rejected.length]).toEqual([50, 5]);
  });
});

describe('retry backoff', () => {
  it('waits a random time below a ceiling that doubles per attempt and is capped', () => {
    const options = { baseDelayMs: 50, maxDelayMs: 2000 };
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => backoffDelay(attempt, { ...options, random: () => 0.999999 }));
    expect(ceilings).toEqual([49, 99, 199, 399, 799, 1599, 1999, 1999]);
    expect(backoffDelay(5, { ...options, random: () => 0 })).toBe(0);
  });

  it('never waits longer than the cap nor less than zero', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 0.9999999, noNaN: true }), (attempt, r) => {
        const delay = backoffDelay(attempt, { baseDelayMs: 50, maxDelayMs: 2000, random: () => r });
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(2000);
      }),
    );
  });
});
