/**
 * Ingest throughput (issue 2): events/s through the ingest handler (JSON bodies of 500 events,
 * parse + validate + BatchWriteItem) against raw BatchWriteItem of the same kind of items, on the
 * same emulator in the same run. Target: the handler reaches at least 80% of raw.
 *
 *   npm run bench:ingest                    # 20,000 events per path and round, 2 rounds
 *   npm run bench:ingest -- --events 5000 --rounds 1
 *
 * Fairness: both paths write 500-event groups, 4 groups in flight, each group as 25-item
 * BatchWriteItem calls with 4 in flight (the store's setting), through the same DynamoDB
 * Document client. The raw path gets its items built before the clock starts; the handler path
 * pays for reading JSON, validation, key building and marshalling. dynalite runs in a child
 * process (`churnguard serve`), as DynamoDB would be remote; rounds alternate raw/handler so
 * that drift in machine load hits both (segments of 4,000 events, order swapped each segment).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { eventToItem } from '../adapters/aws/eventStore.ts';
import { openLocalStack } from '../cli/local/localStack.ts';
import { ChurnEvent, type ChurnEventInput } from '../model/events/schemas.ts';

const { values: args } = parseArgs({ options: { events: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '2' } } });
const EVENTS = Number(args.events);
const ROUNDS = Number(args.rounds);
const GROUP = 500;
const IN_FLIGHT = 4;
const BATCH = 25;
/** Events per alternating segment: 8 bodies, two waves of 4 in flight. */
const SEGMENT = 4000;
const ROOT = path.resolve(import.meta.dirname, '..');

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** A realistic mix of event types; ids unique per path and round so every write is a fresh item. */
function makeEvents(tag: string, n: number): ChurnEventInput[] {
  return Array.from({ length: n }, (_, i) => {
    const customerId = `${tag}-c${i % 997}`;
    const occurredAt = new Date(Date.UTC(2026, 0, 1) + i * 37_000).toISOString();
    const base = { eventId: `${tag}-e${i}`, customerId, occurredAt };
    switch (i % 4) {
      case 0:
        return { ...base, type: 'session_started', properties: { durationSeconds: 60 + (i % 900) } };
      case 1:
        return { ...base, type: 'feature_used', properties: { feature: `feature-${i % 12}`, quantity: 1 + (i % 5) } };
      case 2:
        return { ...base, type: 'payment_succeeded', properties: { amountCents: 4900, currency: 'USD' } };
      default:
        return { ...base, type: 'support_ticket_opened', properties: { ticketId: `T-${i}`, priority: 'normal' } };
    }
  });
}

const groups = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/** Runs `work` on every job with `limit` in flight. */
async function pool<T>(jobs: T[], limit: number, work: (job: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, jobs.length) }, async () => {
      for (let job = jobs[next++]; job !== undefined; job = jobs[next++]) await work(job);
    }),
  );
}

function request(body: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /events',
    rawPath: '/events',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '0',
      apiId: 'bench',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: 'POST', path: '/events', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: 'r',
      routeKey: 'POST /events',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
  };
}

/** Seconds to write `events` with raw BatchWriteItem (items built before the clock starts). */
async function rawRun(documents: DynamoDBDocumentClient, table: string, events: ChurnEventInput[]): Promise<number> {
  const ingestedAt = new Date();
  const items = events.map((e) => eventToItem(ChurnEvent.parse(e), { ingestedAt }));
  const started = performance.now();
  await pool(groups(items, GROUP), IN_FLIGHT, (group) =>
    pool(groups(group, BATCH), 4, async (batch) => {
      let pending: Array<Record<string, unknown>> = batch as unknown as Array<Record<string, unknown>>;
      while (pending.length > 0) {
        const { UnprocessedItems } = await documents.send(
          new BatchWriteCommand({ RequestItems: { [table]: pending.map((Item) => ({ PutRequest: { Item } })) } }),
        );
        pending = (UnprocessedItems?.[table] ?? []).map((r) => r.PutRequest?.Item ?? {});
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/** Seconds to ingest `events` through the handler, as JSON bodies of 500 (serialised before the clock starts). */
async function handlerRun(
  handler: (e: APIGatewayProxyEventV2) => Promise<{ statusCode?: number; body?: string }>,
  events: ChurnEventInput[],
): Promise<number> {
  const bodies = groups(events, GROUP).map((g) => JSON.stringify(g));
  const started = performance.now();
  await pool(bodies, IN_FLIGHT, async (body) => {
    const result = await handler(request(body));
    if (result.statusCode !== 200) throw new Error(`handler answered ${result.statusCode}: ${result.body?.slice(0, 300)}`);
  });
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-bench-ingest-'));
  const server = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'serve', '--port', '0', '--data-dir', dataDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
      server.on('exit', () => reject(new Error('the emulator process exited early')));
    });
    await openLocalStack(dataDir); // joins the child's stack and points the SDK at it
    const { handler } = await import('../lambdas/ingest/handler.ts');
    const { awsClients } = await import('../adapters/aws/clients.ts');
    const table = process.env.TABLE_NAME ?? 'churnguard';
    const documents = awsClients().documents;
    console.error('warming up ...');
    await rawRun(documents, table, makeEvents('warm-raw', 2 * SEGMENT));
    await handlerRun(handler, makeEvents('warm-handler', 2 * SEGMENT));
    // Machine load drifts (other processes share the cores): alternate short segments of each
    // path, swapping which goes first, so that drift hits both alike.
    const raw: number[] = [];
    const viaHandler: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      let rawSeconds = 0;
      let handlerSeconds = 0;
      const segments = Math.ceil(EVENTS / SEGMENT);
      for (let segment = 0; segment < segments; segment++) {
        const rawEvents = makeEvents(`raw${round}s${segment}`, SEGMENT);
        const handlerEvents = makeEvents(`handler${round}s${segment}`, SEGMENT);
        if ((segment + round) % 2 === 0) {
          rawSeconds += await rawRun(documents, table, rawEvents);
          handlerSeconds += await handlerRun(handler, handlerEvents);
        } else {
          handlerSeconds += await handlerRun(handler, handlerEvents);
          rawSeconds += await rawRun(documents, table, rawEvents);
        }
      }
      raw.push((segments * SEGMENT) / rawSeconds);
      viaHandler.push((segments * SEGMENT) / handlerSeconds);
      console.log(
        `round ${round}: raw BatchWriteItem ${raw.at(-1)?.toFixed(0)} events/s, ingest handler ${viaHandler.at(-1)?.toFixed(0)} events/s`,
      );
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ratio = mean(viaHandler) / mean(raw);
    console.log(
      `\n${Math.ceil(EVENTS / SEGMENT) * SEGMENT} events per path and round in segments of ${SEGMENT}, ${ROUNDS} round(s), bodies of ${GROUP}, ${IN_FLIGHT} requests in flight, dynalite in a child process`,
    );
    console.log(`raw BatchWriteItem (baseline): ${mean(raw).toFixed(0)} events/s`);
    console.log(`ingest handler:                ${mean(viaHandler).toFixed(0)} events/s`);
    console.log(`ratio handler / raw:           ${(ratio * 100).toFixed(1)}% (target >= 80%: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
