import { EventBridgeClient, PutEventsCommand, type PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import type { OutreachSink } from '../../app/ports.ts';
import type { OutreachMessage } from '../../model/outreach/message.ts';

/** `source` of every outreach event: what a rule's event pattern matches on. */
export const OUTREACH_EVENT_SOURCE = 'churnguard';
/** `detail-type` of every outreach event. */
export const OUTREACH_DETAIL_TYPE = 'churnguard.outreach';

export class EventBridgeDeliveryError extends Error {
  constructor(
    message: string,
    /** EventBridge's per-entry ErrorCode (e.g. `ThrottlingException`, `InternalFailure`), when it gave one. */
    readonly errorCode?: string,
  ) {
    super(message);
    this.name = 'EventBridgeDeliveryError';
  }
}

export interface EventBridgeSinkOptions {
  /** Name or ARN of the event bus (`default` is the account's default bus). */
  eventBusName: string;
  client?: Pick<EventBridgeClient, 'send'>;
}

/**
 * Puts each outreach message on an EventBridge bus as one event: `source: churnguard`,
 * `detail-type: churnguard.outreach`, the versioned message (the webhook's body) as `detail`.
 * Rules route it on: API destinations (HubSpot, Salesforce, Slack), SNS, SES, Step Functions.
 *
 * PutEvents answers 200 even when it refused an entry: the refusal is in `FailedEntryCount` and the
 * entry's `ErrorCode`. That is a failed delivery like a webhook's non-2xx: thrown, so the ledger
 * records the attempt with the code and SQS retries the message.
 */
export class EventBridgeSink implements OutreachSink {
  readonly kind = 'eventbridge' as const;
  readonly #client: Pick<EventBridgeClient, 'send'>;

  constructor(private readonly options: EventBridgeSinkOptions) {
    // Endpoint and region the standard way (AWS_ENDPOINT_URL_EVENTBRIDGE, AWS_REGION).
    this.#client = options.client ?? new EventBridgeClient({});
  }

  async deliver(message: OutreachMessage, rawBody: string): Promise<{ status?: number }> {
    let result: PutEventsCommandOutput;
    try {
      result = await this.#client.send(
        new PutEventsCommand({
          Entries: [
            { Source: OUTREACH_EVENT_SOURCE, DetailType: OUTREACH_DETAIL_TYPE, Detail: rawBody, EventBusName: this.options.eventBusName },
          ],
        }),
      );
    } catch (error) {
      throw new EventBridgeDeliveryError(
        `EventBridge PutEvents of ${message.dedupId} failed: ${(error as Error).message}`,
        (error as Error).name,
      );
    }
    const entry = result.Entries?.[0];
    if ((result.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode || !entry?.EventId) {
      const code = entry?.ErrorCode ?? 'NoEventId';
      throw new EventBridgeDeliveryError(
        `EventBridge refused ${message.dedupId}: ${code}${entry?.ErrorMessage ? ` (${entry.ErrorMessage})` : ''}`,
        code,
      );
    }
    return {};
  }
}
