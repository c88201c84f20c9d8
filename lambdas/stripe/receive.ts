import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { StripeSignatureError, verifyStripeEvent } from '../../adapters/stripe/stripeSignature.ts';
import { type EventWriter, ingestEvents } from '../../model/events/ingest.ts';
import type { EventRejection } from '../../model/events/validate.ts';
import { mapStripeEvent } from '../../model/integrations/stripe/mapStripeEvent.ts';
import type { StripeCustomerLookup } from '../../model/integrations/stripe/stripeCustomer.ts';
import { StripeEvent } from '../../model/integrations/stripe/stripePayloads.ts';

/** The JSON body of every answer to Stripe (Stripe shows it in the Dashboard's event deliveries). */
export interface StripeResponseBody {
  received: boolean;
  /** The Stripe event, when the body verified. */
  stripeEventId?: string;
  /** churnguard events stored, by id. */
  stored?: string[];
  /** Why nothing was stored although the delivery is acknowledged. */
  ignored?: string;
  /** Mapped events the contract refused (e.g. a customer id with characters ids may not hold). */
  rejected?: EventRejection[];
  message?: string;
}

/** What one delivery came to, for the handler's metrics and logs. */
export type StripeOutcome = 'refused' | 'ignored' | 'stored' | 'rejected' | 'unstored';

export interface StripeReceiver {
  store: () => EventWriter;
  secrets: () => Promise<readonly string[]>;
  lookup: StripeCustomerLookup;
}

const answer = (statusCode: number, body: StripeResponseBody, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const header = (event: APIGatewayProxyEventV2, name: string): string | undefined =>
  Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];

/**
 * One Stripe webhook delivery: verify the signature on the raw bytes (400 and nothing stored when
 * it does not verify or is stale), map the event, store what it maps to (503 when the store fails,
 * so Stripe retries; storing is idempotent). An event churnguard does not read, or cannot place, is
 * acknowledged (200) with the reason: Stripe would otherwise retry it for three days to no avail.
 */
export async function receiveStripeEvent(
  request: APIGatewayProxyEventV2,
  deps: StripeReceiver,
): Promise<{ response: APIGatewayProxyStructuredResultV2; outcome: StripeOutcome; detail?: string }> {
  const method = request.requestContext?.http?.method;
  if (method !== undefined && method !== 'POST')
    return {
      response: answer(405, { received: false, message: `method ${method} is not allowed; Stripe POSTs events` }),
      outcome: 'refused',
    };
  const raw = request.isBase64Encoded ? Buffer.from(request.body ?? '', 'base64') : (request.body ?? '');
  const signature = header(request, 'stripe-signature');
  let payload: unknown;
  try {
    // An unsigned request is refused before the secret is fetched: junk traffic costs no Secrets Manager call.
    payload = verifyStripeEvent(raw, signature, signature ? await deps.secrets() : []);
  } catch (error) {
    if (!(error instanceof StripeSignatureError)) throw error;
    return { response: answer(400, { received: false, message: error.message }), outcome: 'refused', detail: error.message };
  }
  const parsed = StripeEvent.safeParse(payload);
  if (!parsed.success) {
    const message = `the signed body is not a Stripe event: ${parsed.error.issues[0]?.path.join('.') || '(body)'}: ${parsed.error.issues[0]?.message}`;
    return { response: answer(400, { received: false, message }), outcome: 'refused', detail: message };
  }
  const stripeEventId = parsed.data.id;
  const mapping = mapStripeEvent(parsed.data, deps.lookup);
  if (mapping.kind === 'ignored')
    return {
      response: answer(200, { received: true, stripeEventId, ignored: mapping.reason }),
      outcome: 'ignored',
      detail: mapping.reason,
    };
  const outcome = await ingestEvents(deps.store(), mapping.events);
  if (outcome.unstored.length > 0) {
    const message = `${outcome.unstored.length} event(s) could not be stored (${outcome.unstored[0]?.reason}); Stripe will retry`;
    return {
      response: answer(503, { received: false, stripeEventId, message }, { 'retry-after': '1' }),
      outcome: 'unstored',
      detail: message,
    };
  }
  const rejectedIndexes = new Set(outcome.rejected.map((r) => r.index));
  const stored = mapping.events.flatMap((e, i) => (rejectedIndexes.has(i) ? [] : [e.eventId]));
  if (outcome.rejected.length > 0) {
    const message = 'the event maps to churnguard events the contract refuses; see rejected';
    return {
      response: answer(200, { received: true, stripeEventId, stored, rejected: outcome.rejected, message }),
      outcome: 'rejected',
      detail: message,
    };
  }
  return { response: answer(200, { received: true, stripeEventId, stored }), outcome: 'stored' };
}
