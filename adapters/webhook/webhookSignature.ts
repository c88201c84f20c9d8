import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Churnguard-Signature';
export const TIMESTAMP_HEADER = 'X-Churnguard-Timestamp';
export const DEDUP_HEADER = 'X-Churnguard-Dedup-Id';

/** `sha256=<hex HMAC-SHA256 of the raw body with the secret>`, the value of X-Churnguard-Signature. */
export function signWebhookBody(rawBody: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/**
 * Checks a received signature in constant time. Receivers verify the raw bytes they got, before
 * parsing; a parsed-and-re-serialised body may differ.
 */
export function verifyWebhookSignature(rawBody: string | Buffer, secret: string, signature: string | undefined): boolean {
  if (!signature) return false;
  const expected = Buffer.from(signWebhookBody(rawBody, secret));
  const received = Buffer.from(signature);
  return expected.length === received.length && timingSafeEqual(expected, received);
}
