import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { customerPk } from '../../adapters/aws/keys.ts';
import { LOCAL_RESOURCES } from '../../cli/local/localResources.ts';
import { IDEMPOTENCY_PK } from '../../lambdas/outreach/config.ts';
import type { JobAnswer } from '../../lambdas/train-score/handler.ts';
import { RunSummary } from '../../model/runSummary.ts';
import { simulateBusiness } from '../../model/simulate/index.ts';
import { type CloudAssembly, deployedFunction, readCloudAssembly, resourcesOfType, scheduleInput } from './harness/cloudAssembly.ts';
import { httpApiEvent, sqsBatch } from './harness/events.ts';
import { type LambdaInstance, metricDocuments, metricNamespaces, startFunction } from './harness/lambdaHarness.ts';
import { type LocalCloud, startLocalCloud } from './harness/localCloud.ts';

/**
 * The deployment packages `cdk synth` wrote, run as Lambda runs them (harness/), against local
 * stand-ins for the stack's resources, driven by the events AWS would send: a producer's signed
 * POST /events through the HTTP API, the daily schedule's input on a freshly deployed stack, and
 * the SQS batches of the outreach queue. Every assertion is on an effect: items in the table,
 * objects in the bucket, messages on the queue, deliveries at the webhook, and the CLI's report.
 */

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const CDK_OUT = path.resolve(process.env.CHURNGUARD_CDK_OUT ?? path.join(REPO_ROOT, 'cdk.out'));
/** Small enough to run in about a minute, large enough for training to find churners. */
const business = simulateBusiness({ customers: 300, days: 90, seed: 7 });
const BATCH = 500;
const DAY_SECONDS = 86_400;

let assembly: CloudAssembly;
let cloud: LocalCloud;
let ingest: LambdaInstance;
let job: LambdaInstance;
let consumer: LambdaInstance;
let outreachQueueId: string;

const templateVariable = (instance: LambdaInstance, name: string): string => {
  const value = instance.fn.environment[name];
  assert.equal(typeof value, 'string', `${instance.fn.constructPath} has ${name} in its template environment`);
  return value as string;
};

before(async () => {
  assembly = readCloudAssembly(CDK_OUT);
  cloud = await startLocalCloud(assembly.template);
  const start = (prefix: string) => {
    const fn = deployedFunction(assembly, prefix);
    return startFunction(fn, cloud.environmentFor(fn.environment));
  };
  [ingest, job, consumer] = await Promise.all([
    start('Churnguard/Ingest/Handler'),
    start('Churnguard/TrainScoreJob/Function'),
    start('Churnguard/Outreach/Consumer'),
  ]);
  const queueRef = job.fn.environment.OUTREACH_QUEUE_URL as { Ref: string };
  outreachQueueId = queueRef.Ref;
});

after(async () => {
  await Promise.all([ingest?.stop(), job?.stop(), consumer?.stop()]);
  await cloud?.close();
});

const ingestDurations: number[] = [];
const post = async (body: string, contentType = 'application/json', base64 = false) => {
  const { result, error, durationMs } = await ingest.invoke<APIGatewayProxyStructuredResultV2>(httpApiEvent({ contentType, body, base64 }));
  assert.equal(error, undefined, JSON.stringify(error));
  ingestDurations.push(durationMs);
  return { status: result?.statusCode, body: JSON.parse(String(result?.body)) as Record<string, unknown> };
};

const storedEvents = async (customerId: string) =>
  (
    await cloud.clients.documents.send(
      new QueryCommand({
        TableName: LOCAL_RESOURCES.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :e)',
        ExpressionAttributeValues: { ':pk': customerPk(customerId), ':e': 'E#' },
      }),
    )
  ).Items ?? [];

