import { rm } from 'node:fs/promises';
import path from 'node:path';
import { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueUrlCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { DEFAULT_WEBHOOK_TIMEOUT_MS } from '../../adapters/webhook/webhookSink.ts';
import { readStateFile, type Warn } from './stateFiles.ts';

/** The queue's visibility timeout is at least this many times the webhook timeout (AWS's guidance for SQS event sources). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Names of the local resources; the CDK stack creates their AWS counterparts. */
export const LOCAL_RESOURCES = {
  accountId: '000000000000',
  tableName: 'churnguard',
  bucketName: 'churnguard',
  queueName: 'churnguard-outreach',
  dlqName: 'churnguard-outreach-dlq',
  /**
   * Six times the default webhook timeout, as on AWS (where it is six times the consumer's timeout):
   * a slow webhook's message never becomes visible to a second receive while it is still being
   * delivered. `outreach consume` receives with six times the timeout it is configured with.
   */
  visibilityTimeoutSeconds: Math.ceil((VISIBILITY_TIMEOUT_FACTOR * DEFAULT_WEBHOOK_TIMEOUT_MS) / 1000),
  maxReceiveCount: 3,
} as const;

const LEGACY_QUEUE_SNAPSHOT = 'sqs-snapshot.json';

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

/**
 * Older versions saved the queues to `sqs-snapshot.json` on a clean close only. Its messages are
 * sent once into the journaled queues and the file is removed; an unreadable one is moved aside
 * with a warning (it used to fail every command and leave the emulators running).
 */
export async function migrateLegacySnapshot(dataDir: string, warn: Warn): Promise<number> {
  const file = path.join(dataDir, LEGACY_QUEUE_SNAPSHOT);
  const snapshot = await readStateFile(file, Snapshot, warn);
  if (!snapshot) return 0;
  const { sqs } = createAwsClients();
  let restored = 0;
  for (const [name, messages] of Object.entries(snapshot)) {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name })).catch(() => ({ QueueUrl: undefined }));
    if (!QueueUrl) continue;
    for (let i = 0; i < messages.length; i += 10) {
      const entries = messages.slice(i, i + 10).map((m, j) => ({ Id: String(j), MessageBody: m.body }));
      await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
      restored += entries.length;
    }
  }
  await rm(file, { force: true });
  return restored;
}
