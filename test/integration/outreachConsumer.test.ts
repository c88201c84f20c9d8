import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../adapters/aws/clients.ts';
import { DynamoOutreachLedger } from '../../adapters/aws/outreachLedger.ts';
import { SqsOutreachQueue } from '../../adapters/aws/outreachQueue.ts';
import { DynamoOutreachStore } from '../../adapters/aws/outreachStore.ts';
import { newWebhookSecret, verifyWebhook } from '../../adapters/webhook/webhookSignature.ts';
import { WebhookSink } from '../../adapters/webhook/webhookSink.ts';
import { createOutreachConsumer } from '../../app/deliverOutreach.ts';
import { reconcileOutreach } from '../../app/reconcile.ts';
import { drainLocalOutreach, peekLocalOutreach } from '../../cli/commands/outreach.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import { drainOutreach, localContext, toSqsRecord } from '../../cli/local/sqsPoller.ts';
import { idempotencyStore } from '../../lambdas/outreach/config.ts';
import { buildOutreachMessage, type OutreachMessage, outreachDedupId } from '../../model/outreach/message.ts';
import { beforeEachCommand } from '../helpers/dynamoCommandHooks.ts';
import { closeServer, listenOnLoopback } from '../helpers/loopbackServer.ts';
import { scoredCustomer } from '../unit/outreachFactories.ts';

/**
 * The consumer handler against the emulators: real SQS queue + DLQ (visibility 1 s, maxReceiveCount
 * 2 so retries take seconds), Powertools idempotency in the DynamoDB table, and a local webhook.
 */

const SECRET = newWebhookSecret();
let dataDir: string;
let stack: LocalStack;
let clients: AwsClients;
let queueUrl: string;
let dlqUrl: string;
let server: Server;
let webhookUrl: string;
/** dedupIds whose first delivery the webhook answers with 500. */
const failFirst = new Set<string>();
let requests: Array<{ dedupId: string; status: number; signatureValid: boolean }> = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-consumer-'));
  stack = await openLocalStack(dataDir);
  clients = createAwsClients();
  dlqUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: 'consumer-test-dlq' }))).QueueUrl as string;
  queueUrl = (
    await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: 'consumer-test',
        Attributes: {
          VisibilityTimeout: '1',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:consumer-test-dlq',
            maxReceiveCount: 2,
          }),
        },
      }),
    )
  ).QueueUrl as string;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const dedupId = (JSON.parse(body.toString('utf8')) as OutreachMessage).dedupId;
      const first = !requests.some((r) => r.dedupId === dedupId);
      const status = failFirst.has(dedupId) && first ? 500 : 200;
      requests.push({
        dedupId,
        status,
        signatureValid: verifyWebhook(body, req.headers, SECRET),
      });
      res.writeHead(status).end();
    });
  });
  webhookUrl = `${await listenOnLoopback(server)}/crm`;
});

afterAll(async () => {
  await closeServer(server);
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  requests = [];
  failFirst.clear();
});

const table = () => process.env.TABLE_NAME as string;
const store = () => new DynamoOutreachStore(clients.documents, table());
const consumer = () =>
  createOutreachConsumer({
    sink: new WebhookSink({ url: webhookUrl, secrets: async () => [SECRET], timeoutMs: 2_000 }),
    deliveries: store(),
    persistenceStore: idempotencyStore(table(), clients.dynamodb),
  });
const messages = (runId: string, count: number) =>
  Array.from({ length: count }, (_, i) =>
    buildOutreachMessage({
      customer: scoredCustomer({ customerId: `${runId}-c${i}` }),
      playbook: 'payment_recovery',
      runId,
      createdAt: '2026-11-23T00:00:00.000Z',
    }),
  );
const drain = () => drainOutreach({ sqs: clients.sqs, queueUrl, consumer: consumer(), maxWaitMs: 20_000, pollIntervalMs: 100 });