describe('the ingest bundle behind the HTTP API (payload 2.0, IAM authorization)', () => {
  it('stores every simulated event, sent as JSON arrays and as base64-encoded NDJSON', async () => {
    let accepted = 0;
    for (let i = 0; i < business.events.length; i += BATCH) {
      const batch = business.events.slice(i, i + BATCH);
      const ndjson = (i / BATCH) % 2 === 1;
      const response = ndjson
        ? await post(batch.map((event) => JSON.stringify(event)).join('\n'), 'application/x-ndjson', true)
        : await post(JSON.stringify(batch));
      assert.equal(response.status, 200, JSON.stringify(response.body).slice(0, 500));
      accepted += Number(response.body.accepted);
    }
    assert.equal(accepted, business.events.length);
    const sorted = [...ingestDurations].sort((a, b) => a - b);
    console.error(`ingest: median ${Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0)} ms per request of ${BATCH} events`);
    const customerId = business.events[0]?.customerId as string;
    const stored = await storedEvents(customerId);
    assert.equal(stored.length, business.events.filter((event) => event.customerId === customerId).length);
  });

  it('keeps a backfilled event older than the retention: its TTL counts from ingestion', async () => {
    const ttlDays = Number(templateVariable(ingest, 'EVENT_TTL_DAYS'));
    const occurredAt = new Date(Date.now() - (ttlDays + 365) * DAY_SECONDS * 1000).toISOString();
    const event = { eventId: 'backfill-1', customerId: 'backfill-customer', type: 'session_started', occurredAt, properties: {} };
    const response = await post(JSON.stringify([event]));
    assert.equal(response.status, 200);
    const [item] = await storedEvents('backfill-customer');
    const now = Date.now() / 1000;
    assert.ok(Number(item?.ttl) > now + (ttlDays - 1) * DAY_SECONDS, `ttl ${item?.ttl} lies within the retention from now`);
  });

  it('rejects a bad event with its index and field, stores its neighbour, and refuses GET', async () => {
    const good = { eventId: 'ok-1', customerId: 'mixed', type: 'session_started', occurredAt: business.window.end, properties: {} };
    const response = await post(JSON.stringify([good, { ...good, eventId: 'bad-1', occurredAt: 'yesterday' }]));
    assert.equal(response.status, 207);
    assert.equal(response.body.accepted, 1);
    assert.match(JSON.stringify(response.body.rejected), /"index":1.*occurredAt/);
    const refused = await ingest.invoke<APIGatewayProxyStructuredResultV2>(
      httpApiEvent({ method: 'GET', contentType: 'application/json', body: '' }),
    );
    assert.equal(refused.result?.statusCode, 405);
  });

  it('publishes its metrics in the stack’s namespace under its service name', () => {
    const documents = metricDocuments(ingest.logs);
    assert.ok(documents.some((document) => 'EventsAccepted' in document));
    assert.deepEqual(metricNamespaces(documents), [templateVariable(ingest, 'POWERTOOLS_METRICS_NAMESPACE')]);
    assert.ok(documents.every((document) => document.service === templateVariable(ingest, 'POWERTOOLS_SERVICE_NAME')));
  });
});

let summary: RunSummary;
let nextDaySummary: RunSummary;

describe('the job bundle, invoked with the daily schedule’s input on a fresh stack', () => {
  it('trains a first model because there is no champion, scores on WebAssembly, and writes the run summary', async () => {
    const input = scheduleInput(assembly.template, 'Churnguard/Schedules/DailyScore', business.window.end);
    assert.deepEqual(input, { mode: 'score', asOf: business.window.end });
    const { result, error, durationMs, maxRssMb } = await job.invoke<JobAnswer>(input);
    assert.equal(error, undefined, JSON.stringify(error));
    console.error(`job: ${Math.round(durationMs)} ms, peak RSS ${maxRssMb} MB (memory ${job.fn.memorySize} MB)`);
    assert.ok(maxRssMb < job.fn.memorySize, `peak RSS ${maxRssMb} MB within the function's ${job.fn.memorySize} MB`);
    const object = await cloud.clients.s3.send(new GetObjectCommand({ Bucket: LOCAL_RESOURCES.bucketName, Key: result?.summaryKey }));
    summary = RunSummary.parse(JSON.parse(await (object.Body?.transformToString() ?? Promise.resolve('null'))));
    assert.equal(summary.runId, result?.runId);
    assert.equal(summary.training?.trainedBecause, 'no-champion');
    assert.equal(summary.training?.backend, 'wasm');
    assert.equal(summary.modelVersion, summary.training?.candidateVersion);
    assert.ok(summary.scoring.customersScored > 0);
    assert.ok(summary.outreach.sent > 0, 'something was queued');
    const champion = await cloud.clients.s3.send(new GetObjectCommand({ Bucket: LOCAL_RESOURCES.bucketName, Key: 'models/champion.json' }));
    assert.equal(JSON.parse(await (champion.Body?.transformToString() ?? Promise.resolve('{}'))).version, summary.modelVersion);
  });

  it('the next day’s run scores with that champion, without training', async () => {
    const nextDay = new Date(Date.parse(business.window.end) + DAY_SECONDS * 1000).toISOString();
    const input = scheduleInput(assembly.template, 'Churnguard/Schedules/DailyScore', nextDay);
    const { result, error, durationMs } = await job.invoke<JobAnswer>(input);
    assert.equal(error, undefined, JSON.stringify(error));
    console.error(`job: score-only run of ${result?.scored} customers in ${Math.round(durationMs)} ms`);
    const object = await cloud.clients.s3.send(new GetObjectCommand({ Bucket: LOCAL_RESOURCES.bucketName, Key: result?.summaryKey }));
    nextDaySummary = RunSummary.parse(JSON.parse(await (object.Body?.transformToString() ?? Promise.resolve('null'))));
    assert.equal(nextDaySummary.training, null);
    assert.equal(nextDaySummary.modelVersion, summary.modelVersion);
    assert.ok(nextDaySummary.scoring.customersScored > 0);
  });

  it('says so in its metrics, in the stack’s namespace', () => {
    const documents = metricDocuments(job.logs);
    assert.ok(documents.some((document) => document.TrainedWithoutChampion === 1));
    assert.ok(documents.some((document) => document.CustomersScored === summary.scoring.customersScored));
    assert.deepEqual(metricNamespaces(documents), [templateVariable(job, 'POWERTOOLS_METRICS_NAMESPACE')]);
  });
});

