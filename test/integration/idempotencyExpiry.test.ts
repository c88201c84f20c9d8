import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { LOCAL_RESOURCES } from '../../cli/local/localResources.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import { localContext } from '../../cli/local/sqsPoller.ts';
import { consumerFromEnv, IDEMPOTENCY_PK } from '../../lambdas/outreach/config.ts';
import { buildOutreachMessage } from '../../model/outreach/message.ts';
import { scoredCustomer } from '../unit/outreachFactories.ts';

/**
 * The table's TTL is on `ttl` (cdk/constructs/storage.ts). DynamoDB deletes an item only when that
 * attribute holds an epoch-seconds number in the past; an idempotency record that carries its
 * expiry under any other name lives forever. dynalite has no TTL, so the test reads the stored item.
 */

let dataDir: string;
let stack: LocalStack;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-idempotency-'));
  stack = await openLocalStack(dataDir);
});

afterAll(async () => {
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the consumer’s idempotency records', () => {
  it('carry their expiry in the table’s TTL attribute `ttl`, cooldown + 1 days ahead', async () => {
    const message = buildOutreachMessage({
      customer: scoredCustomer({ customerId: 'ttl-1' }),
      playbook: 'payment_recovery',
      runId: 'score-2026-11-23',
      createdAt: '2026-11-23T00:00:00.000Z',
    });
    const event = {
      Records: [
        {
          messageId: 'm-ttl-1',
          receiptHandle: 'r-ttl-1',
          body: JSON.stringify(message),
          attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'test', ApproximateFirstReceiveTimestamp: '0' },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${LOCAL_RESOURCES.queueName}`,
          awsRegion: 'us-east-1',
        },
      ],
    } as SQSEvent;
    const consumer = consumerFromEnv({ ...process.env, TABLE_NAME: LOCAL_RESOURCES.tableName, COOLDOWN_DAYS: '14' }, undefined, () => {});
    const before = Math.floor(Date.now() / 1000);
    // Act
    const response = await consumer(event, localContext('idempotency-expiry'));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const { Items = [] } = await createAwsClients().documents.send(
      new QueryCommand({
        TableName: LOCAL_RESOURCES.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': IDEMPOTENCY_PK },
      }),
    );
    expect(Items).toHaveLength(1);
    const [record] = Items;
    expect(record).not.toHaveProperty('expiration');
    expect(typeof record?.ttl).toBe('number');
    expect(record?.ttl).toBeGreaterThanOrEqual(before + 15 * 86_400 - 1);
    expect(record?.ttl).toBeLessThanOrEqual(before + 15 * 86_400 + 5);
  });
});
