import { randomBytes } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/**
 * Standard Webhooks (https://www.standardwebhooks.com) headers, signed with the maintained
 * `standardwebhooks` package: `webhook-signature` is `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
 * so the timestamp is signed too and a receiver can refuse a replay older than its tolerance.
 */
export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';
/** How far a receiver accepts a timestamp from its clock (the package's, and the spec's, 5 minutes). */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

/** A new signing secret in the Standard Webhooks form: `whsec_` and 32 random bytes in base64. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * The secrets of a setting: one, or two during a rotation (the new one first), separated by
 * whitespace or commas. Each must be a Standard Webhooks secret (`whsec_<base64>`, or the base64
 * alone); a bad one is named without its value.
 */
export function parseWebhookSecrets(text: string, source = 'webhook secret'): string[] {
  const secrets = text.split(/[\s,]+/).filter(Boolean);
  if (secrets.length === 0) throw new Error(`${source} is empty`);
  secrets.forEach((secret, i) => {
    try {
      new Webhook(secret);
    } catch {
      throw new Error(`${source} #${i + 1} is not a Standard Webhooks secret: expected whsec_ followed by base64`);
    }
  });
  return secrets;
}

/**
 * The three headers of one delivery. With several secrets (a rotation), `webhook-signature` holds
 * one `v1,` signature per secret, space-separated, and a receiver holding either key verifies it.
 */
export function signWebhook(id: string, body: string | Buffer, secrets: readonly string[], at: Date = new Date()): Record<string, string> {
  if (secrets.length === 0) throw new Error('no webhook secret to sign with');
  return {
    [WEBHOOK_ID_HEADER]: id,
    [WEBHOOK_TIMESTAMP_HEADER]: String(Math.floor(at.getTime() / 1000)),
    [WEBHOOK_SIGNATURE_HEADER]: secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(' '),
  };
}

/**
 * What a receiver does: true when the headers carry a signature of `id.timestamp.body` by one of
 * `secrets` and the timestamp is within 5 minutes of now. Verify the raw bytes, before parsing.
 */
export function verifyWebhook(
  body: string | Buffer,
  headers: Record<string, string | string[] | undefined>,
  secrets: string | readonly string[],
): boolean {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) flat[name.toLowerCase()] = first;
  }
  for (const secret of typeof secrets === 'string' ? [secrets] : secrets) {
    try {
      new Webhook(secret).verify(typeof body === 'string' ? body : body.toString('utf8'), flat, { jsonParse: false });
      return true;
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
    }
  }
  return false;
}
