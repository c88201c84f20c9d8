import type { OutreachSink } from '../../app/ports.ts';
import type { OutreachMessage } from '../../model/outreach/message.ts';
import { DEDUP_HEADER, SIGNATURE_HEADER, signWebhookBody, TIMESTAMP_HEADER } from './webhookSignature.ts';

export class WebhookDeliveryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'WebhookDeliveryError';
  }
}

export interface WebhookSinkOptions {
  url: string;
  /** Resolved lazily (Secrets Manager in AWS), once per sink. */
  secret: () => Promise<string>;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** POSTs the raw JSON body, signed; 2xx is delivered, anything else (or a timeout) throws so SQS retries. */
export class WebhookSink implements OutreachSink {
  readonly kind = 'webhook' as const;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(private readonly options: WebhookSinkOptions) {
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#fetch = options.fetch ?? fetch;
  }

  async deliver(message: OutreachMessage, rawBody: string): Promise<{ status: number }> {
    const secret = await this.options.secret();
    let response: Response;
    try {
      response = await this.#fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signWebhookBody(rawBody, secret),
          [TIMESTAMP_HEADER]: String(Math.floor(Date.now() / 1000)),
          [DEDUP_HEADER]: message.dedupId,
        },
        body: rawBody,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `timed out after ${this.#timeoutMs} ms` : (error as Error).message;
      throw new WebhookDeliveryError(`webhook delivery of ${message.dedupId} failed: ${reason}`);
    }
    // Drain the body so the connection can be reused.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status >= 300) {
      throw new WebhookDeliveryError(`webhook answered ${response.status} for ${message.dedupId}`, response.status);
    }
    return { status: response.status };
  }
}

/** No webhook configured: log what would be sent (ids and playbook only, no PII) and count it delivered. */
export class DryRunSink implements OutreachSink {
  readonly kind = 'dry-run' as const;
  constructor(private readonly log: (entry: Record<string, unknown>) => void) {}

  async deliver(message: OutreachMessage): Promise<{ status?: number }> {
    this.log({ dryRun: true, dedupId: message.dedupId, customerId: message.customerId, playbook: message.playbook, risk: message.risk });
    return {};
  }
}
