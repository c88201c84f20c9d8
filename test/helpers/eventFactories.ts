import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { type ChurnEventInput, EVENT_TYPES, type EventType } from '../../model/events/schemas.ts';

/** Valid properties of each event type: the smallest realistic example. */
export const SAMPLE_PROPERTIES: { [T in EventType]: Extract<ChurnEventInput, { type: T }>['properties'] } = {
  session_started: { durationSeconds: 420 },
  feature_used: { feature: 'reports', quantity: 3 },
  payment_succeeded: { amountCents: 4900, currency: 'USD' },
  payment_failed: { amountCents: 4900, reason: 'card_declined' },
  card_expiring: { expiresOn: '2026-04-30' },
  support_ticket_opened: { ticketId: 'T-1001', priority: 'high' },
  support_ticket_resolved: { ticketId: 'T-1001' },
  survey_response: { score: 4, comment: 'too slow' },
  subscription_started: { plan: 'pro', mrrCents: 4900 },
  plan_changed: { fromPlan: 'pro', toPlan: 'basic', mrrCents: 1900 },
  subscription_cancelled: { reason: 'too expensive' },
  subscription_reactivated: { plan: 'pro', mrrCents: 4900 },
  customer_profile: { attributes: { country: 'DE', seats: 12, annual: true, segment: null } },
  custom: { name: 'export_csv', quantity: 2 },
  outreach_outcome: { dedupId: 'score-2026-06-01:cus-1', status: 'accepted', playbook: 'offer' },
};

let counter = 0;

/**
 * A valid event of `type` (session_started by default) for customer `cust-1`; override any field.
 *
 * @example makeEvent('payment_failed', { customerId: 'c-9' })
 */
export function makeEvent<T extends EventType = 'session_started'>(
  type?: T,
  overrides: Partial<Record<string, unknown>> = {},
): ChurnEventInput & Record<string, unknown> {
  const t = (type ?? 'session_started') as EventType;
  counter++;
  return {
    eventId: `evt-${counter}`,
    customerId: 'cust-1',
    type: t,
    occurredAt: '2026-03-01T12:00:00.000Z',
    properties: structuredClone(SAMPLE_PROPERTIES[t]),
    ...overrides,
  } as ChurnEventInput & Record<string, unknown>;
}

const idArb = fc.stringMatching(/^[A-Za-z0-9._:@-]{1,24}$/);
const timeArb = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

/** Random valid events of every type (unique ids, a handful of customers). */
export const validEventArb: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    type: fc.constantFrom(...EVENT_TYPES),
    eventId: idArb,
    customerId: fc.constantFrom('c1', 'c2', 'c3', 'c:4', 'c@5'),
    occurredAt: timeArb,
  })
  .map(({ type, ...rest }) => ({ ...rest, type, properties: structuredClone(SAMPLE_PROPERTIES[type]) }));

/** Random invalid events: a valid one with one field broken, or not an event at all. */
export const invalidEventArb: fc.Arbitrary<unknown> = fc.oneof(
  validEventArb.map((e) => ({ ...e, eventId: '' })),
  validEventArb.map((e) => ({ ...e, customerId: 'has#hash' })),
  validEventArb.map((e) => ({ ...e, occurredAt: '2026-03-01T12:00:00' })),
  validEventArb.map((e) => ({ ...e, type: 'page_viewed' })),
  validEventArb.map((e) => ({ ...e, surprise: true })),
  validEventArb.map((e) => ({ ...e, properties: 'none' })),
  fc.constantFrom(null, 42, 'event', [], true),
  fc.jsonValue().filter((v) => v === null || typeof v !== 'object' || Array.isArray(v) || !('eventId' in v)),
);

/** An API Gateway HTTP API (payload v2) request, as the ingest route receives it. */
export function apiRequest(
  body: string | undefined,
  options: { contentType?: string | undefined; base64?: boolean; method?: string } = {},
): APIGatewayProxyEventV2 {
  const contentType = 'contentType' in options ? options.contentType : 'application/json';
  return {
    version: '2.0',
    routeKey: 'POST /events',
    rawPath: '/events',
    rawQueryString: '',
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    body: body === undefined ? undefined : options.base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: options.method ?? 'POST', path: '/events', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: `req-${++counter}`,
      routeKey: 'POST /events',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  };
}
