import Stripe from 'stripe';

/** Stripe's default, and the tolerance its own libraries use: a signature older than this is a replay. */
export const STRIPE_SIGNATURE_TOLERANCE_SECONDS = 300;

export class StripeSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StripeSignatureError';
  }
}

/**
 * Verifies the `Stripe-Signature` header of a webhook delivery with the official `stripe` package
 * (HMAC-SHA256 of `timestamp.body`, timestamp within `toleranceSeconds`) and returns the parsed
 * payload. With several secrets (an endpoint secret being rolled), any one verifying is enough.
 *
 * @param rawBody the request body exactly as received: re-serialised JSON never verifies
 * @throws StripeSignatureError naming why (no header, no matching signature, timestamp outside the tolerance)
 */
export function verifyStripeEvent(
  rawBody: string | Buffer,
  signatureHeader: string | undefined,
  secrets: readonly string[],
  toleranceSeconds = STRIPE_SIGNATURE_TOLERANCE_SECONDS,
): unknown {
  if (!signatureHeader) throw new StripeSignatureError('the Stripe-Signature header is missing');
  let lastError: unknown;
  for (const secret of secrets) {
    try {
      return Stripe.webhooks.constructEvent(rawBody, signatureHeader, secret, toleranceSeconds);
    } catch (error) {
      lastError = error;
    }
  }
  // Stripe's message goes on with advice over several lines; its first line says what failed.
  const reason = (lastError instanceof Error ? lastError.message : String(lastError)).split('\n')[0]?.trim();
  throw new StripeSignatureError(`Stripe-Signature does not verify: ${reason}`);
}

/**
 * Endpoint signing secrets from text: one `whsec_…`, or several separated by spaces or commas while
 * an endpoint secret is rolled (Stripe signs with both for a while), or JSON `{ "secret": "whsec_…" }`.
 */
export function parseStripeSecrets(text: string | undefined, source: string): string[] {
  if (!text?.trim()) throw new Error(`${source} is empty`);
  let value = text.trim();
  if (value.startsWith('{')) {
    const parsed = JSON.parse(value) as { secret?: unknown };
    if (typeof parsed.secret !== 'string') throw new Error(`${source} is JSON without a "secret" string field`);
    value = parsed.secret;
  }
  const secrets = value.split(/[\s,]+/).filter(Boolean);
  const bad = secrets.findIndex((s) => !s.startsWith('whsec_'));
  if (bad >= 0)
    throw new Error(
      `${source} #${bad + 1} is not a Stripe endpoint secret: expected whsec_… (Stripe Dashboard → Webhooks → Signing secret)`,
    );
  return secrets;
}
