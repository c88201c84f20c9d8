import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { OutreachQueue, SendOutcome } from '../../app/ports.ts';
import { MAX_MESSAGE_BYTES, type OutreachMessage } from '../../model/outreach/message.ts';

export interface SqsOutreachQueueOptions {
  /** Attempts per entry for failed batch entries and failed requests (default 4). */
  maxAttempts?: number;
  /** Base backoff in ms between attempts (default 100, doubled each attempt, jittered). */
  backoffMs?: number;
}

const BATCH_ENTRIES = 10;
/** A SendMessageBatch request is limited in total payload too: keep each batch under it. */
const BATCH_BYTES = 256 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The outreach queue on SQS: SendMessageBatch in groups of at most 10 entries (and 256 KiB);
 * failed entries are retried up to `maxAttempts` with backoff. An oversized message is an error for
 * that customer only.
 */
export class SqsOutreachQueue implements OutreachQueue {
  readonly #maxAttempts: number;
  readonly #backoffMs: number;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    options: SqsOutreachQueueOptions = {},
  ) {
    this.#maxAttempts = options.maxAttempts ?? 4;
    this.#backoffMs = options.backoffMs ?? 100;
  }

  async send(messages: readonly OutreachMessage[]): Promise<SendOutcome[]> {
    const outcomes = new Map<string, SendOutcome>();
    const entries: Array<{ id: string; body: string; dedupId: string; bytes: number }> = [];
    messages.forEach((message, index) => {
      const body = JSON.stringify(message);
      const bytes = Buffer.byteLength(body, 'utf8');
      if (bytes > MAX_MESSAGE_BYTES) {
        outcomes.set(message.dedupId, {
          dedupId: message.dedupId,
          ok: false,
          error: `message for customer ${message.customerId} is ${bytes} bytes, over the ${MAX_MESSAGE_BYTES}-byte SQS limit`,
        });
      } else {
        entries.push({ id: `m${index}`, body, dedupId: message.dedupId, bytes });
      }
    });
    for (const batch of batches(entries)) {
      for (const outcome of await this.#sendBatch(batch)) outcomes.set(outcome.dedupId, outcome);
    }
    return messages.map((m) => outcomes.get(m.dedupId) ?? { dedupId: m.dedupId, ok: false, error: 'not sent' });
  }

  async #sendBatch(batch: Array<{ id: string; body: string; dedupId: string }>): Promise<SendOutcome[]> {
    const byId = new Map(batch.map((e) => [e.id, e]));
    const outcomes: SendOutcome[] = [];
    let pending = batch;
    let lastErrors = new Map<string, string>();
    for (let attempt = 1; pending.length > 0 && attempt <= this.#maxAttempts; attempt++) {
      if (attempt > 1) await sleep(this.#backoffMs * 2 ** (attempt - 2) * (0.5 + Math.random() / 2));
      const entries: SendMessageBatchRequestEntry[] = pending.map((e) => ({ Id: e.id, MessageBody: e.body }));
      try {
        const result = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
        for (const ok of result.Successful ?? []) {
          const entry = ok.Id ? byId.get(ok.Id) : undefined;
          if (entry && ok.MessageId) outcomes.push({ dedupId: entry.dedupId, ok: true, messageId: ok.MessageId });
        }
        const failedIds = new Set<string>();
        lastErrors = new Map();
        for (const failed of result.Failed ?? []) {
          if (!failed.Id) continue;
          lastErrors.set(failed.Id, `${failed.Code ?? 'error'}: ${failed.Message ?? ''}`.trim());
          // A sender fault (bad entry) will fail again: do not retry it.
          if (!failed.SenderFault) failedIds.add(failed.Id);
          else {
            const entry = byId.get(failed.Id);
            if (entry) outcomes.push({ dedupId: entry.dedupId, ok: false, error: lastErrors.get(failed.Id) ?? 'rejected' });
          }
        }
        pending = pending.filter((e) => failedIds.has(e.id));
      } catch (error) {
        lastErrors = new Map(pending.map((e) => [e.id, (error as Error).message]));
      }
    }
    for (const entry of pending)
      outcomes.push({
        dedupId: entry.dedupId,
        ok: false,
        error: `not queued after ${this.#maxAttempts} attempts: ${lastErrors.get(entry.id) ?? 'unknown error'}`,
      });
    return outcomes;
  }
}

/** Groups entries into batches of at most 10 entries and 256 KiB. */
function* batches<E extends { bytes: number }>(entries: readonly E[]): Generator<E[]> {
  let batch: E[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (batch.length === BATCH_ENTRIES || (batch.length > 0 && bytes + entry.bytes > BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += entry.bytes;
  }
  if (batch.length > 0) yield batch;
}
