import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../adapters/aws/clients.ts';
import {
  EventBridgeDeliveryError,
  EventBridgeSink,
  OUTREACH_DETAIL_TYPE,
  OUTREACH_EVENT_SOURCE,
} from '../../adapters/aws/eventBridgeSink.ts';
import { DynamoOutreachStore } from '../../adapters/aws/outreachStore.ts';
import { createOutreachConsumer } from '../../app/deliverOutreach.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import { localContext, toSqsRecord } from '../../cli/local/sqsPoller.ts';
import { idempotencyStore, OutreachConsumerEnv, sinkFromEnv } from '../../lambdas/outreach/config.ts';
import { buildOutreachMessage, type OutreachMessage } from '../../model/outreach/message.ts';
import { closeServer, listenOnLoopback } from '../helpers/loopbackServer.ts';
import { scoredCustomer } from '../unit/outreachFactories.ts';

/**
 * The EventBridge sink with the real SDK client over HTTP, against a stand-in that speaks
 * PutEvents' JSON protocol (EventBridge has no emulator here), and the delivery ledger on dynalite:
 * an entry EventBridge refuses is a failed attempt on the ledger, like a webhook's 500.
 */

interface PutEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName: string;
}

let dataDir: string;
let stack: LocalStack;
let clients: AwsClients;
let server: Server;
let endpoint: string;
/** Every PutEvents call's entries, and the dedupIds whose first put is refused with ThrottlingException. */
let puts: PutEntry[][] = [];
const refuseFirst = new Set<string>();
let seen = new Set<string>();

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-eventbridge-'));
  stack = await openLocalStack(dataDir);
  clients = createAwsClients();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.headers['x-amz-target'] !== 'AWSEvents.PutEvents') return res.writeHead(400).end();
      const { Entries } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries: PutEntry[] };
      puts.push(Entries);
      const results = Entries.map((entry) => {
        const { dedupId } = JSON.parse(entry.Detail) as OutreachMessage;
        const refused = refuseFirst.has(dedupId) && !seen.has(dedupId);
        seen.add(dedupId);
        return refused ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' } : { EventId: `ev-${puts.length}` };
      });
      const failed = results.filter((r) => 'ErrorCode' in r).length;
      // PutEvents answers 200 whatever happened to the entries.
      res
        .writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
        .end(JSON.stringify({ FailedEntryCount: failed, Entries: results }));
    });
  });
  endpoint = await listenOnLoopback(server);
});

afterAll(async () => {
  await closeServer(server);
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  puts = [];
  seen = new Set();
  refuseFirst.clear();
});

const client = () =>
  new EventBridgeClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
const table = () => process.env.TABLE_NAME as string;
const ledger = () => new DynamoOutreachStore(clients.documents, table());
const message = (customerId: string) =>
  buildOutreachMessage({
    customer: scoredCustomer({ customerId }),
    playbook: 'payment_recovery',
    runId: 'eb-run',
    createdAt: '2026-11-23T00:00:00.000Z',
  });
const sqsEvent = (messages: OutreachMessage[]): SQSEvent => ({
  Records: messages.map((m, i) =>
    toSqsRecord({ MessageId: `m-${m.dedupId}-${i}`, Body: JSON.stringify(m) }, 'arn:aws:sqs:us-east-1:000000000000:q', 'us-east-1'),
  ),
});

describe('the EventBridge outreach sink', () => {
  it('puts each message on the bus as source churnguard, detail-type churnguard.outreach, the versioned message as detail', async () => {
    const outreach = message('eb-shape');
    await new EventBridgeSink({ eventBusName: 'crm-bus', client: client() }).deliver(outreach, JSON.stringify(outreach));
    expect(puts).toEqual([
      [{ Source: OUTREACH_EVENT_SOURCE, DetailType: OUTREACH_DETAIL_TYPE, Detail: JSON.stringify(outreach), EventBusName: 'crm-bus' }],
    ]);
    expect(OUTREACH_DETAIL_TYPE).toBe('churnguard.outreach');
    expect(JSON.parse(puts[0]?.[0]?.Detail ?? '{}')).toMatchObject({ messageVersion: 1, dedupId: outreach.dedupId });
  });

  it('throws an entry EventBridge refused, with its ErrorCode, although PutEvents answered 200', async () => {
    const outreach = message('eb-refused');
    refuseFirst.add(outreach.dedupId);
    const sink = new EventBridgeSink({ eventBusName: 'crm-bus', client: client() });
    const failure = await sink.deliver(outreach, JSON.stringify(outreach)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EventBridgeDeliveryError);
    expect(failure).toMatchObject({ errorCode: 'ThrottlingException', message: expect.stringContaining('Rate exceeded') });
  });

  it('counts a refused entry as a failed attempt on the ledger and retries only that message', async () => {
    const [refused, accepted] = [message('eb-ledger-1'), message('eb-ledger-2')];
    refuseFirst.add(refused!.dedupId);
    const consumer = createOutreachConsumer({
      sink: new EventBridgeSink({ eventBusName: 'crm-bus', client: client() }),
      deliveries: ledger(),
      persistenceStore: idempotencyStore(table(), clients.dynamodb),
    });
    const first = await consumer(sqsEvent([refused!, accepted!]), localContext('outreach'));
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: `m-${refused!.dedupId}-0` }]);
    expect((await ledger().list('eb-ledger-1'))[0]).toMatchObject({
      attempts: 1,
      lastError: expect.stringContaining('ThrottlingException'),
    });
    expect((await ledger().list('eb-ledger-2'))[0]).toMatchObject({ attempts: 1, deliveredAt: expect.any(String) });
    // SQS hands the refused message back: the retry goes through, the delivered one is not put again.
    const retry = await consumer(sqsEvent([refused!, accepted!]), localContext('outreach'));
    expect(retry.batchItemFailures).toEqual([]);
    expect((await ledger().list('eb-ledger-1'))[0]).toMatchObject({ attempts: 2, deliveredAt: expect.any(String) });
    expect(
      puts
        .flat()
        .map((e) => (JSON.parse(e.Detail) as OutreachMessage).customerId)
        .sort(),
    ).toEqual(['eb-ledger-1', 'eb-ledger-1', 'eb-ledger-2']);
  });

  it('is the consumer’s sink when OUTREACH_EVENT_BUS_NAME is set; with a webhook URL too it is a configuration error', () => {
    const env = (vars: Record<string, string>) => OutreachConsumerEnv.parse(vars);
    expect(sinkFromEnv(env({ OUTREACH_EVENT_BUS_NAME: 'crm-bus' }), () => {}).kind).toBe('eventbridge');
    expect(() =>
      sinkFromEnv(env({ OUTREACH_EVENT_BUS_NAME: 'crm-bus', OUTREACH_WEBHOOK_URL: 'https://crm.example.com/h' }), () => {}),
    ).toThrow('not both');
  });
});
