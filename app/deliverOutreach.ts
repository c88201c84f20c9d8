import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type OutreachMessage, parseOutreachMessage } from '../model/outreach/message.ts';
import { DEFAULT_COOLDOWN_DAYS } from '../model/outreach/selection.ts';
import type { OutreachSink, OutreachStore } from './ports.ts';

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
}

export interface DeliveryResult {
  dedupId: string;
  deliveredAt: string;
  sink: OutreachSink['kind'];
  status?: number;
  /** The ledger said delivered already: acknowledged without sending (a duplicate, a redrive). */
  alreadyDelivered?: boolean;
}

const DAY_SECONDS = 86_400;

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
 * delivered with its time and HTTP status, or the attempt's error). Failed records are reported as batch item failures, so SQS retries only them and
 * moves a poison message to the DLQ after maxReceiveCount.
 */
export function createOutreachConsumer(
  deps: OutreachConsumerDependencies,
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  const log = deps.log ?? (() => {});
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'dedupId',
    expiresAfterSeconds: idempotencyExpirySeconds(deps.cooldownDays ?? DEFAULT_COOLDOWN_DAYS),
  });

  const deliverOnce = makeIdempotent(
    async (message: OutreachMessage): Promise<DeliveryResult> => {
      const rawBody = JSON.stringify(message);
      let status: number | undefined;
      try {
        ({ status } = await deps.sink.deliver(message, rawBody));
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
      const deliveredAt = new Date().toISOString();
      await deps.deliveries.recordAttempt(message.customerId, message.runId, {
        ok: true,
        at: deliveredAt,
        ...(status === undefined ? {} : { httpStatus: status }),
      });
      return { dedupId: message.dedupId, deliveredAt, sink: deps.sink.kind, ...(status === undefined ? {} : { status }) };
    },
    // A fixed prefix: the same dedupId is the same delivery whichever function name runs it (Lambda or local CLI).
    { persistenceStore: deps.persistenceStore, config, keyPrefix: 'outreach-delivery' },
  );

  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord): Promise<DeliveryResult> => {
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
      log('info', 'outreach already delivered: acknowledged without sending', { dedupId: message.dedupId });
      return { dedupId: message.dedupId, deliveredAt: ledger.deliveredAt ?? '', sink: deps.sink.kind, alreadyDelivered: true };
    }
    const result = await deliverOnce(message);
    log('info', 'outreach delivered', { dedupId: message.dedupId, playbook: message.playbook, sink: result.sink });
    return result;
  };

  return async (event, context) => {
    if (context) config.registerLambdaContext(context);
    return processPartialResponse(event, recordHandler, processor, { ...(context ? { context } : {}), throwOnFullBatchFailure: false });
  };
}
