import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildFeatureMatrix } from '../../model/features/datasets.ts';
import { groupHistories, streamHistories } from '../../model/features/history.ts';
import { parseDelimited } from '../../model/import/delimited.ts';
import { mapEventType, planEventLogImport } from '../../model/import/eventLogImport.ts';
import { parseEventTime } from '../../model/import/values.ts';

const cdnow = () => parseDelimited(readFileSync(new URL('../fixtures/cdnow-sample.txt', import.meta.url), 'utf8'));
const CDNOW = { customerColumn: 'customer_id', timeColumn: 'date', valueColumn: 'dollar_value', shiftYears: 28 };

describe('importing the CDNOW purchase log (whitespace separated, dates YYYYMMDD, 1997)', () => {
  it('detects the whitespace delimiter and the header', () => {
    const table = cdnow();
    expect(table.delimiter).toBe('whitespace');
    expect(table.header).toEqual(['customer_id', 'date', 'number_of_cds', 'dollar_value']);
    expect(table.rows[0]).toEqual({ line: 2, cells: ['00001', '19970101', '1', '11.77'] });
  });

  it('asks for a year shift, once, because events must fall in 2000–2099', () => {
    expect(() => planEventLogImport(cdnow(), { ...CDNOW, shiftYears: 0 })).toThrow(
      'the log starts on 1997-01-01, before 2000-01-01 (the earliest time events accept): move the whole log with --shift-years 3 (or more)',
    );
  });

  it('turns each purchase into a payment_succeeded with the amount in cents, at the shifted date', () => {
    const plan = planEventLogImport(cdnow(), CDNOW);
    expect(plan.problems).toEqual([]);
    expect(plan.counts).toMatchObject({ rows: 199, imported: 199, rejected: 0, byType: { payment_succeeded: 199 } });
    expect(plan.events[0]).toMatchObject({
      customerId: '00001',
      type: 'payment_succeeded',
      occurredAt: '2025-01-01T00:00:00.000Z',
      properties: { amountCents: 1177 },
    });
  });

  it('keeps further number columns as named measures of each purchase (--property cds=number_of_cds)', () => {
    const plan = planEventLogImport(cdnow(), { ...CDNOW, measureColumns: [{ name: 'cds', column: 'number_of_cds' }] });
    expect(plan.problems).toEqual([]);
    expect(plan.events.slice(1, 3).map((e) => e.properties)).toEqual([
      { amountCents: 1200, measures: { cds: 1 } },
      { amountCents: 7700, measures: { cds: 5 } },
    ]);
  });

  it('refuses a measure column that does not exist, or one measure name given twice', () => {
    expect(() => planEventLogImport(cdnow(), { ...CDNOW, measureColumns: [{ name: 'cds', column: 'number_of_dvds' }] })).toThrow(
      /--property cds/,
    );
    const twice = [
      { name: 'cds', column: 'number_of_cds' },
      { name: 'cds', column: 'dollar_value' },
    ];
    expect(() => planEventLogImport(cdnow(), { ...CDNOW, measureColumns: twice })).toThrow('--property cds is given twice');
  });

  it('gives two identical purchases on the same day distinct, deterministic ids', () => {
    const plan = planEventLogImport(cdnow(), CDNOW);
    const ids = plan.events.filter((e) => e.customerId === '00002').map((e) => e.eventId);
    expect(ids.slice(0, 2)).toEqual([
      'import:00002:20250112T000000000Z:payment_succeeded:0',
      'import:00002:20250112T000000000Z:payment_succeeded:1',
    ]);
    expect(new Set(plan.events.map((e) => e.eventId)).size).toBe(plan.events.length);
    expect(planEventLogImport(cdnow(), CDNOW).events.map((e) => e.eventId)).toEqual(plan.events.map((e) => e.eventId));
  });

  it('gives purchase histories that the inactive churn definition can label', async () => {
    const plan = planEventLogImport(cdnow(), CDNOW);
    const m = await buildFeatureMatrix(streamHistories(groupHistories(plan.events)), '2025-04-01', {
      churn: { kind: 'inactive', days: 90 },
      horizonDays: 90,
      observedUntil: '2026-07-01',
    });
    expect(m.customerIds.length).toBeGreaterThan(10);
    expect(m.labels.every((l) => l === 0 || l === 1)).toBe(true);
    const paid = m.numericColumns.findIndex((c) => c.name === 'value.paid_90d');
    expect(paid).toBeGreaterThanOrEqual(0);
  });
});

describe('event log rows', () => {
  const log = [
    'user,when,kind,amount',
    'u1,2026-01-05,purchase,12.50',
    'u1,2026-01-06T10:00:00Z,login,',
    'u2,not-a-date,purchase,3',
    'u2,20260107,export_pdf,2',
    'u3,20260108,purchase,abc',
    ',20260108,purchase,1',
    'u4,1767225600,cancel,',
  ].join('\n');

  it('map types onto events (unknown types become custom events) and report bad rows by line', () => {
    const plan = planEventLogImport(parseDelimited(log), {
      customerColumn: 'user',
      timeColumn: 'when',
      typeColumn: 'kind',
      valueColumn: 'amount',
    });
    expect(plan.problems).toEqual([
      { line: 4, message: 'time "not-a-date" is not a date (YYYYMMDD, YYYY-MM-DD, ISO 8601, epoch seconds or ms)' },
      { line: 6, message: 'value "abc" is not a number' },
      { line: 7, message: 'empty customer id' },
    ]);
    expect(plan.events.map((e) => [e.customerId, e.type, e.properties])).toEqual([
      ['u1', 'payment_succeeded', { amountCents: 1250 }],
      ['u1', 'session_started', {}],
      ['u2', 'custom', { name: 'export_pdf', quantity: 2 }],
      ['u4', 'subscription_cancelled', {}],
    ]);
  });

  it('report a measure cell that is not a number by its line, and leave blank measures out', () => {
    const table = parseDelimited(['user,when,amount,seats', 'u1,2026-01-05,10,3', 'u1,2026-01-06,10,', 'u2,2026-01-06,5,many'].join('\n'));
    const plan = planEventLogImport(table, {
      customerColumn: 'user',
      timeColumn: 'when',
      valueColumn: 'amount',
      measureColumns: [{ name: 'seats', column: 'seats' }],
    });
    expect(plan.problems).toEqual([{ line: 4, message: 'seats "many" is not a number' }]);
    expect(plan.events.map((e) => e.properties)).toEqual([{ amountCents: 1000, measures: { seats: 3 } }, { amountCents: 1000 }]);
  });

  it('read the usual time formats, rejecting impossible dates', () => {
    expect(parseEventTime('19970101')).toBe(Date.UTC(1997, 0, 1));
    expect(parseEventTime('2026/03/01')).toBe(Date.UTC(2026, 2, 1));
    expect(parseEventTime('2026-03-01 12:30')).toBe(Date.UTC(2026, 2, 1, 12, 30));
    expect(parseEventTime('2026-03-01T12:30:00+02:00')).toBe(Date.UTC(2026, 2, 1, 10, 30));
    expect(parseEventTime('1767225600000')).toBe(1767225600000);
    expect(parseEventTime('20260231')).toBeUndefined();
  });

  it('map common names of event types', () => {
    expect(mapEventType('Purchase')).toBe('payment_succeeded');
    expect(mapEventType('failed-payment')).toBe('payment_failed');
    expect(mapEventType('Cancellation')).toBe('subscription_cancelled');
    expect(mapEventType('page view')).toBe('custom');
  });
});
