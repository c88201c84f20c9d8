/**
 * Benchmark: store → feature matrices at scale.
 *
 * Loads ≥10,000 simulated customers with ≥1,000,000 events into the embedded DynamoDB once
 * (cached under .churnguard-bench/features, reused by later runs), then measures in the same run:
 *   1. baseline: a parallel Scan that only reads histories (scanCustomerHistories, no features);
 *   2. the real thing: the same Scan feeding buildDatasets (4 training cutoffs + validation + scoring).
 * Prints customers/s and events/s of both, the ratio of (2) to the baseline, the time the feature
 * code itself took (time spent inside the consumer between histories), and peak RSS of each pass:
 * memory holds one customer per segment plus the rows, never all events.
 *
 * Usage: npm run bench:features [-- --customers 10000 --days 75 --segments 4 --reload --load-only]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAwsClients } from '../adapters/aws/clients.ts';
import { type ScanStats, scanCustomerHistories } from '../adapters/aws/customerScan.ts';
import { DynamoEventStore } from '../adapters/aws/eventStore.ts';
import { openLocalStack } from '../cli/local/localStack.ts';
import type { ChurnEvent } from '../model/events/schemas.ts';
import { buildDatasets } from '../model/features/datasets.ts';
import type { CustomerHistory } from '../model/features/history.ts';
import { simulateCustomers, simulationWindow } from '../model/simulate/index.ts';

const { values: args } = parseArgs({
  options: {
    customers: { type: 'string', default: '10000' },
    days: { type: 'string', default: '75' },
    segments: { type: 'string', default: '4' },
    reload: { type: 'boolean', default: false },
    'load-only': { type: 'boolean', default: false },
    'serve-stack': { type: 'string' },
  },
});
const customers = Number(args.customers);
const days = Number(args.days);
const segments = Number(args.segments);
const dataDir = path.resolve('.churnguard-bench', `features-${customers}c-${days}d`);
const marker = path.join(dataDir, 'loaded.json');
const simulation = { customers, days, seed: 7 };

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000).toLocaleString('en-US');

/** Peak RSS while `fn` runs, sampled every 50 ms. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ result: T; peakRss: number }> {
  let peakRss = process.memoryUsage.rss();
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  try {
    const result = await fn();
    return { result, peakRss: Math.max(peakRss, process.memoryUsage.rss()) };
  } finally {
    clearInterval(timer);
  }
}

async function load(store: DynamoEventStore): Promise<{ customers: number; events: number }> {
  let events = 0;
  let batch: ChurnEvent[] = [];
  const started = performance.now();
  const flush = async () => {
    const { failed } = await store.putEvents(batch);
    if (failed.length > 0) throw new Error(`${failed.length} events not stored: ${failed[0]?.reason}`);
    events += batch.length;
    batch = [];
    if (process.stderr.isTTY)
      process.stderr.write(`\rloading: ${events.toLocaleString('en-US')} events (${rate(events, performance.now() - started)}/s)`);
  };
  for (const customer of simulateCustomers(simulation)) {
    batch.push(...customer.events);
    if (batch.length >= 5000) await flush();
  }
  await flush();
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(
    `loaded ${events.toLocaleString('en-US')} events of ${customers.toLocaleString('en-US')} customers in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  return { customers, events };
}

/** Wraps a stream of histories to time the consumer: the time between receiving a history and asking for the next. */
function timedConsumer(
  source: AsyncIterable<CustomerHistory>,
  clock: { computeMs: number; events: number },
): AsyncIterable<CustomerHistory> {
  return {
    async *[Symbol.asyncIterator]() {
      for await (const history of source) {
        clock.events += history.events.length;
        const handedOver = performance.now();
        yield history;
        clock.computeMs += performance.now() - handedOver;
      }
    },
  };
}

/**
 * The emulators run in a child process, as a database would: dynalite is CPU-bound, and in the
 * same thread it would compete with the feature code being measured (and load 2× slower).
 */
async function startStackProcess(dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('bench/features.ts'), '--serve-stack', dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the stack process exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
  });
  return child;
}