async function takeAll(url: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((m) => m.Body ?? ''));
    await clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle as string })),
      }),
    );
  }
}

describe('outreach consumer', () => {
  it('retries the deliveries the webhook failed, does not re-send the others, and records attempts', async () => {
    // Prepare
    const batch = messages('retry', 6);
    failFirst.add(batch[1]!.dedupId).add(batch[4]!.dedupId);
    await new SqsOutreachQueue(clients.sqs, queueUrl).send(batch);
    // Act
    const result = await drain();
    // Assess
    expect(result).toMatchObject({ delivered: 6, failedAttempts: 2, timedOut: false });
    const accepted = requests
      .filter((r) => r.status === 200)
      .map((r) => r.dedupId)
      .sort();
    expect(accepted).toEqual(batch.map((m) => m.dedupId).sort()); // each delivered exactly once
    const perMessage = (id: string) => requests.filter((r) => r.dedupId === id).length;
    expect(batch.map((m) => perMessage(m.dedupId))).toEqual([1, 2, 1, 1, 2, 1]);
    expect(requests.every((r) => r.signatureValid)).toBe(true);
    const [retried] = await store().list(batch[1]!.customerId);
    expect(retried).toMatchObject({ attempts: 2, runId: 'retry' });
    expect(typeof retried?.deliveredAt).toBe('string');
    const [once] = await store().list(batch[0]!.customerId);
    expect(once).toMatchObject({ attempts: 1 });
    expect(await takeAll(dlqUrl)).toEqual([]);
  });

  it('delivers a message queued twice (same dedupId) only once', async () => {
    const [message] = messages('dup', 1);
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
    const result = await drain();
    expect(result.delivered).toBe(2); // both SQS messages succeed and are deleted ...
    expect(requests.map((r) => r.dedupId)).toEqual([message!.dedupId]); // ... but the webhook saw one
  });

  it('moves a malformed message to the DLQ after maxReceiveCount and nothing else', async () => {
    // Prepare
    const good = messages('poison', 2);
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ ...good[0], risk: 'very', dedupId: 'poison:bad' }) }),
    );
    await new SqsOutreachQueue(clients.sqs, queueUrl).send(good);
    // Act
    const result = await drain();
    // Assess
    expect(result).toMatchObject({ delivered: 2, failedAttempts: 2, timedOut: false });
    const dead = await takeAll(dlqUrl);
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0]!)).toMatchObject({ dedupId: 'poison:bad', risk: 'very' });
    expect(requests.map((r) => r.dedupId).sort()).toEqual(good.map((m) => m.dedupId).sort());
    expect(await takeAll(queueUrl)).toEqual([]);
  });
});

