import { parseOutreachMessage } from '../model/outreach/message.ts';
import type { DeadLetterQueue, OpenOutreach, OutreachLedger, OutreachQueue, OutreachRecord } from './ports.ts';

/** How reconcile treats records that stay open. */
export interface ReconcileSettings {
  /**
   * A record claimed or queued this long ago (its last send) without a delivery is sent again, with
   * the same body and dedupId. Longer than the queue's own retries (maxReceiveCount × visibility
   * timeout), so that a message SQS is still retrying is not duplicated for nothing.
   */
  resendAfterMs: number;
  /** Sends at most (the first and the re-sends); a record still open after them is marked failed. */
  maxSends: number;
  /** Also move every message of the dead-letter queue back to the outreach queue (SQS message-move task). */
  redrive?: boolean;
}

export const DEFAULT_RECONCILE: ReconcileSettings = { resendAfterMs: 60 * 60_000, maxSends: 3 };

export interface ReconcileDependencies {
  outreach: OutreachLedger;
  queue: OutreachQueue;
  deadLetters?: DeadLetterQueue | undefined;
  now(): Date;
  log(message: string, fields?: Record<string, unknown>): void;
}

/** What one reconcile did. */
export interface ReconcileResult {
  /** Records open (claimed or queued) when it started. */
  open: number;
  /** Sent again with the same dedupId. */
  resent: number;
  /** Given up on: marked failed with the reason. */
  failed: number;
  /** Already settled (delivered or failed), taken off the open list. */
  settled: number;
  /** Claims of runs that crashed before writing their record: undone, the customer is free again. */
  released: number;
  /** Open but sent recently: left to the queue. */
  waiting: number;
  /** Messages in the dead-letter queue (before a redrive), when the DLQ is known. */
  deadLetters?: number;
  redrive?: { status: string; moved: number; toMove: number };
}

const ageMs = (now: Date, iso: string | undefined): number => (iso ? now.getTime() - Date.parse(iso) : Number.POSITIVE_INFINITY);

/**
 * Settles what the queue alone cannot: every outreach on the ledger's open list that has waited past
 * `resendAfterMs` since its last send is sent again with the same body and dedupId (the consumer and
 * receivers deduplicate on it), after a conditional lease so that two reconciles never both send;
 * after `maxSends` it is marked failed with the reason. A message lost with the queue (a local stack
 * killed, a purge), one parked in the DLQ, or one whose run crashed between claim and send all end
 * delivered or visibly failed. Runs at the start of every job run that sends, and as
 * `churnguard outreach reconcile`.
 */
export async function reconcileOutreach(
  deps: ReconcileDependencies,
  settings: ReconcileSettings = DEFAULT_RECONCILE,
): Promise<ReconcileResult> {
  const now = deps.now();
  const result: ReconcileResult = { open: 0, resent: 0, failed: 0, settled: 0, released: 0, waiting: 0 };
  if (deps.deadLetters) {
    try {
      result.deadLetters = await deps.deadLetters.depth();
      if (settings.redrive && result.deadLetters > 0) result.redrive = await deps.deadLetters.redrive();
    } catch (error) {
      // The DLQ is a report here: the ledger below does the work whatever it says.
      deps.log('outreach dead-letter queue not readable', { error: (error as Error).message });
    }
  }
  const open = await deps.outreach.openOutreach();
  result.open = open.length;
  for (const entry of open) {
    const outcome = await reconcileOne(entry, deps, settings, now);
    result[outcome]++;
  }
  if (result.resent || result.failed || result.released || result.deadLetters)
    deps.log('outreach reconciled', { ...result, redrive: result.redrive?.status });
  return result;
}

type Outcome = 'resent' | 'failed' | 'settled' | 'released' | 'waiting';

async function reconcileOne(entry: OpenOutreach, deps: ReconcileDependencies, settings: ReconcileSettings, now: Date): Promise<Outcome> {
  const { customerId, runId } = entry;
  const record = await deps.outreach.get(customerId, runId);
  if (!record) {
    // The run crashed between its claim and the record: unless it is still at it, free the customer.
    if (ageMs(now, entry.openedAt) < settings.resendAfterMs) return 'waiting';
    await deps.outreach.abandonClaim(customerId, runId);
    deps.log('outreach claim released: its run never wrote the record', { customerId, runId });
    return 'released';
  }
  if (record.status === 'delivered' || record.status === 'failed' || record.status === 'control') {
    await deps.outreach.closeOpen(customerId, runId);
    return 'settled';
  }
  if (ageMs(now, record.sentAt ?? record.claimedAt ?? entry.openedAt) < settings.resendAfterMs) return 'waiting';
  const sends = record.sends ?? 0;
  const at = now.toISOString();
  if (record.body === undefined && record.status === 'claimed') {
    // Claimed by a run that crashed before sending, with no body to send (an old record): free the customer.
    await deps.outreach.abandonClaim(customerId, runId);
    return 'released';
  }
  if (sends >= settings.maxSends || record.body === undefined) {
    const reason = record.body === undefined ? 'no stored message to send again' : failureReason(record, sends);
    if (await deps.outreach.markFailed(customerId, runId, reason, at)) {
      deps.log('outreach marked failed', { dedupId: record.dedupId, reason });
      return 'failed';
    }
    return 'settled';
  }
  if (!(await deps.outreach.leaseResend(customerId, runId, sends, at))) return 'settled';
  const [sent] = await deps.queue.send([parseOutreachMessage(record.body)]);
  if (sent?.ok) await deps.outreach.noteMessageId(customerId, runId, sent.messageId);
  // Not queued: the lease counted the send, so the next reconcile tries again (or gives up after maxSends).
  else deps.log('outreach re-send not queued', { dedupId: record.dedupId, error: sent?.error });
  return 'resent';
}

function failureReason(record: OutreachRecord, sends: number): string {
  const attempts = record.attempts ?? 0;
  const last =
    attempts > 0
      ? `${attempts} delivery attempt${attempts === 1 ? '' : 's'}, the last one: ${record.lastError ?? 'unknown error'}`
      : 'no delivery attempt recorded (the message was lost, or is in the dead-letter queue)';
  return `not delivered after ${sends} send${sends === 1 ? '' : 's'}, the last at ${record.sentAt ?? 'unknown time'}; ${last}`;
}