/** Child mode: hold the stack open until the parent closes our stdin. */
async function serveStack(dir: string): Promise<void> {
  const stack = await openLocalStack(dir);
  process.stdout.write('ready\n');
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
  await stack.close();
  process.exit(0);
}

async function main(): Promise<void> {
  if (args.reload) await rm(dataDir, { recursive: true, force: true });
  const child = await startStackProcess(dataDir);
  const stack = await openLocalStack(dataDir);
  try {
    const { documents } = createAwsClients();
    const tableName = process.env.TABLE_NAME ?? 'churnguard';
    const loaded = existsSync(marker)
      ? (JSON.parse(await readFile(marker, 'utf8')) as { customers: number; events: number })
      : await load(new DynamoEventStore(documents, { tableName, batchWrite: { concurrency: 8 } }));
    await writeFile(marker, JSON.stringify(loaded));
    if (args['load-only']) return;
    if (loaded.customers < 10_000 || loaded.events < 1_000_000)
      console.warn(`note: ${loaded.customers} customers / ${loaded.events} events is below the 10,000 / 1,000,000 target`);
    const asOf = simulationWindow(simulation).end;
    const rssBefore = process.memoryUsage.rss();

    // 1. Baseline: read every history, compute nothing.
    const readStats: ScanStats = { pages: 0, items: 0, customers: 0, readMs: 0 };
    const readStarted = performance.now();
    const read = await withPeakRss(async () => {
      let events = 0;
      for await (const h of scanCustomerHistories(documents, { tableName, totalSegments: segments, stats: readStats }))
        events += h.events.length;
      return events;
    });
    const readMs = performance.now() - readStarted;

    // 2. Read and build the three matrices.
    const clock = { computeMs: 0, events: 0 };
    const fullStarted = performance.now();
    const full = await withPeakRss(() =>
      buildDatasets(timedConsumer(scanCustomerHistories(documents, { tableName, totalSegments: segments }), clock), {
        asOf,
        horizonDays: 30,
        churn: { kind: 'cancelled' },
      }),
    );
    const fullMs = performance.now() - fullStarted;
    const d = full.result;
    const rows = d.train.customerIds.length + d.validation.customerIds.length + d.scoring.customerIds.length;

    console.log(
      `\nfeatures benchmark: ${readStats.customers.toLocaleString('en-US')} customers, ${read.result.toLocaleString('en-US')} events, ${segments} Scan segments, embedded dynalite (child process)`,
    );
    console.log(
      `  baseline scan only      : ${(readMs / 1000).toFixed(1)} s  ${rate(readStats.customers, readMs)} customers/s  ${rate(read.result, readMs)} events/s  peak RSS ${mb(read.peakRss)}`,
    );
    console.log(
      `  scan + buildDatasets    : ${(fullMs / 1000).toFixed(1)} s  ${rate(readStats.customers, fullMs)} customers/s  ${rate(clock.events, fullMs)} events/s  peak RSS ${mb(full.peakRss)}`,
    );
    console.log(
      `  of which feature code   : ${(clock.computeMs / 1000).toFixed(1)} s  (${rate(clock.events, clock.computeMs)} events/s, 6 cutoffs each); reading ≈ ${((fullMs - clock.computeMs) / 1000).toFixed(1)} s`,
    );
    console.log(`  ratio to baseline       : ${(fullMs / readMs).toFixed(2)}× the time of reading alone`);
    console.log(
      `  rows                    : train ${d.train.customerIds.length}, validation ${d.validation.customerIds.length}, scoring ${d.scoring.customerIds.length} (${rows} rows × ${d.train.numericColumns.length + d.train.categoricalColumns.length} columns)`,
    );
    console.log(
      `  memory                  : RSS ${mb(rssBefore)} before, peak ${mb(full.peakRss)} (+${mb(full.peakRss - rssBefore)}) for ${read.result.toLocaleString('en-US')} events (scan alone peaks at ${mb(read.peakRss)}: the rest is the ${rows} rows)`,
    );
  } finally {
    await stack.close();
    child.stdin?.end();
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

if (args['serve-stack']) await serveStack(args['serve-stack']);
else await main();
