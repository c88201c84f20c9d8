import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSecret, SecretsManagerSecret } from '../../adapters/aws/webhookSecret.ts';
import { newWebhookSecret, parseWebhookSecrets, signWebhook, verifyWebhook } from '../../adapters/webhook/webhookSignature.ts';
import { WebhookDeliveryError, WebhookSink } from '../../adapters/webhook/webhookSink.ts';
import { buildOutreachMessage } from '../../model/outreach/message.ts';
import { closeServer, listenOnLoopback } from '../helpers/loopbackServer.ts';
import { scoredCustomer } from './outreachFactories.ts';

// The Standard Webhooks specification's published test vector.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signatures', () => {
  it('reproduce the specification’s test vector: HMAC-SHA256 over id.timestamp.body', () => {
    const headers = signWebhook(VECTOR.id, VECTOR.body, [VECTOR.secret], new Date(VECTOR.timestamp * 1000));
    expect(headers).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': String(VECTOR.timestamp),
      'webhook-signature': VECTOR.signature,
    });
  });

  it('verify only the exact body, id and timestamp with the secret, within 5 minutes', () => {
    const secret = newWebhookSecret();
    const body = '{"a":1}';
    const now = new Date();
    const headers = signWebhook('run:c-1', body, [secret], now);
    expect(verifyWebhook(body, headers, secret)).toBe(true);
    expect(verifyWebhook('{"a":2}', headers, secret)).toBe(false);
    expect(verifyWebhook(body, headers, newWebhookSecret())).toBe(false);
    expect(verifyWebhook(body, { ...headers, 'webhook-id': 'run:c-2' }, secret)).toBe(false);
    // The timestamp is signed: moving it forward to dodge the tolerance breaks the signature.
    expect(verifyWebhook(body, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) + 60) }, secret)).toBe(false);
    expect(verifyWebhook(body, {}, secret)).toBe(false);
  });

  it('refuse a replay: a correctly signed delivery older than 5 minutes fails', () => {
    const secret = newWebhookSecret();
    const body = '{"a":1}';
    const old = signWebhook('run:c-1', body, [secret], new Date(Date.now() - 6 * 60_000));
    const recent = signWebhook('run:c-1', body, [secret], new Date(Date.now() - 4 * 60_000));
    expect(verifyWebhook(body, old, secret)).toBe(false);
    expect(verifyWebhook(body, recent, secret)).toBe(true);
  });

  it('sign with both secrets during a rotation, so a receiver holding either one verifies (also with the package itself)', () => {
    const [next, previous] = [newWebhookSecret(), newWebhookSecret()];
    const body = '{"a":1}';
    const headers = signWebhook('run:c-1', body, [next, previous]);
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(verifyWebhook(body, headers, previous)).toBe(true);
    expect(verifyWebhook(body, headers, next)).toBe(true);
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow();
    expect(verifyWebhook(body, headers, newWebhookSecret())).toBe(false);
  });

  it('accept only Standard Webhooks secrets, naming the bad one without its value', () => {
    expect(parseWebhookSecrets(`${VECTOR.secret} MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`)).toHaveLength(2);
    expect(() => parseWebhookSecrets('whsec_ not-base64!', 'OUTREACH_WEBHOOK_SECRET')).toThrow(
      /OUTREACH_WEBHOOK_SECRET #1 is not a Standard Webhooks secret/,
    );
    expect(() => parseWebhookSecrets('  ')).toThrow(/empty/);
  });
});

describe('WebhookSink', () => {
  let server: Server;
  let url = '';
  let status = 200;
  let delayMs = 0;
  let location: string | undefined;
  const received: Array<{ url: string; method: string; headers: IncomingMessage['headers']; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        // The redirect target always accepts: a sink that followed the redirect would count it delivered.
        if (req.url === '/moved') return void res.writeHead(200).end('<html>the new page</html>');
        setTimeout(() => res.writeHead(status, location ? { location } : {}).end(), delayMs);
      });
    });
    url = `${await listenOnLoopback(server)}/hook`;
  });
  afterAll(async () => {
    await closeServer(server);
  });

  const message = buildOutreachMessage({
    customer: scoredCustomer({ customerId: 'c-1' }),
    playbook: 'offer',
    runId: 'r',
    createdAt: '2026-11-23T00:00:00Z',
  });
  const rawBody = JSON.stringify(message);
  const secret = newWebhookSecret();

  it('POSTs the raw body with Standard Webhooks headers: the dedupId as webhook-id and a verifiable signature', async () => {
    // Prepare
    status = 204;
    received.length = 0;
    const sink = new WebhookSink({ url, secrets: async () => [secret] });
    // Act
    const result = await sink.deliver(message, rawBody);
    // Assess
    expect(result.status).toBe(204);
    const [request] = received;
    expect(request?.body).toBe(rawBody);
    expect(request?.headers['webhook-id']).toBe('r:c-1');
    expect(Math.abs(Number(request?.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(verifyWebhook(request?.body ?? '', request?.headers ?? {}, secret)).toBe(true);
  });

  it('throws on a non-2xx answer so that SQS retries the message', async () => {
    status = 503;
    const sink = new WebhookSink({ url, secrets: async () => [secret] });
    await expect(sink.deliver(message, rawBody)).rejects.toThrow(WebhookDeliveryError);
    await expect(sink.deliver(message, rawBody)).rejects.toThrow(/answered 503/);
  });

  it.each([301, 302, 303, 307, 308])(
    'never follows a %i redirect: it is a failure, and the signed body goes nowhere else',
    async (code) => {
      // Prepare
      status = code;
      location = '/moved';
      received.length = 0;
      const sink = new WebhookSink({ url, secrets: async () => [secret] });
      // Act
      const delivery = sink.deliver(message, rawBody);
      // Assess
      await expect(delivery).rejects.toThrow(new RegExp(`answered ${code} .*redirect to /moved, not followed`));
      await expect(delivery).rejects.toMatchObject({ status: code });
      expect(received.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /hook']);
      location = undefined;
    },
  );

  it('gives up after the configured timeout', async () => {
    status = 200;
    delayMs = 500;
    const sink = new WebhookSink({ url, secrets: async () => [secret], timeoutMs: 50 });
    await expect(sink.deliver(message, rawBody)).rejects.toThrow(/timed out after 50 ms/);
    delayMs = 0;
  });
});

describe('webhook secrets from Secrets Manager', () => {
  it('reads a plain, a rotating or a JSON secret and caches it between invocations', async () => {
    let calls = 0;
    const client = {
      send: async () => {
        calls++;
        return { SecretString: `{"secret":"${VECTOR.secret}"}` };
      },
    };
    const source = new SecretsManagerSecret('arn:aws:secretsmanager:eu-west-1:1:secret:x', client as never);
    expect(await source.get()).toEqual([VECTOR.secret]);
    expect(await source.get()).toEqual([VECTOR.secret]);
    expect(calls).toBe(1);
    expect(parseSecret(VECTOR.secret, 'id')).toEqual([VECTOR.secret]);
    expect(parseSecret(`whsec_bmV3 ${VECTOR.secret}`, 'id')).toEqual(['whsec_bmV3', VECTOR.secret]);
    expect(parseSecret(`{"secrets":["whsec_bmV3","${VECTOR.secret}"]}`, 'id')).toEqual(['whsec_bmV3', VECTOR.secret]);
    expect(() => parseSecret('{"other":1}', 'id')).toThrow(/"secret" string field/);
    expect(() => parseSecret(undefined, 'id')).toThrow(/no string value/);
    expect(() => parseSecret('not a secret!', 'id')).toThrow(/not a Standard Webhooks secret/);
  });
});
