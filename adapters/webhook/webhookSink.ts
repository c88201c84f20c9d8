import type { OutreachSink } from '../../app/ports.ts';
import type { OutreachMessage } from '../../model/outreach/message.ts';
import { signWebhook } from './webhookSignature.ts';

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
  /** The signing secrets (one, or two during a rotation), resolved lazily (Secrets Manager in AWS). */
  secrets: () => Promise<readonly string[]>;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The consumer's default webhook timeout; the queue's visibility timeout is at least six times it. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5_000;

/**
 * POSTs the raw JSON body with Standard Webhooks headers (`webhook-id` = the message's dedupId,
 * stable across retries, so receivers deduplicate on it). Only a 2xx is delivered. A redirect is
 * never followed (the signed body must not go anywhere but the configured URL) and counts as a
 * failure, like any other answer or a timeout: the error is thrown so that SQS retries.
 */
export class WebhookSink implements OutreachSink {
  readonly kind = 'webhook' as const;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(private readonly options: WebhookSinkOptions) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
    this.#fetch = options.fetch ?? fetch;
  }

  async deliver(message: OutreachMessage, rawBody: string): Promise<{ status: number }> {
    const secrets = await this.options.secrets();
    let response: Response;
    try {
      response = await this.#fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signWebhook(message.dedupId, rawBody, secrets) },
        body: rawBody,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `timed out after ${this.#timeoutMs} ms` : (error as Error).message;
      throw new WebhookDeliveryError(`webhook delivery of ${message.dedupId} failed: ${reason}`);
    }
    // Drain the body so the connection can be reused.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      throw new WebhookDeliveryError(
        `webhook answered ${response.status} for ${message.dedupId}: a redirect${location ? ` to ${location}` : ''}, not followed (set the webhook URL to the new address)`,
        response.status,
      );
    }
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
