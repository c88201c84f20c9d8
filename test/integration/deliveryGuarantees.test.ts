import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../adapters/aws/clients.ts';
import { SqsDeadLetterQueue } from '../../adapters/aws/deadLetterQueue.ts';
import { DynamoOutreachLedger } from '../../adapters/aws/outreachLedger.ts';
import { SqsOutreachQueue } from '../../adapters/aws/outreachQueue.ts';
import { verifyWebhook } from '../../adapters/webhook/webhookSignature.ts';
import { DEFAULT_WEBHOOK_TIMEOUT_MS } from '../../adapters/webhook/webhookSink.ts';
import { outreachStatus } from '../../app/outreachStatus.ts';
import { reconcileOutreach } from '../../app/reconcile.ts';
import { drainLocalOutreach, localWebhookSecret } from '../../cli/commands/outreach.ts';
import { QUEUE_JOURNAL } from '../../cli/local/durableSqs.ts';
import { LOCAL_RESOURCES, VISIBILITY_TIMEOUT_FACTOR } from '../../cli/local/localResources.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import { buildOutreachMessage } from '../../model/outreach/message.ts';
import { closeServer, listenOnLoopback } from '../helpers/loopbackServer.ts';
import { scoredCustomer } from '../unit/outreachFactories.ts';

/**
 * The delivery guarantees on the local stack, one scenario of the issue each: what SQS acknowledged
 * survives `kill -9`; a lost message is re-sent by reconcile; a redirect is a failure; a slow
 * webhook's retry carries the same webhook-id; unreadable state files and stale locks never block a
 * data dir; an outage's dead letters are visible, redriven, or failed with their reason.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
let dataDir: string;
let stack: LocalStack;
let clients: AwsClients;
let ledger: DynamoOutreachLedger;
let server: Server;
let webhookUrl: string;
/** How the webhook answers the next request: a status, or a delay (ms) before a 200 after processing. */
let answer: (id: string) => { status: number; delayMs?: number; location?: string } = () => ({ status: 204 });
let requests: Array<{ method: string; url: string; id: string; headers: IncomingHttpHeaders; body: Buffer; at: number }> = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-guarantees-'));
  stack = await openLocalStack(dataDir);
  clients = createAwsClients();
  ledger = new DynamoOutreachLedger(clients.documents, process.env.TABLE_NAME as string);
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        id,
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      });
      if (req.url !== '/hook') return void res.writeHead(200).end();
      const { status, delayMs = 0, location } = answer(id);
      setTimeout(() => res.writeHead(status, location ? { location } : {}).end(), delayMs);
    });
  });
  webhookUrl = `${await listenOnLoopback(server)}/hook`;
});

afterAll(async () => {
  await closeServer(server);
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  requests = [];
  answer = () => ({ status: 204 });
});

const queue = () => new SqsOutreachQueue(clients.sqs, process.env.OUTREACH_QUEUE_URL as string);

/** Claims and queues one message per customer for `runId`, as selectAndSend does: the ledger says queued. */
async function queueRun(runId: string, customerIds: string[]): Promise<string[]> {
  const messages = customerIds.map((customerId) =>
    buildOutreachMessage({
      customer: scoredCustomer({ customerId }),
      playbook: 'payment_recovery',
      runId,
      createdAt: new Date().toISOString(),
    }),
  );
  for (const m of messages) {
    const outcome = await ledger.claim({
      customerId: m.customerId,
      runId,
      dedupId: m.dedupId,
      claimAt: '2026-07-01T00:00:00.000Z',
      cooldownDays: 14,
      playbook: m.playbook,
      risk: m.risk,
      modelVersion: m.modelVersion,
      body: JSON.stringify(m),
    });
    expect(outcome).toBe('claimed');
  }
  const sent = await queue().send(messages);
  for (const [i, outcome] of sent.entries()) if (outcome.ok) await ledger.markQueued(messages[i]!.customerId, runId, outcome.messageId);
  return messages.map((m) => m.dedupId);
}

/** Receives and deletes every message of a queue: a message that vanished. */
async function lose(queueUrl: string): Promise<number> {
  let lost = 0;
  for (;;) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
    );
    if (Messages.length === 0) return lost;
    lost += Messages.length;
    await clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle as string })),
      }),
    );
  }
}

