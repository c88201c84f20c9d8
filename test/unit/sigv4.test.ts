import { describe, expect, it } from 'vitest';
import { signRequest, verifySignedRequest, type WireRequest } from '../../adapters/http/sigv4.ts';

const KEY = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-for-tests' };
const NOW = new Date('2026-03-01T12:00:00Z');
const options = { region: 'eu-west-1', identities: [KEY], now: NOW };

async function signed(
  overrides: Partial<WireRequest> = {},
  credentials = KEY,
  region = 'eu-west-1',
  signingDate = NOW,
): Promise<WireRequest> {
  const request: WireRequest = {
    method: 'POST',
    url: new URL('http://127.0.0.1:8787/events?source=test'),
    headers: { 'content-type': 'application/x-ndjson', host: '127.0.0.1:8787' },
    body: Buffer.from('{"eventId":"e1"}\n'),
    ...overrides,
  };
  const headers = await signRequest(request, { region, credentials, signingDate });
  return { ...request, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) };
}

describe('SigV4 verification (serve --auth iam, as API Gateway IAM auth)', () => {
  it('accepts a request signed by a known key for execute-api in its region, and names the key', async () => {
    expect(await verifySignedRequest(await signed(), options)).toEqual({ ok: true, accessKeyId: 'AKIDTEST' });
  });

  it('accepts temporary credentials only with their session token', async () => {
    const temporary = { ...KEY, sessionToken: 'token-1' };
    const request = await signed({}, temporary);
    expect(request.headers['x-amz-security-token']).toBe('token-1');
    expect(await verifySignedRequest(request, { ...options, identities: [temporary] })).toMatchObject({ ok: true });
    expect(await verifySignedRequest(request, { ...options, identities: [{ ...temporary, sessionToken: 'token-2' }] })).toMatchObject({
      ok: false,
      message: expect.stringContaining('security token'),
    });
  });

  it('refuses an unsigned request, saying it is not signed and how to sign it', async () => {
    const verdict = await verifySignedRequest(
      { method: 'POST', url: new URL('http://127.0.0.1/events'), headers: { host: '127.0.0.1' }, body: Buffer.alloc(0) },
      options,
    );
    expect(verdict).toEqual({
      ok: false,
      message: expect.stringMatching(/^Missing Authentication Token: the request is not signed.*SigV4.*execute-api.*eu-west-1/),
    });
  });

  it('refuses a request signed over UNSIGNED-PAYLOAD, whose signature would not cover the body', async () => {
    const request = await signed({
      headers: { 'content-type': 'application/x-ndjson', host: '127.0.0.1:8787', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    expect(request.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(await verifySignedRequest({ ...request, body: Buffer.from('{"eventId":"swapped"}\n') }, options)).toEqual({
      ok: false,
      message: expect.stringContaining('UNSIGNED-PAYLOAD'),
    });
  });

  it('refuses a signature made with the wrong secret', async () => {
    const verdict = await verifySignedRequest(await signed({}, { ...KEY, secretAccessKey: 'wrong' }), options);
    expect(verdict).toEqual({ ok: false, message: expect.stringContaining('signature we calculated does not match') });
  });

  it('refuses a request whose body, path, query or a signed header changed after signing', async () => {
    const request = await signed();
    const tampered: WireRequest[] = [
      { ...request, body: Buffer.from('{"eventId":"e2"}\n') },
      { ...request, url: new URL('http://127.0.0.1:8787/other?source=test') },
      { ...request, url: new URL('http://127.0.0.1:8787/events?source=evil') },
      { ...request, headers: { ...request.headers, 'content-type': 'application/json' } },
    ];
    for (const t of tampered) expect(await verifySignedRequest(t, options)).toMatchObject({ ok: false });
    // The body is checked against its declared hash before the signature.
    expect(await verifySignedRequest(tampered[0] as WireRequest, options)).toMatchObject({
      message: expect.stringContaining('x-amz-content-sha256'),
    });
  });

  it('refuses an unknown key, another region or service, and a signature outside the 5-minute window', async () => {
    expect(await verifySignedRequest(await signed({}, { accessKeyId: 'AKIDOTHER', secretAccessKey: 's' }), options)).toMatchObject({
      ok: false,
      message: expect.stringContaining('access key AKIDOTHER is not known'),
    });
    expect(await verifySignedRequest(await signed({}, KEY, 'us-east-1'), options)).toMatchObject({
      ok: false,
      message: expect.stringContaining('region eu-west-1, not "us-east-1"'),
    });
    const old = await signed({}, KEY, 'eu-west-1', new Date(NOW.getTime() - 6 * 60_000));
    expect(await verifySignedRequest(old, options)).toMatchObject({ ok: false, message: expect.stringContaining('Signature expired') });
    const recent = await signed({}, KEY, 'eu-west-1', new Date(NOW.getTime() - 4 * 60_000));
    expect(await verifySignedRequest(recent, options)).toMatchObject({ ok: true });
    const s3 = await signed();
    s3.headers.authorization = (s3.headers.authorization ?? '').replace('/execute-api/', '/s3/');
    expect(await verifySignedRequest(s3, options)).toMatchObject({ ok: false, message: expect.stringContaining('service execute-api') });
  });

  it('refuses a malformed Authorization header', async () => {
    const request = await signed();
    request.headers.authorization = 'Bearer abc';
    expect(await verifySignedRequest(request, options)).toMatchObject({
      ok: false,
      message: expect.stringContaining('not a SigV4 header'),
    });
  });
});
