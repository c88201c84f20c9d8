import { z } from 'zod';
import { ExitReasonCode } from './exitReasons.ts';
import { EVENT_LIMITS, ID_PATTERN, NAME_PATTERN } from './limits.ts';

/** Version of the event contract; producers may send it, the store records it. */
export const EVENT_SCHEMA_VERSION = 1;

const id = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(EVENT_LIMITS.maxIdLength, `${what} must be at most ${EVENT_LIMITS.maxIdLength} characters`)
    .regex(ID_PATTERN, `${what} may contain only letters, digits and . _ : @ -`);

const name = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(EVENT_LIMITS.maxNameLength, `${what} must be at most ${EVENT_LIMITS.maxNameLength} characters`)
    .regex(NAME_PATTERN, `${what} may contain only letters, digits, spaces and . _ : - /`);

const text = (what: string) =>
  z.string().max(EVENT_LIMITS.maxTextLength, `${what} must be at most ${EVENT_LIMITS.maxTextLength} characters`);

/**
 * DynamoDB stores numbers of magnitude 1e-130 to 9.99…e125 (and 0), with up to 38 significant digits
 * (a JSON number read into a double has at most 17). A value outside that range would pass here and
 * then fail the whole BatchWriteItem on every re-send (a 503 forever): it is this event's rejection.
 */
const DYNAMO_MIN_MAGNITUDE = 1e-130;
const DYNAMO_MAX_MAGNITUDE = 1e126;
const dynamoStorable = (n: number) => n === 0 || (Math.abs(n) >= DYNAMO_MIN_MAGNITUDE && Math.abs(n) < DYNAMO_MAX_MAGNITUDE);

const quantity = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .finite(`${what} must be finite`)
    .nonnegative(`${what} must not be negative`)
    .max(EVENT_LIMITS.maxQuantity, `${what} must be at most ${EVENT_LIMITS.maxQuantity}`)
    .refine(dynamoStorable, `${what} must be 0 or at least 1e-130 (smaller numbers cannot be stored)`);

const cents = (what: string) => quantity(what).int(`${what} must be a whole number of cents`);

const MIN_MS = Date.parse(EVENT_LIMITS.minTimestamp);
const MAX_MS = Date.parse(EVENT_LIMITS.maxTimestamp);
const CANONICAL_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * ISO 8601 instant with an explicit offset (`Z` or `+02:00`), within the contract's range.
 * Normalised to UTC with milliseconds, so stored sort keys order by time.
 */
export const Timestamp = z
  .string({ error: 'must be an ISO 8601 timestamp string' })
  .pipe(z.iso.datetime({ offset: true, error: 'must be an ISO 8601 timestamp with a time zone, e.g. 2026-03-01T12:00:00Z' }))
  .transform((s, ctx) => {
    const ms = Date.parse(s);
    if (!(ms >= MIN_MS && ms < MAX_MS)) {
      ctx.addIssue({ code: 'custom', message: `must be on or after ${EVENT_LIMITS.minTimestamp} and before ${EVENT_LIMITS.maxTimestamp}` });
      return z.NEVER;
    }
    // Most producers already send the canonical form: skip re-formatting it (ingest's hot path).
    return CANONICAL_UTC.test(s) ? s : new Date(ms).toISOString();
  });

/** Calendar date `YYYY-MM-DD`. */
export const CalendarDate = z.iso.date({ error: 'must be a date YYYY-MM-DD' });

export const PaymentFailureReason = z.enum([
  'card_declined',
  'expired_card',
  'insufficient_funds',
  'processing_error',
  'fraud_suspected',
  'other',
]);
export type PaymentFailureReason = z.output<typeof PaymentFailureReason>;

/**
 * Numbers DynamoDB can store: magnitude up to 9.99e125 and down to 1e-130 (or zero). Outside
 * that range BatchWriteItem fails the whole batch of 25, so such a value is rejected here, with
 * its event, instead of costing its neighbours.
 */
const storableNumber = z.number().finite().refine(dynamoStorable, 'numbers must be 0 or between 1e-130 and 1e125 in magnitude');

const ProfileAttributeValue = z.union([z.string().max(EVENT_LIMITS.maxTextLength), storableNumber, z.boolean(), z.null()], {
  error: `must be a string (at most ${EVENT_LIMITS.maxTextLength} characters), a finite number between 1e-130 and 1e125 in magnitude (or 0), a boolean or null`,
});

const ProfileAttributes = z
  .record(name('attribute name'), ProfileAttributeValue)
  .refine((attrs) => Object.keys(attrs).length <= EVENT_LIMITS.maxProfileAttributes, {
    message: `must have at most ${EVENT_LIMITS.maxProfileAttributes} attributes`,
  });

const _empty = z.strictObject({}).default({});

/**
 * Further numbers an event carries, by name: the CDs of a purchase, the seats of a usage record,
 * the kilobytes of an export. Each becomes sums and means in the generated features
 * (model/features/generated.ts). Names follow the name rule; values are quantities (0 to 1e9).
 */
