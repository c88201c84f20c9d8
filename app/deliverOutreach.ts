import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type OutreachMessage, parseOutreachMessage } from '../model/outreach/message.ts';
import { DEFAULT_COOLDOWN_DAYS } from '../model/outreach/selection.ts';
import type { DeliveryAttempt, OutreachSink, OutreachStore } from './ports.ts';

/** What the consumer needs; the handler wires AWS, tests wire emulators or fakes. */
export interface OutreachConsumerDependencies {
  sink: OutreachSink;
  /** The delivery ledger: each attempt is recorded on the customer's OUT# item, and a delivered one is never sent again. */
  deliveries: Pick<OutreachStore, 'recordAttempt' | 'get'>;
  /** Powertools idempotency persistence (DynamoDB in the same table). */
  persistenceStore: BasePersistenceLayer;
  /**
   * The outreach cooldown in days (env COOLDOWN_DAYS, default 14): a delivered dedupId is remembered
   * for the cooldown plus a day (see `idempotencyExpirySeconds`).
   */
  cooldownDays?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /**
   * Tries of the ledger write after the webhook accepted a message (default 3), the first pause
   * between them (default 200 ms, doubled each time), and how to pause (tests record the pauses).
   */
  recordRetry?: { attempts?: number; backoffMs?: number; sleep?: (ms: number) => Promise<void> };
}

export interface DeliveryResult {
  dedupId: string;
  deliveredAt: string;
  sink: OutreachSink['kind'];
  status?: number;
}

const DAY_SECONDS = 86_400;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * How long the consumer remembers a delivered dedupId: the cooldown plus one day. A message can
 * come back long after its first delivery (a DLQ redrive, a replayed run); within the cooldown the
 * job would never send that customer another message, so until then the same dedupId can only be
 * a duplicate. Shorter than the cooldown, a late redelivery would reach the customer twice; the
 * extra day covers the gap between the run's asOf (the cooldown clock) and the wall clock.
 */
export const idempotencyExpirySeconds = (cooldownDays: number): number => (cooldownDays + 1) * DAY_SECONDS;

/**
 * Builds the SQS consumer: each record is parsed (a malformed body fails that record only), skipped
 * when the ledger already says delivered, otherwise delivered at most once per dedupId at a time
 * (Powertools idempotency), and every attempt is recorded on the customer's OUT# item (the ledger:
 * delivered with its time and HTTP status, or the attempt's error). Records the webhook refused are
 * reported as batch item failures, so SQS retries only them and moves a poison message to the DLQ
 * after maxReceiveCount; a record the webhook accepted never is (see `recordDelivered`).
 */
export function createOutreachConsumer(
  deps: OutreachConsumerDependencies,
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  const log = deps.log ?? (() => {});
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'dedupId',
    expiresAfterSeconds: idempotencyExpirySeconds(deps.cooldownDays ?? DEFAULT_COOLDOWN_DAYS),
  });

  const retry = { attempts: 3, backoffMs: 200, sleep, ...deps.recordRetry };

  // Only the webhook call is idempotent: once it answered 2xx the delivery is a fact, remembered
  // (COMPLETED) for the cooldown, whatever happens to the ledger write after it.
  const deliverOnce = makeIdempotent(
    async (message: OutreachMessage): Promise<DeliveryResult> => {
      let status: number | undefined;
      try {
        ({ status } = await deps.sink.deliver(message, JSON.stringify(message)));
      } catch (error) {
        const httpStatus = (error as { status?: unknown }).status;
        await deps.deliveries
          .recordAttempt(message.customerId, message.runId, {
            ok: false,
            at: new Date().toISOString(),
            error: (error as Error).message,
            ...(typeof httpStatus === 'number' ? { httpStatus } : {}),
          })
          .catch(() => undefined);
        throw error;
      }
      return {
        dedupId: message.dedupId,
        deliveredAt: new Date().toISOString(),
        sink: deps.sink.kind,
        ...(status === undefined ? {} : { status }),
      };
    },
    // A fixed prefix: the same dedupId is the same delivery whichever function name runs it (Lambda or local CLI).
    { persistenceStore: deps.persistenceStore, config, keyPrefix: 'outreach-delivery' },
  );

  /**
   * Writes a delivery on the ledger, retrying a failed write. If it still fails the record is NOT
   * reported to SQS as failed: a retry would find no delivery on the ledger and, were the
   * idempotency record gone, contact the customer a second time. Instead the SQS message is
   * acknowledged, the idempotency record stays COMPLETED, an error is logged, and the ledger keeps
   * the outreach open (queued): `outreach reconcile` re-sends the same message after
   * `resendAfterMs`, and this consumer then finds the delivery in its idempotency memory and only
   * writes it to the ledger (below, with the first delivery's time). Each customer is contacted
   * once, and a delivery the ledger missed is visible until it is recorded.
   */
  const recordDelivered = async (message: OutreachMessage, result: DeliveryResult): Promise<void> => {
    const attempt: DeliveryAttempt = {
      ok: true,
      at: result.deliveredAt,
      ...(result.status === undefined ? {} : { httpStatus: result.status }),
    };
    let lastError: unknown;
    for (let tried = 0; tried < retry.attempts; tried++) {
      if (tried > 0) await retry.sleep(retry.backoffMs * 2 ** (tried - 1));
      try {
        await deps.deliveries.recordAttempt(message.customerId, message.runId, attempt);
        return;
      } catch (error) {
        lastError = error;
      }
    }
    log(
      'error',
      'outreach delivered but not recorded on the ledger: reconcile will re-send it and the consumer will record it without delivering again',
      { dedupId: message.dedupId, error: (lastError as Error).message },
    );
  };

  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    let message: OutreachMessage;
    try {
      message = parseOutreachMessage(record.body);
    } catch (error) {
      log('error', 'malformed outreach message', {
        messageId: record.messageId,
        receiveCount: record.attributes?.ApproximateReceiveCount,
        error: (error as Error).message,
      });
      throw error;
    }
    // The ledger is the truth: a message it records as delivered is a duplicate (a re-send, a redrive).
    const ledger = await deps.deliveries.get(message.customerId, message.runId);
    if (ledger?.status === 'delivered') {
      log('info', 'outreach already delivered: acknowledged without sending', {
        dedupId: message.dedupId,
        deliveredAt: ledger.deliveredAt,
      });
      return;
    }
    // A fresh delivery, or one remembered from an earlier message whose ledger write failed.
    const result = await deliverOnce(message);
    await recordDelivered(message, result);
    log('info', 'outreach delivered', { dedupId: message.dedupId, playbook: message.playbook, sink: result.sink });
  };

  return async (event, context) => {
    if (context) config.registerLambdaContext(context);
    // Stryker disable next-line ObjectLiteral: the batch processor only hands the context on to recordHandler, which does not read it
    return processPartialResponse(event, recordHandler, processor, { ...(context ? { context } : {}), throwOnFullBatchFailure: false });
  };
}
