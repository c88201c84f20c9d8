import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createAwsClients } from '../../adapters/aws/clients.ts';

/** Names of the local resources; the CDK stack creates their AWS counterparts. */
export const LOCAL_RESOURCES = {
  accountId: '000000000000',
  tableName: 'churnguard',
  bucketName: 'churnguard',
  queueName: 'churnguard-outreach',
  dlqName: 'churnguard-outreach-dlq',
  /** A few seconds, so that a failed delivery is retried within one `outreach consume`. */
  visibilityTimeoutSeconds: 5,
  maxReceiveCount: 3,
} as const;

const QUEUE_SNAPSHOT = 'sqs-snapshot.json';

/** Creates the table, bucket and queues of the local stack when they are missing. */
export async function ensureLocalResources(): Promise<void> {
  const { dynamodb, s3, sqs } = createAwsClients();
  try {
    await dynamodb.send(new DescribeTableCommand({ TableName: LOCAL_RESOURCES.tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await dynamodb.send(
      new CreateTableCommand({
        TableName: LOCAL_RESOURCES.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'PK', AttributeType: 'S' },
          { AttributeName: 'SK', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'PK', KeyType: 'HASH' },
          { AttributeName: 'SK', KeyType: 'RANGE' },
        ],
      }),
    );
  }
  try {
    await s3.send(new HeadBucketCommand({ Bucket: LOCAL_RESOURCES.bucketName }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: LOCAL_RESOURCES.bucketName }));
  }
  await sqs.send(new CreateQueueCommand({ QueueName: LOCAL_RESOURCES.dlqName }));
  const dlqArn = `arn:aws:sqs:us-east-1:${LOCAL_RESOURCES.accountId}:${LOCAL_RESOURCES.dlqName}`;
  await sqs.send(
    new CreateQueueCommand({
      QueueName: LOCAL_RESOURCES.queueName,
      Attributes: {
        VisibilityTimeout: String(LOCAL_RESOURCES.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: LOCAL_RESOURCES.maxReceiveCount }),
      },
    }),
  );
}

const Snapshot = z.record(z.string(), z.array(z.object({ body: z.string() })));

async function queueUrl(name: string): Promise<string> {
  const { sqs } = createAwsClients();
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`queue ${name} has no URL`);
  return QueueUrl;
}

/** Saves the visible messages of the local queues, which the emulator holds only in memory. */
export async function snapshotQueues(dataDir: string): Promise<void> {
  const { sqs } = createAwsClients();
  const snapshot: z.output<typeof Snapshot> = {};
  for (const name of [LOCAL_RESOURCES.queueName, LOCAL_RESOURCES.dlqName]) {
    const url = await queueUrl(name);
    const bodies: Array<{ body: string }> = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 600, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) break;
      bodies.push(...Messages.map((m) => ({ body: m.Body ?? '' })));
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
    snapshot[name] = bodies;
  }
  await writeFile(path.join(dataDir, QUEUE_SNAPSHOT), JSON.stringify(snapshot));
}

/** Puts the messages saved by `snapshotQueues` back, then forgets the snapshot. */
export async function restoreQueues(dataDir: string): Promise<void> {
  let raw: string;
  try {
    raw = await readFile(path.join(dataDir, QUEUE_SNAPSHOT), 'utf8');
  } catch {
    return;
  }
  const snapshot = Snapshot.parse(JSON.parse(raw));
  const { sqs } = createAwsClients();
  for (const [name, messages] of Object.entries(snapshot)) {
    const url = await queueUrl(name);
    for (let i = 0; i < messages.length; i += 10) {
      const entries = messages.slice(i, i + 10).map((m, j) => ({ Id: String(j), MessageBody: m.body }));
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
    }
  }
  await rm(path.join(dataDir, QUEUE_SNAPSHOT), { force: true });
}
