import { randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface DrainOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** The Lambda handler to run (the consumer), called with one SQS event per received batch. */
  consumer: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
  /** Give up after this long even if messages are still in flight (default 60 s). */
  maxWaitMs?: number;
  /** Pause while failed messages wait out their visibility timeout (default 250 ms). */
  pollIntervalMs?: number;
  /**
   * The visibility timeout of each receive (default: the queue's). At least six times the webhook
   * timeout, so that a slow delivery's message is not received a second time while it is in flight.
   * Also the deadline of each consumer invocation, as a Lambda's timeout would be.
   */
  visibilityTimeoutSeconds?: number;
  log?: (message: string) => void;
}

export interface DrainResult {
  /** Records the consumer processed successfully (deleted from the queue). */
  delivered: number;
  /** Records the consumer reported as failed (they reappear after the visibility timeout). */
  failedAttempts: number;
  /** Messages still visible or in flight when the drain stopped (0 unless it timed out). */
  remaining: number;
  timedOut: boolean;
  elapsedMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An SQS Lambda record from a received message, as the event source mapping would build it. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? randomUUID(),
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** A Lambda context for running a handler outside Lambda. */
export function localContext(functionName: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number; arn: string }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'QueueArn'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    arn: Attributes.QueueArn ?? `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split('/').pop()}`,
  };
}

/**
 * Drains the queue through the consumer like Lambda's event source mapping would: receive up to 10,
 * run the handler, delete the records it did not report as failed. Failed ones reappear after the
 * visibility timeout and are retried; after maxReceiveCount the queue moves them to the DLQ. Stops
 * when nothing is visible or in flight, or after `maxWaitMs`.
 */
export async function drainOutreach(options: DrainOptions): Promise<DrainResult> {
  const { sqs, queueUrl, consumer } = options;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const log = options.log ?? (() => {});
  const started = Date.now();
  const region = (await sqs.config.region()) ?? 'us-east-1';
  let { arn } = await queueDepth(sqs, queueUrl);
  const result: DrainResult = { delivered: 0, failedAttempts: 0, remaining: 0, timedOut: false, elapsedMs: 0 };
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        AttributeNames: ['All'],
        ...(options.visibilityTimeoutSeconds === undefined ? {} : { VisibilityTimeout: options.visibilityTimeoutSeconds }),
      }),
    );
    if (Messages.length > 0) {
      const records = Messages.map((m) => toSqsRecord(m, arn, region));
      const deadlineMs = options.visibilityTimeoutSeconds === undefined ? undefined : options.visibilityTimeoutSeconds * 1000;
      const response = await consumer({ Records: records }, localContext('churnguard-outreach-local', deadlineMs));
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const done = records.filter((r) => !failed.has(r.messageId));
      if (done.length) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((r, i) => ({ Id: `d${i}`, ReceiptHandle: r.receiptHandle })),
          }),
        );
      }
      result.delivered += done.length;
      result.failedAttempts += failed.size;
      if (failed.size) log(`${failed.size} of ${records.length} failed; they will be retried after the visibility timeout`);
      continue;
    }
    const depth = await queueDepth(sqs, queueUrl);
    arn = depth.arn;
    // The local emulator counts in-flight messages in both numbers; real SQS only in NotVisible.
    if (depth.visible === 0 && depth.inFlight === 0) break;
    if (Date.now() - started >= maxWaitMs) {
      result.timedOut = true;
      result.remaining = Math.max(depth.visible, depth.inFlight);
      break;
    }
    await sleep(pollIntervalMs);
  }
  result.elapsedMs = Date.now() - started;
  return result;
}

/** A waiting message, as `outreach peek` shows it. */
export interface PeekedMessage {
  messageId: string;
  receiveCount: number;
  body: unknown;
}

/**
 * Shows the messages waiting in the queue without consuming them: receives with a 2 s visibility
 * timeout until no new message comes, then waits until they are visible again (so nothing is in
 * flight when the caller stops). SQS has no true peek: each peek counts as one receive towards
 * maxReceiveCount.
 */
export async function peekQueue(sqs: SQSClient, queueUrl: string, options: { limit?: number } = {}): Promise<PeekedMessage[]> {
  const limit = options.limit ?? 100;
  const seen = new Map<string, PeekedMessage>();
  for (let round = 0; seen.size < limit && round < 100; round++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 2,
        AttributeNames: ['All'],
      }),
    );
    const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (fresh.length === 0) break;
    for (const m of fresh) {
      let body: unknown = m.Body;
      try {
        body = JSON.parse(m.Body ?? '');
      } catch {
        // not JSON: show the raw body
      }
      seen.set(m.MessageId as string, {
        messageId: m.MessageId as string,
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
        body,
      });
    }
  }
  await waitUntilSettled(sqs, queueUrl, 5_000);
  return [...seen.values()].slice(0, limit);
}

/**
 * Waits until no message is in flight (or `maxMs` passed): after a peek, or a drain that timed out,
 * so that whoever looks next (or the local stack's snapshot on close) sees every message.
 */
export async function waitUntilSettled(sqs: SQSClient, queueUrl: string, maxMs: number): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }),
    );
    if (Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}