/** `outreach consume` to the test webhook, with a short webhook timeout so that retries take seconds. */
async function consume(webhookTimeoutMs: number, maxWaitMs: number) {
  const previous = process.env.OUTREACH_WEBHOOK_TIMEOUT_MS;
  process.env.OUTREACH_WEBHOOK_TIMEOUT_MS = String(webhookTimeoutMs);
  try {
    return await drainLocalOutreach({ dataDir, webhookUrl, maxWaitMs });
  } finally {
    if (previous === undefined) delete process.env.OUTREACH_WEBHOOK_TIMEOUT_MS;
    else process.env.OUTREACH_WEBHOOK_TIMEOUT_MS = previous;
  }
}

const reconcileDeps = (now = new Date()) => ({
  outreach: ledger,
  queue: queue(),
  deadLetters: new SqsDeadLetterQueue(clients.sqs, process.env.OUTREACH_QUEUE_URL as string),
  now: () => now,
  log: () => {},
});

describe('1. queued outreach survives a killed local stack', () => {
  it('every message SQS acknowledged to the sender survives kill -9 of the process that owns the stack', async () => {
    // Prepare: a child owns its own data dir's stack and sends until killed at a point it does not know.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-kill9-'));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/helpers/sqsSender.ts'), dir], {
      cwd: ROOT,
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acked = -1;
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    await new Promise<void>((resolve) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        for (const match of chunk.toString().matchAll(/acked (\d+)/g)) acked = Number(match[1]);
        if (acked >= 37) resolve();
      });
    });
    // Act
    child.kill('SIGKILL');
    await exited;
    const other = await openLocalStack(dir, { applyEnv: false });
    try {
      const sqs = new SQSClient({
        endpoint: other.endpoints.sqs,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
      const queueUrl = `${other.endpoints.sqs}/${LOCAL_RESOURCES.accountId}/${LOCAL_RESOURCES.queueName}`;
      const bodies: number[] = [];
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
        );
        if (Messages.length === 0) break;
        bodies.push(...Messages.map((m) => (JSON.parse(m.Body ?? '{}') as { n: number }).n));
      }
      // Assess: 0..acked all there (one more may be, sent but not yet acknowledged when killed).
      const unique = new Set(bodies);
      for (let n = 0; n <= acked; n++) expect(unique.has(n), `message ${n} was acknowledged`).toBe(true);
    } finally {
      await other.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a queued record whose message was lost is sent again by reconcile, with the same dedupId and body, and delivered once', async () => {
    // Prepare: three queued outreach whose messages vanish from the queue.
    const ids = await queueRun('lost', ['lost-a', 'lost-b', 'lost-c']);
    const before = await ledger.get('lost-a', 'lost');
    expect(await lose(process.env.OUTREACH_QUEUE_URL as string)).toBe(3);
    // Act: reconcile an hour later (past the re-send deadline), then consume.
    const result = await reconcileOutreach(reconcileDeps(new Date(Date.now() + 2 * 3_600_000)), { resendAfterMs: 3_600_000, maxSends: 3 });
    const drained = await consume(1_000, 10_000);
    // Assess
    expect(result).toMatchObject({ resent: 3, failed: 0 });
    expect(drained).toMatchObject({ delivered: 3, timedOut: false });
    expect(requests.map((r) => r.id).sort()).toEqual(ids.sort());
    expect(requests.find((r) => r.id === 'lost:lost-a')?.body.toString()).toBe(before?.body);
    const after = await ledger.get('lost-a', 'lost');
    expect(after).toMatchObject({ status: 'delivered', sends: 2, attempts: 1, httpStatus: 204 });
    expect(await ledger.openOutreach()).toEqual([]);
  });
});

