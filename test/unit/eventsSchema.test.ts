import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_LIMITS } from '../../model/events/limits.ts';
import { EVENT_TYPES, type EventType, Timestamp } from '../../model/events/schemas.ts';
import { validateEvent, validateEvents } from '../../model/events/validate.ts';
import { makeEvent, SAMPLE_PROPERTIES } from '../helpers/eventFactories.ts';

const errorsOf = (raw: unknown) => {
  const result = validateEvent(raw, 0);
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.event)}`);
  return result.rejection.errors;
};

/** One invalid properties object per type, and the field it must name. */
const INVALID_PROPERTIES: Record<EventType, { properties: unknown; path: string }> = {
  session_started: { properties: { durationSeconds: -1 }, path: 'properties.durationSeconds' },
  feature_used: { properties: { quantity: 1 }, path: 'properties.feature' },
  payment_succeeded: { properties: { amountCents: 10.5 }, path: 'properties.amountCents' },
  payment_failed: { properties: { amountCents: 100, reason: 'bad_luck' }, path: 'properties.reason' },
  card_expiring: { properties: { expiresOn: '2026-13-01' }, path: 'properties.expiresOn' },
  support_ticket_opened: { properties: { ticketId: 'T#1' }, path: 'properties.ticketId' },
  support_ticket_resolved: { properties: {}, path: 'properties.ticketId' },
  survey_response: { properties: { score: 11 }, path: 'properties.score' },
  subscription_started: { properties: { plan: 'pro' }, path: 'properties.mrrCents' },
  plan_changed: { properties: { fromPlan: 'pro', toPlan: '', mrrCents: 100 }, path: 'properties.toPlan' },
  subscription_cancelled: { properties: { reason: 'x'.repeat(EVENT_LIMITS.maxNameLength + 1) }, path: 'properties.reason' },
  subscription_reactivated: { properties: { mrrCents: -5 }, path: 'properties.mrrCents' },
  customer_profile: { properties: { attributes: { nested: { a: 1 } } }, path: 'properties.attributes.nested' },
  custom: { properties: { name: 'ok', quantity: Number.POSITIVE_INFINITY }, path: 'properties.quantity' },
  outreach_outcome: { properties: { dedupId: 'run:c', status: 'ignored' }, path: 'properties.status' },
};

describe('event contract: measures (named numbers of an event)', () => {
  it('accepts named measures on purchases and custom events', () => {
    const purchase = validateEvent(makeEvent('payment_succeeded', { properties: { amountCents: 1177, measures: { cds: 2 } } }), 0);
    expect(purchase.ok && purchase.event.properties).toEqual({ amountCents: 1177, measures: { cds: 2 } });
    expect(validateEvent(makeEvent('custom', { properties: { name: 'export', measures: { kb: 10.5 } } }), 0).ok).toBe(true);
  });

  it('rejects a negative measure, a bad measure name and too many measures, naming the field', () => {
    expect(errorsOf(makeEvent('payment_succeeded', { properties: { amountCents: 1, measures: { cds: -1 } } }))[0]?.path).toBe(
      'properties.measures.cds',
    );
    expect(errorsOf(makeEvent('payment_succeeded', { properties: { amountCents: 1, measures: { 'c#d': 1 } } }))[0]?.message).toMatch(
      /measure name may contain only/,
    );
    const many = Object.fromEntries(Array.from({ length: EVENT_LIMITS.maxMeasures + 1 }, (_, i) => [`m${i}`, i]));
    expect(errorsOf(makeEvent('custom', { properties: { name: 'x', measures: many } }))[0]?.message).toBe(
      `must have at most ${EVENT_LIMITS.maxMeasures} measures`,
    );
  });

  it('keeps measures off events that do not take them', () => {
    expect(
      errorsOf(makeEvent('subscription_started', { properties: { plan: 'pro', mrrCents: 100, measures: { seats: 3 } } }))[0]?.path,
    ).toBe('properties');
  });
});

describe('event contract: every type', () => {
  it.each(EVENT_TYPES)('accepts a well-formed %s event', (type) => {
    const result = validateEvent(makeEvent(type), 0);
    expect(result.ok).toBe(true);
  });

  it.each(EVENT_TYPES)('rejects a %s event with bad properties, naming the field', (type) => {
    const { properties, path } = INVALID_PROPERTIES[type];
    const errors = errorsOf(makeEvent(type, { properties }));
    expect(errors.map((e) => e.path)).toContain(path);
  });

  it.each(EVENT_TYPES)('rejects an unknown property on a %s event (strict objects)', (type) => {
    const errors = errorsOf(makeEvent(type, { properties: { ...SAMPLE_PROPERTIES[type], colour: 'red' } }));
    expect(errors).toContainEqual({ path: 'properties', message: 'unknown field(s): colour' });
  });

  it('applies defaults: feature_used quantity 1, support priority normal, empty properties', () => {
    const used = validateEvent(makeEvent('feature_used', { properties: { feature: 'x' } }), 0);
    const ticket = validateEvent(makeEvent('support_ticket_opened', { properties: { ticketId: 'T1' } }), 0);
    const session = validateEvent({ ...makeEvent('session_started'), properties: undefined }, 0);
    expect(used.ok && used.event.properties).toEqual({ feature: 'x', quantity: 1 });
    expect(ticket.ok && ticket.event.properties).toEqual({ ticketId: 'T1', priority: 'normal' });
    expect(session.ok && session.event.properties).toEqual({});
  });

  it('names the allowed types when the type is unknown or missing', () => {
    const unknown = errorsOf(makeEvent('session_started', { type: 'page_viewed' }));
    const missing = errorsOf({ eventId: 'e', customerId: 'c', occurredAt: '2026-01-01T00:00:00Z' });
    for (const errors of [unknown, missing])
      expect(errors[0]).toMatchObject({ path: 'type', message: expect.stringContaining('session_started, feature_used') });
  });

  it('rejects unknown top-level fields by name', () => {
    expect(errorsOf(makeEvent('session_started', { userAgent: 'x' }))).toContainEqual({
      path: '(event)',
      message: 'unknown field(s): userAgent',
    });
  });

  it('rejects a schemaVersion other than 1', () => {
    expect(errorsOf(makeEvent('session_started', { schemaVersion: 2 })).map((e) => e.path)).toEqual(['schemaVersion']);
    expect(validateEvent(makeEvent('session_started', { schemaVersion: 1 }), 0).ok).toBe(true);
  });

  it.each([null, 42, 'text', true, [], [makeEvent()]])('rejects %j as "event must be a JSON object"', (raw) => {
    expect(errorsOf(raw)[0]).toMatchObject({ path: '(event)', message: expect.stringMatching(/^event must be a JSON object, got /) });
  });
});

describe('event contract: ids', () => {
  it.each(['a', 'cust-1', 'c.2_x:y@z', 'x'.repeat(EVENT_LIMITS.maxIdLength)])('accepts the id %s', (id) => {
    expect(validateEvent(makeEvent('session_started', { eventId: id, customerId: id }), 0).ok).toBe(true);
  });

  it.each([
    ['empty', '', 'must not be empty'],
    ['too long', 'x'.repeat(EVENT_LIMITS.maxIdLength + 1), `at most ${EVENT_LIMITS.maxIdLength}`],
    ['with the key separator #', 'a#b', 'may contain only'],
    ['with a space', 'a b', 'may contain only'],
    ['with a slash', 'a/b', 'may contain only'],
    ['non-ASCII', 'kundé', 'may contain only'],
  ])('rejects a customerId that is %s', (_what, id, message) => {
    expect(errorsOf(makeEvent('session_started', { customerId: id }))).toContainEqual({
      path: 'customerId',
      message: expect.stringContaining(message),
    });
  });

  it('rejects a numeric eventId as not a string', () => {
    expect(errorsOf(makeEvent('session_started', { eventId: 17 }))).toContainEqual({
      path: 'eventId',
      message: 'eventId must be a string',
    });
  });

  it('keeps the eventId of a rejected event when it is a string, so the producer can match it', () => {
    const result = validateEvent(makeEvent('payment_failed', { eventId: 'pay-9', properties: {} }), 4);
    expect(result).toMatchObject({ ok: false, rejection: { index: 4, eventId: 'pay-9' } });
  });
});

describe('event contract: timestamps', () => {
  it.each([
    ['2026-03-01T12:00:00Z', '2026-03-01T12:00:00.000Z'],
    ['2026-03-01T12:00:00.5+02:00', '2026-03-01T10:00:00.500Z'],
    ['2000-01-01T00:00:00Z', '2000-01-01T00:00:00.000Z'],
    ['2099-12-31T23:59:59.999Z', '2099-12-31T23:59:59.999Z'],
  ])('accepts %s and normalises it to UTC milliseconds (%s)', (input, normalised) => {
    const result = validateEvent(makeEvent('session_started', { occurredAt: input }), 0);
    expect(result.ok && result.event.occurredAt).toBe(normalised);
  });

  it('normalises any instant in range, in any offset and precision, to the same UTC milliseconds as Date does', () => {
    const instant = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-30T00:00:00Z'), noInvalidDate: true });
    const offsetMinutes = fc.integer({ min: -12 * 60, max: 14 * 60 }).map((m) => m - (m % 15));
    fc.assert(
      fc.property(instant, offsetMinutes, fc.constantFrom(0, 1, 3), (date, offset, digits) => {
        const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 19);
        const fraction = digits === 0 ? '' : `.${String(date.getUTCMilliseconds()).padStart(3, '0').slice(0, digits)}`;
        const zone =
          offset === 0
            ? 'Z'
            : `${offset < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}:${String(Math.abs(offset) % 60).padStart(2, '0')}`;
        const text = `${local}${fraction}${zone}`;
        expect(Timestamp.parse(text)).toBe(new Date(text).toISOString());
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['in 1970', '1970-01-01T00:00:00Z', 'on or after 2000'],
    ['just before 2000', '1999-12-31T23:59:59.999Z', 'on or after 2000'],
    ['in 2999', '2999-01-01T00:00:00Z', 'before 2100'],
    ['at 2100 exactly', '2100-01-01T00:00:00Z', 'before 2100'],
    ['without a zone', '2026-03-01T12:00:00', 'with a time zone'],
    ['a date only', '2026-03-01', 'with a time zone'],
    ['an impossible date', '2026-02-30T00:00:00Z', 'ISO 8601'],
    ['epoch milliseconds', 1772409600000, 'timestamp string'],
  ])('rejects a timestamp %s', (_what, occurredAt, message) => {
    expect(errorsOf(makeEvent('session_started', { occurredAt }))).toContainEqual({
      path: 'occurredAt',
      message: expect.stringContaining(message),
    });
  });
});

describe('event contract: sizes', () => {
  it(`rejects an event over ${EVENT_LIMITS.maxEventBytes} bytes before looking at its fields`, () => {
    const attributes = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`a${i}`, 'x'.repeat(1000)]));
    const errors = errorsOf(makeEvent('customer_profile', { properties: { attributes } }));
    expect(errors).toEqual([{ path: '(event)', message: expect.stringMatching(/^event is \d+ bytes, the limit is 16384$/) }]);
  });

  it(`accepts ${EVENT_LIMITS.maxProfileAttributes} profile attributes and rejects one more`, () => {
    const attrs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    expect(
      validateEvent(makeEvent('customer_profile', { properties: { attributes: attrs(EVENT_LIMITS.maxProfileAttributes) } }), 0).ok,
    ).toBe(true);
    expect(
      errorsOf(makeEvent('customer_profile', { properties: { attributes: attrs(EVENT_LIMITS.maxProfileAttributes + 1) } }))[0]?.message,
    ).toContain('at most 200 attributes');
  });

  it('rejects text over the limit in a survey comment and a profile value', () => {
    const long = 'x'.repeat(EVENT_LIMITS.maxTextLength + 1);
    expect(errorsOf(makeEvent('survey_response', { properties: { score: 5, comment: long } })).map((e) => e.path)).toEqual([
      'properties.comment',
    ]);
    expect(errorsOf(makeEvent('customer_profile', { properties: { attributes: { note: long } } })).map((e) => e.path)).toEqual([
      'properties.attributes.note',
    ]);
  });

  it('rejects quantities beyond the unit-mistake limit and accepts the limit itself', () => {
    expect(validateEvent(makeEvent('custom', { properties: { name: 'n', quantity: EVENT_LIMITS.maxQuantity } }), 0).ok).toBe(true);
    expect(errorsOf(makeEvent('custom', { properties: { name: 'n', quantity: EVENT_LIMITS.maxQuantity + 1 } })).map((e) => e.path)).toEqual(
      ['properties.quantity'],
    );
  });

  it.each([1e126, -1e200, 1e-131])('rejects the profile number %d, which DynamoDB cannot store', (n) => {
    expect(errorsOf(makeEvent('customer_profile', { properties: { attributes: { big: n } } }))).toContainEqual({
      path: 'properties.attributes.big',
      message: expect.stringContaining('1e-130'),
    });
  });

  it.each([0, -3.5, 1e125, 1e-130])('accepts the profile number %d', (n) => {
    expect(validateEvent(makeEvent('customer_profile', { properties: { attributes: { n } } }), 0).ok).toBe(true);
  });

  it('rejects an event nested too deeply to serialise instead of throwing', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(errorsOf({ eventId: 'deep', properties: deep })).toEqual([
      { path: '(event)', message: 'event is nested too deeply to be read' },
    ]);
  });
});

describe('batch validation', () => {
  it('validates each event on its own: bad neighbours cost nothing', () => {
    const batch = [makeEvent('feature_used'), { bad: true }, makeEvent('payment_failed'), null];
    const result = validateEvents(batch, 10);
    expect(result.valid.map((v) => v.index)).toEqual([10, 12]);
    expect(result.rejected.map((r) => r.index)).toEqual([11, 13]);
  });

  it('the request limits are 500 events and 1 MiB', () => {
    expect(EVENT_LIMITS.maxEventsPerRequest).toBe(500);
    expect(EVENT_LIMITS.maxRequestBytes).toBe(1024 * 1024);
  });
});
