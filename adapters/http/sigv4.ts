import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';

/** The service name API Gateway's IAM authorization signs for. */
export const EXECUTE_API = 'execute-api';

/** How far a request's `x-amz-date` may be from the server's clock (API Gateway allows 5 minutes). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

const sha256 = Hash.bind(null, 'sha256');

/** A request as it goes on the wire: what is signed and what is verified. */
export interface WireRequest {
  method: string;
  url: URL;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * Signs a request with SigV4 for `execute-api` (the signer adds `x-amz-date`,
 * `x-amz-content-sha256`, `x-amz-security-token` for temporary credentials, and `authorization`).
 * Returns the headers to send.
 */
export async function signRequest(
  request: WireRequest,
  options: { region: string; credentials: AwsCredentialIdentity; signingDate?: Date },
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: EXECUTE_API, region: options.region, credentials: options.credentials, sha256 });
  const signed = await signer.sign(toHttpRequest(request), options.signingDate ? { signingDate: options.signingDate } : {});
  return signed.headers;
}

function toHttpRequest(request: WireRequest): HttpRequest {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of request.url.searchParams) {
    const previous = query[key];
    query[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return new HttpRequest({
    method: request.method,
    protocol: request.url.protocol,
    hostname: request.url.hostname,
    ...(request.url.port ? { port: Number(request.url.port) } : {}),
    path: request.url.pathname,
    query,
    headers: { ...request.headers, host: request.headers.host ?? request.url.host },
    body: request.body,
  });
}

export type Verification = { ok: true; accessKeyId: string } | { ok: false; message: string };

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const refuse = (message: string): Verification => ({ ok: false, message });

/**
 * Verifies a SigV4-signed request the way API Gateway's IAM authorization does, by signing it again
 * with the same library and the secret of the access key it names: unsigned, malformed, for another
 * service or region, by an unknown key, out of the clock window, with a body that does not match its
 * hash, or with a wrong signature, it is refused with the reason. (API Gateway then checks the IAM
 * policy; here every known key may call.)
 *
 * @param identities the credentials whose signatures are accepted
 */
export async function verifySignedRequest(
  request: WireRequest,
  options: { region: string; identities: readonly AwsCredentialIdentity[]; now?: Date },
): Promise<Verification> {
  const authorization = request.headers.authorization;
  if (authorization === undefined)
    return refuse(
      `Missing Authentication Token: the request is not signed; sign it with AWS SigV4 for service ${EXECUTE_API}, region ${options.region}`,
    );
  const match = AUTHORIZATION.exec(authorization.trim());
  if (!match)
    return refuse('Authorization header is not a SigV4 header (AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...)');
  const [, accessKeyId = '', scopeDate, region, service, signedHeaderList = '', signature = ''] = match;
  if (service !== EXECUTE_API) return refuse(`Credential should be scoped to service ${EXECUTE_API}, not "${service}"`);
  if (region !== options.region) return refuse(`Credential should be scoped to region ${options.region}, not "${region}"`);
  const identity = options.identities.find((i) => i.accessKeyId === accessKeyId);
  if (!identity) return refuse(`The security token included in the request is invalid: access key ${accessKeyId} is not known here`);
  const token = request.headers['x-amz-security-token'];
  if ((identity.sessionToken ?? undefined) !== token) return refuse('The security token included in the request is invalid');
  const date = AMZ_DATE.exec(request.headers['x-amz-date'] ?? '');
  if (!date) return refuse('the request has no valid x-amz-date header (YYYYMMDDTHHMMSSZ)');
  const signingDate = new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!));
  if (!request.headers['x-amz-date']?.startsWith(scopeDate ?? '')) return refuse('the credential scope date is not the x-amz-date day');
  const now = options.now ?? new Date();
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_CLOCK_SKEW_MS)
    return refuse(`Signature expired: ${request.headers['x-amz-date']} is more than 5 minutes from the server time ${now.toISOString()}`);
  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) return refuse('the signature must cover the host header');
  const claimedHash = request.headers['x-amz-content-sha256'];
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  // execute-api signs the body: an unsigned payload would let a captured request carry another body.
  if (claimedHash === 'UNSIGNED-PAYLOAD') return refuse('x-amz-content-sha256 is UNSIGNED-PAYLOAD: sign the body for execute-api');
  if (claimedHash !== undefined && claimedHash !== bodyHash) return refuse('The x-amz-content-sha256 header does not match the body');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) return refuse(`signed header ${name} is missing from the request`);
    headers[name] = value;
  }
  const signer = new SignatureV4({ service: EXECUTE_API, region: options.region, credentials: identity, sha256, applyChecksum: false });
  const expected = await signer.sign(toHttpRequest({ ...request, headers }), { signingDate, signableHeaders: new Set(signedHeaders) });
  const expectedSignature = /Signature=([0-9a-f]{64})/.exec(expected.headers.authorization ?? '')?.[1] ?? '';
  const same = expectedSignature.length === signature.length && timingSafeEqual(Buffer.from(expectedSignature), Buffer.from(signature));
  return same
    ? { ok: true, accessKeyId }
    : refuse(
        'The request signature we calculated does not match the signature you provided: check the secret access key and the signing method (SigV4, service execute-api)',
      );
}
