import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSecret, SecretsManagerSecret } from '../../adapters/aws/webhookSecret.ts';
import { signWebhookBody, verifyWebhookSignature } from '../../adapters/webhook/webhookSignature.ts';
import { WebhookDeliveryError, WebhookSink } from '../../adapters/webhook/webhookSink.ts';
import { buildOutreachMessage } from '../../model/outreach/message.ts';
import { scoredCustomer } from './outreachFactories.ts';

describe('signWebhookBody', () => {
  it('is sha256=<hex HMAC-SHA256 of the raw body with the secret>', () => {
    // Known answer (RFC 4231 test case 2)
    expect(signWebhookBody('what do ya want for nothing?', 'Jefe')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('verifies only the exact body with the exact secret', () => {
    const body = '{"a":1}';
    const signature = signWebhookBody(body, 's3cret');
    expect(verifyWebhookSignature(body, 's3cret', signature)).toBe(true);
    expect(verifyWebhookSignature('{"a":2}', 's3cret', signature)).toBe(false);
    expect(verifyWebhookSignature(body, 'other', signature)).toBe(false);
    expect(verifyWebhookSignature(body, 's3cret', undefined)).toBe(false);
    expect(verifyWebhookSignature(body, 's3cret', 'sha256=short')).toBe(false);
  });
});

describe('WebhookSink', () => {
  let server: Server;
  let url = '';
  let status = 200;
  let delayMs = 0;
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        setTimeout(() => res.writeHead(status).end(), delayMs);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    url = `http://127.0.0.1:${address.port}/hook`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const message = buildOutreachMessage({
    customer: scoredCustomer({ customerId: 'c-1' }),
    playbook: 'offer',
    runId: 'r',
    createdAt: '2026-11-23T00:00:00Z',
  });
  const rawBody = JSON.stringify(message);

  it('POSTs the raw body with a verifiable signature, a timestamp and the dedupId', async () => {
    // Prepare
    status = 204;
    received.length = 0;
    const sink = new WebhookSink({ url, secret: async () => 'top-secret' });
    // Act
    const result = await sink.deliver(message, rawBody);
    // Assess
    expect(result.status).toBe(204);
    const [request] = received;
    expect(request?.body).toBe(rawBody);
    const expected = `sha256=${createHmac('sha256', 'top-secret').update(rawBody).digest('hex')}`;
    expect(request?.headers['x-churnguard-signature']).toBe(expected);
    expect(Number(request?.headers['x-churnguard-timestamp'])).toBeGreaterThan(1_700_000_000);
    expect(request?.headers['x-churnguard-dedup-id']).toBe('r:c-1');
  });

  it('throws on a non-2xx answer so that SQS retries the message', async () => {
    status = 503;
    const sink = new WebhookSink({ url, secret: async () => 'k' });
    await expect(sink.deliver(message, rawBody)).rejects.toThrow(WebhookDeliveryError);
    await expect(sink.deliver(message, rawBody)).rejects.toThrow(/answered 503/);
  });

  it('gives up after the configured timeout', async () => {
    status = 200;
    delayMs = 500;
    const sink = new WebhookSink({ url, secret: async () => 'k', timeoutMs: 50 });
    await expect(sink.deliver(message, rawBody)).rejects.toThrow(/timed out after 50 ms/);
    delayMs = 0;
  });
});

describe('webhook secret from Secrets Manager', () => {
  it('reads a plain or JSON secret and caches it between invocations', async () => {
    let calls = 0;
    const client = {
      send: async () => {
        calls++;
        return { SecretString: '{"secret":"from-sm"}' };
      },
    };
    const source = new SecretsManagerSecret('arn:aws:secretsmanager:eu-west-1:1:secret:x', client as never);
    expect(await source.get()).toBe('from-sm');
    expect(await source.get()).toBe('from-sm');
    expect(calls).toBe(1);
    expect(parseSecret('plain', 'id')).toBe('plain');
    expect(() => parseSecret('{"other":1}', 'id')).toThrow(/"secret" string field/);
    expect(() => parseSecret(undefined, 'id')).toThrow(/no string value/);
  });
});