const Measures = z
  .record(z.string(), quantity('measure'))
  .superRefine((measures, ctx) => {
    const names = Object.keys(measures);
    if (names.length > EVENT_LIMITS.maxMeasures)
      ctx.addIssue({ code: 'custom', message: `must have at most ${EVENT_LIMITS.maxMeasures} measures` });
    for (const key of names) {
      // zod reports a bad record key only as "Invalid key in record": say which rule it broke.
      const checked = name('measure name').safeParse(key);
      if (!checked.success) ctx.addIssue({ code: 'custom', path: [key], message: checked.error.issues[0]?.message ?? 'bad measure name' });
    }
  })
  .optional();

/** Properties of each event type: the part that differs between types. */
export const EventProperties = {
  session_started: z.strictObject({ durationSeconds: quantity('durationSeconds').optional(), measures: Measures }).default({}),
  feature_used: z.strictObject({ feature: name('feature'), quantity: quantity('quantity').default(1), measures: Measures }),
  payment_succeeded: z.strictObject({
    amountCents: cents('amountCents'),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as USD')
      .optional(),
    measures: Measures,
  }),
  payment_failed: z.strictObject({
    amountCents: cents('amountCents'),
    reason: PaymentFailureReason,
    /**
     * When the payment processor retries the charge next (Stripe's `next_payment_attempt`): its
     * dunning is still running, so the payment_recovery playbook waits (model/outreach/dunning.ts).
     * Absent: no retry is scheduled (the last attempt, or a processor without dunning).
     */
    nextRetryAt: Timestamp.optional(),
    measures: Measures,
  }),
  card_expiring: z.strictObject({ expiresOn: CalendarDate }),
  support_ticket_opened: z.strictObject({
    ticketId: id('ticketId'),
    priority: z.enum(['low', 'normal', 'high', 'urgent']).default('normal'),
  }),
  support_ticket_resolved: z.strictObject({ ticketId: id('ticketId') }),
  survey_response: z.strictObject({
    score: z.number().int('score must be a whole number').min(0, 'score must be 0 to 10').max(10, 'score must be 0 to 10'),
    comment: text('comment').optional(),
    /** An exit survey's answer: why the customer left (model/events/exitReasons.ts). */
    exitReasonCode: ExitReasonCode.optional(),
  }),
  subscription_started: z.strictObject({ plan: name('plan'), mrrCents: cents('mrrCents') }),
  plan_changed: z.strictObject({ fromPlan: name('fromPlan'), toPlan: name('toPlan'), mrrCents: cents('mrrCents') }),
  subscription_cancelled: z
    .strictObject({
      /** Free-form reason code of older producers; read as a taxonomy code when it clearly says one. */
      reason: name('reason').optional(),
      /** Why the customer left, from the exit-reason taxonomy (model/events/exitReasons.ts). */
      reasonCode: ExitReasonCode.optional(),
      /** The customer's own words. */
      comment: text('comment').optional(),
    })
    .default({}),
  subscription_reactivated: z.strictObject({ plan: name('plan').optional(), mrrCents: cents('mrrCents').optional() }).default({}),
  customer_profile: z.strictObject({ attributes: ProfileAttributes }),
  custom: z.strictObject({ name: name('name'), quantity: quantity('quantity').default(1), measures: Measures }),
  /**
   * What the CRM did with an outreach message (`dedupId` of the message): `contacted` (a person or
   * campaign reached out), `responded` (the customer answered), `accepted` / `declined` (the offer or
   * fix). It never changes churn or features: it lets the effect report split the treated by response.
   */
  outreach_outcome: z.strictObject({
    dedupId: z.string().min(1, 'dedupId must not be empty').max(300, 'dedupId must be at most 300 characters'),
    status: z.enum(['contacted', 'responded', 'accepted', 'declined'], {
      error: 'status must be one of: contacted, responded, accepted, declined',
    }),
    playbook: name('playbook').optional(),
    note: text('note').optional(),
  }),
} as const;

export type EventType = keyof typeof EventProperties;
export const EVENT_TYPES = Object.keys(EventProperties) as EventType[];

const envelope = {
  eventId: id('eventId'),
  customerId: id('customerId'),
  occurredAt: Timestamp,
  schemaVersion: z.literal(EVENT_SCHEMA_VERSION).optional(),
};

const variant = <T extends EventType>(type: T) => z.strictObject({ ...envelope, type: z.literal(type), properties: EventProperties[type] });

/** One usage event, discriminated on `type`. */
export const ChurnEvent = z.discriminatedUnion(
  'type',
  [
    variant('session_started'),
    variant('feature_used'),
    variant('payment_succeeded'),
    variant('payment_failed'),
    variant('card_expiring'),
    variant('support_ticket_opened'),
    variant('support_ticket_resolved'),
    variant('survey_response'),
    variant('subscription_started'),
    variant('plan_changed'),
    variant('subscription_cancelled'),
    variant('subscription_reactivated'),
    variant('customer_profile'),
    variant('custom'),
    variant('outreach_outcome'),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? `type must be one of: ${EVENT_TYPES.join(', ')}` : undefined) },
);

/** A validated event: `occurredAt` is normalised UTC ISO, defaults are applied. */
export type ChurnEvent = z.output<typeof ChurnEvent>;
/** What a producer sends. */
export type ChurnEventInput = z.input<typeof ChurnEvent>;
export type EventOf<T extends EventType> = Extract<ChurnEvent, { type: T }>;