describe('2. a redirect is not a delivery', () => {
  it('a 302 from the webhook is a failed attempt on the ledger; nothing follows it; the retry after the fix delivers', async () => {
    // Prepare
    const [id] = await queueRun('moved', ['moved-a']);
    answer = () => ({ status: 302, location: '/elsewhere' });
    // Act: one attempt, then the receiver is fixed and the message comes back.
    const first = await consume(300, 1_000);
    const record = await ledger.get('moved-a', 'moved');
    answer = () => ({ status: 204 });
    const second = await consume(300, 10_000);
    // Assess
    expect(first.failedAttempts).toBeGreaterThanOrEqual(1);
    expect(record).toMatchObject({ status: 'queued', lastHttpStatus: 302 });
    expect(record?.lastError).toMatch(/answered 302 .*redirect to \/elsewhere, not followed/);
    expect(record?.deliveredAt).toBeUndefined();
    expect(second.delivered).toBe(1);
    expect(requests.every((r) => r.method === 'POST' && r.url === '/hook' && r.id === id)).toBe(true);
    expect(await ledger.get('moved-a', 'moved')).toMatchObject({ status: 'delivered', httpStatus: 204 });
  });
});

describe('3. a slow webhook', () => {
  it('the local queue hides a message at least six times the webhook timeout, as on AWS', async () => {
    expect(LOCAL_RESOURCES.visibilityTimeoutSeconds * 1000).toBeGreaterThanOrEqual(VISIBILITY_TIMEOUT_FACTOR * DEFAULT_WEBHOOK_TIMEOUT_MS);
    const { Attributes = {} } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: process.env.OUTREACH_QUEUE_URL, AttributeNames: ['VisibilityTimeout'] }),
    );
    expect(Number(Attributes.VisibilityTimeout) * 1000).toBeGreaterThanOrEqual(VISIBILITY_TIMEOUT_FACTOR * DEFAULT_WEBHOOK_TIMEOUT_MS);
  });

  it('a receiver that processes the POST but answers late gets the same webhook-id and body again, never while the first is in flight', async () => {
    // Prepare: the first answer comes after the 300 ms timeout.
    const [id] = await queueRun('slow', ['slow-a']);
    let calls = 0;
    answer = () => (calls++ === 0 ? { status: 200, delayMs: 800 } : { status: 204 });
    // Act
    const result = await consume(300, 10_000);
    // Assess: two POSTs of the one message, same id and body, both signed; the ledger has one delivery.
    expect(result.delivered).toBe(1);
    expect(requests).toHaveLength(2);
    const [first, second] = requests;
    expect([first?.id, second?.id]).toEqual([id, id]);
    expect(second?.body.equals(first?.body as Buffer)).toBe(true);
    const secret = await localWebhookSecret(dataDir);
    expect(requests.every((r) => verifyWebhook(r.body, r.headers, secret))).toBe(true);
    // The retry waited out the visibility timeout (6 × 300 ms), not just the webhook timeout.
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(VISIBILITY_TIMEOUT_FACTOR * 300 - 100);
    expect(await ledger.get('slow-a', 'slow')).toMatchObject({ status: 'delivered', attempts: 2 });
  });
});