describe('a delivery the ledger could not record', () => {
  it('is not sent again: SQS deletes the message, and reconcile’s re-send only records it', async () => {
    // Prepare: a claimed and queued outreach; the store refuses to write deliveries
    const [message] = messages('unrecorded', 1);
    const { customerId, runId } = message!;
    const ledger = new DynamoOutreachLedger(clients.documents, table());
    await ledger.claim({
      customerId,
      runId,
      dedupId: outreachDedupId(runId, customerId),
      claimAt: '2026-11-23T00:00:00.000Z',
      cooldownDays: 14,
      playbook: 'payment_recovery',
      risk: 0.5,
      modelVersion: 'm',
      body: JSON.stringify(message),
    });
    const [sent] = await new SqsOutreachQueue(clients.sqs, queueUrl).send([message!]);
    await ledger.markQueued(customerId, runId, sent?.ok ? sent.messageId : '');
    const { documents: broken } = createAwsClients();
    beforeEachCommand(broken, (call) => {
      if (call.name === 'UpdateCommand' && JSON.stringify(call.input).includes('deliveredAt')) throw new Error('store unavailable');
    });
    const errors: string[] = [];
    const brokenConsumer = createOutreachConsumer({
      sink: new WebhookSink({ url: webhookUrl, secrets: async () => [SECRET], timeoutMs: 2_000 }),
      deliveries: new DynamoOutreachStore(broken, table()),
      persistenceStore: idempotencyStore(table(), clients.dynamodb),
      recordRetry: { attempts: 2, backoffMs: 1 },
      log: (level, text) => level === 'error' && errors.push(text),
    });
    // Act: delivered while the store is down
    const down = await drainOutreach({ sqs: clients.sqs, queueUrl, consumer: brokenConsumer, maxWaitMs: 5_000, pollIntervalMs: 100 });
    // Assess: acknowledged, visible, still open on the ledger
    expect(down).toMatchObject({ delivered: 1, failedAttempts: 0 });
    expect(requests.map((r) => r.dedupId)).toEqual([message!.dedupId]);
    expect(errors).toEqual([expect.stringMatching(/^outreach delivered but not recorded on the ledger/)]);
    expect(await ledger.get(customerId, runId)).toMatchObject({ status: 'queued' });
    expect(await takeAll(queueUrl)).toEqual([]);
    // Act: the store is back; reconcile re-sends the open record, the consumer drains it
    const reconciled = await reconcileOutreach(
      { outreach: ledger, queue: new SqsOutreachQueue(clients.sqs, queueUrl), now: () => new Date(Date.now() + 60_000), log: () => {} },
      { resendAfterMs: 1_000, maxSends: 3 },
    );
    await drain();
    // Assess: recorded delivered, and the customer was contacted once
    expect(reconciled.resent).toBe(1);
    expect(requests.map((r) => r.dedupId)).toEqual([message!.dedupId]);
    expect(await ledger.get(customerId, runId)).toMatchObject({ status: 'delivered', sends: 2 });
    expect((await ledger.openOutreach()).filter((o) => o.runId === runId)).toEqual([]);
  });
});

describe('local outreach commands', () => {
  it('peek shows waiting messages and leaves them; consume (dry run) then delivers them through the Lambda handler', async () => {
    // Prepare: two messages on the stack's own outreach queue
    const batch = messages('local', 2);
    await new SqsOutreachQueue(clients.sqs, process.env.OUTREACH_QUEUE_URL as string).send(batch);
    // Act
    const peeked = await peekLocalOutreach(dataDir);
    const peekedAgain = await peekLocalOutreach(dataDir);
    const logged: string[] = [];
    const result = await drainLocalOutreach({ dataDir, maxWaitMs: 10_000, log: (line) => logged.push(line) });
    // Assess
    expect(peeked.map((m) => (m.body as OutreachMessage).dedupId).sort()).toEqual(batch.map((m) => m.dedupId).sort());
    expect(peekedAgain).toHaveLength(2);
    expect(result).toMatchObject({ sink: 'dry-run', delivered: 2, failedAttempts: 0, timedOut: false });
    expect(logged.filter((line) => line.startsWith('dry run: would deliver local:'))).toHaveLength(2);
    expect(await peekLocalOutreach(dataDir)).toEqual([]);
  });
});

describe('the Lambda handler', () => {
  it('reports only the malformed record as a batch item failure (dry run without a webhook URL)', async () => {
    const { handler } = await import('../../lambdas/outreach/handler.ts');
    const [good] = messages('lambda', 1);
    const record = (messageId: string, body: string) =>
      toSqsRecord({ MessageId: messageId, ReceiptHandle: 'r', Body: body }, 'arn:aws:sqs:us-east-1:000000000000:q', 'us-east-1');
    const response = await handler(
      { Records: [record('m-good', JSON.stringify(good)), record('m-bad', '{"messageVersion":1}')] },
      localContext('churnguard-outreach-test'),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-bad' }] });
    const [delivered] = await store().list(good!.customerId);
    expect(typeof delivered?.deliveredAt).toBe('string');
  });
});
