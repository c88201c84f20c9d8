import { describe, expect, it } from 'vitest';
import { AS_OF_DEFAULT, resolveAsOf } from '../../app/asOf.ts';

const watermark = (latestEventAt: string | undefined) => ({ latestEventAt: async () => latestEventAt });

describe('resolveAsOf: the one as-of policy of train, score, features and run', () => {
  it('defaults to one millisecond after the latest stored event, so every stored event counts', async () => {
    // Act
    const resolved = await resolveAsOf(undefined, watermark('2026-05-02T10:00:00.000Z'));
    // Assess
    expect(resolved).toEqual({ asOf: '2026-05-02T10:00:00.001Z', defaulted: true, latestEventAt: '2026-05-02T10:00:00.000Z' });
    expect(AS_OF_DEFAULT).toBe('just after the latest stored event');
  });

  it('takes an explicit date as midnight UTC and an instant with a zone as UTC', async () => {
    expect((await resolveAsOf('2026-06-30', watermark('2026-06-29T08:00:00.000Z'))).asOf).toBe('2026-06-30T00:00:00.000Z');
    expect((await resolveAsOf('2026-06-30T02:00:00+02:00', watermark(undefined))).asOf).toBe('2026-06-30T00:00:00.000Z');
  });

  it('warns when an explicit as-of lies days after the latest event (a silent feed), and not when it is close', async () => {
    const notes: string[] = [];
    await resolveAsOf('2026-07-07', watermark('2026-06-30T12:00:00.000Z'), (m) => notes.push(m));
    await resolveAsOf('2026-07-01', watermark('2026-06-30T12:00:00.000Z'), (m) => notes.push(m));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/no events in the 6 days before as-of 2026-07-07T00:00:00.000Z .*silent/);
  });

  it('tells the user to ingest events first when nothing is stored and no as-of is given', async () => {
    await expect(resolveAsOf(undefined, watermark(undefined))).rejects.toThrow(/no events are stored yet.*--as-of/);
  });

  it('rejects what is not an instant, naming the value and the accepted forms', async () => {
    await expect(resolveAsOf('yesterday', watermark(undefined))).rejects.toThrow(
      /as-of must be a date YYYY-MM-DD or an ISO 8601 timestamp.*"yesterday"/,
    );
    await expect(resolveAsOf('2026-02-31', watermark(undefined))).rejects.toThrow(/"2026-02-31"/);
  });
});
