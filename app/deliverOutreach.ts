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
  deliveries: Pick<OutreachStore, 'recordAttempt' | 'recordDelivery'>;
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
 * Builds the SQS consumer: each record is parsed (a malformed body fails that record only),
 * delivered at most once per dedupId (Powertools idempotency), and recorded on the customer's
 * OUT# item. Failed records are reported as batch item failures, so SQS retries only them and
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
      try {
        const { status } = await deps.sink.deliver(message, rawBody);
        const deliveredAt = new Date().toISOString();
        await deps.deliveries.recordAttempt(message.customerId, message.runId);
        await deps.deliveries.recordDelivery(message.customerId, message.runId, deliveredAt);
        return { dedupId: message.dedupId, deliveredAt, sink: deps.sink.kind, ...(status === undefined ? {} : { status }) };
      } catch (error) {
        await deps.deliveries.recordAttempt(message.customerId, message.runId, (error as Error).message).catch(() => undefined);
        throw error;
      }
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
    const result = await deliverOnce(message);
    log('info', 'outreach delivered', { dedupId: message.dedupId, playbook: message.playbook, sink: result.sink });
    return result;
  };

  return async (event, context) => {
    if (context) config.registerLambdaContext(context);
    return processPartialResponse(event, recordHandler, processor, { ...(context ? { context } : {}), throwOnFullBatchFailure: false });
  };
}
