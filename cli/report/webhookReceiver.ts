import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, WEBHOOK_ID_HEADER } from '../../adapters/webhook/webhookSignature.ts';

/** A delivery the receiver accepted: the signature matched the raw body. */
export interface ReceivedDelivery {
  dedupId: string | undefined;
  /** The Standard Webhooks `webhook-id`: the same on every retry of one message. */
  webhookId: string;
  body: unknown;
}

export interface WebhookReceiver {
  url: string;
  /** Verified deliveries, in arrival order (a redelivery of the same dedupId is listed again). */
  delivered: ReceivedDelivery[];
  /** Requests refused because the signature was missing or wrong. */
  badSignatures: number;
  close(): Promise<void>;
}

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });

/**
 * A local stand-in for a CRM webhook on 127.0.0.1 (random port): it verifies the Standard Webhooks
 * signature of the raw body and its timestamp as a real receiver must (401 when either fails), then
 * answers 204.
 */
export async function startWebhookReceiver(
  secret: string | readonly string[],
  onDelivery?: (delivery: ReceivedDelivery) => void,
): Promise<WebhookReceiver> {
  const receiver: Omit<WebhookReceiver, 'url' | 'close'> = { delivered: [], badSignatures: 0 };
  const server = createServer((request, response) => {
    readBody(request)
      .then((raw) => {
        if (request.method !== 'POST' || !verifyWebhook(raw, request.headers, secret)) {
          receiver.badSignatures++;
          response.writeHead(401).end('bad signature');
          return;
        }
        let body: unknown;
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          response.writeHead(400).end('body is not JSON');
          return;
        }
        const dedupId = (body as { dedupId?: unknown } | null)?.dedupId;
        const delivery = {
          dedupId: typeof dedupId === 'string' ? dedupId : undefined,
          webhookId: String(request.headers[WEBHOOK_ID_HEADER]),
          body,
        };
        receiver.delivered.push(delivery);
        onDelivery?.(delivery);
        response.writeHead(204).end();
      })
      .catch(() => response.writeHead(500).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/outreach`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