describe('the consumer bundle, fed SQS batches of the outreach queue', () => {
  /** Receives until `expected` messages are in hand: a short poll, as on SQS, may come back empty while messages wait. */
  const receiveAll = async (expected: number): Promise<Message[]> => {
    const messages: Message[] = [];
    const deadline = Date.now() + 30_000;
    while (messages.length < expected && Date.now() < deadline) {
      const { Messages = [] } = await cloud.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: cloud.queueUrl(outreachQueueId),
          MaxNumberOfMessages: 10,
          AttributeNames: ['All'],
          WaitTimeSeconds: 1,
        }),
      );
      messages.push(...Messages);
    }
    return messages;
  };

  let firstBatch: ReturnType<typeof sqsBatch>;
  /** Messages a run queued: its at-risk outreach and, in the same run, its exit surveys and win-backs. */
  const queuedBy = (run: typeof summary) => run.outreach.sent + (run.afterExit?.exitSurveys.sent ?? 0) + (run.afterExit?.winBack.sent ?? 0);

  it('delivers each queued message to the webhook once, signed with the key from Secrets Manager', async () => {
    const sent = queuedBy(summary) + queuedBy(nextDaySummary);
    const messages = await receiveAll(sent);
    assert.equal(messages.length, sent);
    for (let i = 0; i < messages.length; i += 10) {
      const batch = sqsBatch(messages.slice(i, i + 10), cloud.queueArn(outreachQueueId));
      firstBatch ??= batch;
      const { result, error } = await consumer.invoke<SQSBatchResponse>(batch);
      assert.equal(error, undefined, JSON.stringify(error));
      assert.deepEqual(result?.batchItemFailures, []);
      // The event source mapping deletes what the function did not report as failed.
      await cloud.clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: cloud.queueUrl(outreachQueueId),
          Entries: batch.Records.map((record, j) => ({ Id: String(j), ReceiptHandle: record.receiptHandle })),
        }),
      );
    }
    assert.equal(cloud.webhook.badSignatures, 0);
    assert.equal(cloud.webhook.delivered.length, sent);
    // Both days' runs together contacted each customer once: the cooldown held across runs.
    const customers = cloud.webhook.delivered.map((delivery) => (delivery.body as { customerId: string }).customerId);
    assert.equal(new Set(customers).size, sent);
  });

  it('does not deliver a redelivered batch again, and its idempotency records expire on the table’s TTL attribute', async () => {
    const before = cloud.webhook.delivered.length;
    const { result, error } = await consumer.invoke<SQSBatchResponse>(firstBatch);
    assert.equal(error, undefined, JSON.stringify(error));
    assert.deepEqual(result?.batchItemFailures, []);
    assert.equal(cloud.webhook.delivered.length, before);
    const { Items = [] } = await cloud.clients.documents.send(
      new QueryCommand({
        TableName: LOCAL_RESOURCES.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': IDEMPOTENCY_PK },
      }),
    );
    assert.equal(Items.length, queuedBy(summary) + queuedBy(nextDaySummary));
    const now = Date.now() / 1000;
    for (const item of Items) {
      assert.equal(item.expiration, undefined);
      assert.ok(Number(item.ttl) > now && Number(item.ttl) < now + 60 * DAY_SECONDS, `ttl ${item.ttl}`);
    }
  });

  it('reports only a malformed record as a batch item failure', async () => {
    const batch = sqsBatch(
      [{ MessageId: 'poison-1', ReceiptHandle: 'r-poison', Body: '{"not":"a message"}' }],
      cloud.queueArn(outreachQueueId),
    );
    const { result } = await consumer.invoke<SQSBatchResponse>(batch);
    assert.deepEqual(result?.batchItemFailures, [{ itemIdentifier: 'poison-1' }]);
  });
});

describe('the CLI of the same install', () => {
  it('churnguard report writes the report of the latest run the job bundle stored', async () => {
    const out = path.join(cloud.dataDir, 'report.html');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(REPO_ROOT, 'bin/churnguard.js'), 'report', '--data-dir', cloud.dataDir, '--out', out, '--json'],
      { cwd: REPO_ROOT, timeout: 60_000 },
    );
    assert.equal(JSON.parse(stdout).runId, nextDaySummary.runId);
    const html = await readFile(out, 'utf8');
    assert.match(html, /<html/);
    assert.ok(html.includes(nextDaySummary.runId));
  });
});

describe('the template and its stand-ins', () => {
  it('creates the table the functions write with the template’s key schema', () => {
    const [[, table] = []] = resourcesOfType(assembly.template, 'AWS::DynamoDB::GlobalTable');
    assert.deepEqual(table?.Properties?.KeySchema, [
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
  });
});