describe('5. state files never block a data dir', () => {
  const openWith = async (setup: (dir: string) => Promise<void>) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-state-'));
    await setup(dir);
    const warnings: string[] = [];
    const other = await openLocalStack(dir, { applyEnv: false, warn: (w) => warnings.push(w) });
    await other.close();
    const files = await readdir(dir);
    await rm(dir, { recursive: true, force: true });
    return { warnings, files };
  };

  it('a truncated sqs-snapshot.json (older versions) is moved aside with a warning', async () => {
    const { warnings, files } = await openWith((dir) => writeFile(path.join(dir, 'sqs-snapshot.json'), '{"churnguard-outreach":[{"bo'));
    expect(warnings.join('\n')).toMatch(/sqs-snapshot\.json .*could not be read .*moved aside/);
    expect(files.some((f) => f.startsWith('sqs-snapshot.json.corrupt-'))).toBe(true);
  });

  it('a truncated stack.json is moved aside with a warning', async () => {
    const { warnings, files } = await openWith((dir) => writeFile(path.join(dir, 'stack.json'), '{"pid": 12'));
    expect(warnings.join('\n')).toMatch(/stack\.json .*could not be read/);
    expect(files.some((f) => f.startsWith('stack.json.corrupt-'))).toBe(true);
  });

  it('a stack.lock naming a live but unrelated PID is taken over (older bare-PID locks too)', async () => {
    const sleeper = spawn('sleep', ['30']);
    try {
      const started = Date.now();
      const bare = await openWith(async (dir) => {
        const lock = path.join(dir, 'stack.lock');
        await writeFile(lock, String(sleeper.pid));
        // Written an hour ago, before that process started: it cannot be the lock's owner.
        await utimes(lock, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
      });
      const json = await openWith((dir) => writeFile(path.join(dir, 'stack.lock'), JSON.stringify({ pid: sleeper.pid, startTime: '1' })));
      expect(bare.warnings.join('\n')).toMatch(/stack\.lock named process \d+, which is no longer running it: taken over/);
      expect(json.warnings.join('\n')).toMatch(/taken over/);
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('a torn last journal line is dropped quietly; a corrupt one inside is kept aside with a warning', async () => {
    const put = (id: string) => `${JSON.stringify({ op: 'put', q: LOCAL_RESOURCES.queueName, id, body: id, at: Date.now() })}\n`;
    const torn = await openWith((dir) => writeFile(path.join(dir, QUEUE_JOURNAL), `${put('a')}${put('b')}{"op":"put","q":"chu`));
    expect(torn.warnings).toEqual([]);
    const corrupt = await openWith((dir) => writeFile(path.join(dir, QUEUE_JOURNAL), `${put('a')}garbage\n${put('b')}`));
    expect(corrupt.warnings.join('\n')).toMatch(/sqs-journal\.ndjson had 1 unreadable line/);
    expect(corrupt.files.some((f) => f.startsWith(`${QUEUE_JOURNAL}.corrupt-`))).toBe(true);
  });
});

describe('6. an outage parks messages in the DLQ', () => {
  it('they are visible (status, dlq), marked failed with the reason after the last send, and redriven to delivery', async () => {
    // Prepare: the webhook is down; three receives each, then the DLQ.
    const ids = await queueRun('outage', ['out-a', 'out-b']);
    answer = () => ({ status: 503 });
    await consume(200, 15_000);
    const deadLetters = new SqsDeadLetterQueue(clients.sqs, process.env.OUTREACH_QUEUE_URL as string);
    // Act + Assess: visible
    const status = await outreachStatus(ledger, { runId: 'outage', deadLetters: () => deadLetters.depth() });
    expect(status.runs).toEqual([
      {
        runId: 'outage',
        total: 2,
        byState: { claimed: 0, queued: 2, delivered: 0, failed: 0, control: 0 },
        byPlaybook: expect.any(Object),
      },
    ]);
    expect(status.deadLetters).toBe(2);
    expect((await deadLetters.peek()).map((l) => l.dedupId).sort()).toEqual(ids.sort());
    // Failed, with the reason, once its sends are used up.
    const reconciled = await reconcileOutreach(reconcileDeps(), { resendAfterMs: 0, maxSends: 1 });
    expect(reconciled).toMatchObject({ failed: 2, deadLetters: 2 });
    const failed = await ledger.get('out-a', 'outage');
    expect(failed?.status).toBe('failed');
    expect(failed?.failureReason).toMatch(/not delivered after 1 send.*3 delivery attempts, the last one: webhook answered 503/);
    // The webhook is back: a redrive delivers them, and delivered wins over failed.
    answer = () => ({ status: 204 });
    expect(await deadLetters.redrive({ maxWaitMs: 15_000 })).toMatchObject({ status: 'COMPLETED', moved: 2 });
    await consume(1_000, 10_000);
    const final = await outreachStatus(ledger, { runId: 'outage', deadLetters: () => deadLetters.depth() });
    expect(final.runs[0]?.byState).toEqual({ claimed: 0, queued: 0, delivered: 2, failed: 0, control: 0 });
    expect(final.deadLetters).toBe(0);
    expect((await ledger.get('out-a', 'outage'))?.failureReason).toBeUndefined();
  });
});

it('the journal is on disk: the data dir holds it, and no queue snapshot', async () => {
  // Prepare: a message of its own (the file's other scenarios may not have run: `-t`)
  const [dedupId] = await queueRun('journal', ['journal-a']);
  // Assess: journaled before SQS answered the sender
  const files = await readdir(dataDir);
  expect(files).toContain(QUEUE_JOURNAL);
  expect(files).not.toContain('sqs-snapshot.json');
  expect(await readFile(path.join(dataDir, QUEUE_JOURNAL), 'utf8')).toContain(JSON.stringify(dedupId).slice(1, -1));
  expect(await consume(1_000, 10_000)).toMatchObject({ delivered: 1 });
});
