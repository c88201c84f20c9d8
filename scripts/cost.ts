// `npm run cost [-- --customers N --events-per-customer N --messages N]`: what churnguard costs on AWS,
// per million events ingested and per daily scoring run, from the price table beside this script
// (scripts/prices.us-east-1.json: its date, region and the page each price comes from) and from the
// stack's own settings. Item sizes are measured on simulated events; durations are measured runs of
// the deployed bundles (the figures and the command that gives them are named below). The README
// quotes this script's output.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { eventToItem } from '../adapters/aws/eventStore.ts';
import { ZIP_JOB_MEMORY_MB } from '../cdk/constructs/trainScoreJob.ts';
import { simulateBusiness } from '../model/simulate/index.ts';

const Price = z.object({ usd: z.number().nonnegative(), source: z.string().min(1) });
const PriceTable = z.object({
  region: z.string(),
  currency: z.literal('USD'),
  date: z.string(),
  verified: z.string(),
  prices: z.object({
    lambdaRequestsPerMillion: Price,
    lambdaArmGbSecond: Price,
    httpApiRequestsPerMillion: Price,
    dynamodbWriteRequestUnitsPerMillion: Price,
    dynamodbReadRequestUnitsPerMillion: Price,
    dynamodbStorageGbMonth: Price,
    dynamodbPitrGbMonth: Price,
    s3StorageGbMonth: Price,
    s3PutPerThousand: Price,
    sqsRequestsPerMillion: Price,
    logsIngestedPerGb: Price,
    alarmMetricMonth: Price,
    kmsKeyMonth: Price,
    secretMonth: Price,
  }),
});

/**
 * Figures measured on the deployed bundles in the artifact tier's Lambda-like harness
 * (`npm run test:artifacts`, which prints them), on this 2-core machine, against the local
 * emulators: noisy, and dynalite is slower than DynamoDB, so they err on the high side.
 */
const MEASURED = {
  /** Ingest invocation of 500 events at 1024 MB: median 120–180 ms ("ingest: median … ms per request of 500 events"). */
  ingestMsPer500Events: 180,
  /**
   * The zip job's daily (score-only) run at 2048 MB: 270 customers (≈ 60 events each) in 6.2 s, i.e.
   * ≈ 23 s per 1,000 customers ("job: score-only run of … customers in … ms"). The first run, which
   * also trains, took 11–22 s for 300 customers, with a peak RSS of about 215 MB.
   */
  jobSecondsPer1000Customers: 23,
} as const;

/** The stack's settings the figures depend on (cdk/constructs/*.ts). */
const STACK = {
  ingestMemoryMb: 1024,
  consumerMemoryMb: 512,
  jobMemoryMb: ZIP_JOB_MEMORY_MB,
  /** Consumer invocation per message: a webhook round trip of ~200 ms (depends on the receiver). */
  consumerMsPerMessage: 200,
  /** Alarm metrics: 3 function errors, outreach DLQ, job failures, unstored, refused (2 metrics), silent feed. */
  alarmMetrics: 9,
  /** The alarm topic's key; the stack's other keys are AWS-managed unless encryption=customer-managed. */
  kmsKeys: 1,
  secrets: 1,
} as const;

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '1000000' },
    'events-per-customer': { type: 'string', default: '100' },
    'events-per-request': { type: 'string', default: '100' },
    messages: { type: 'string', default: '100' },
  },
});
const customers = Number(values.customers);
const eventsPerCustomer = Number(values['events-per-customer']);
const eventsPerRequest = Number(values['events-per-request']);
const messages = Number(values.messages);

const table = PriceTable.parse(JSON.parse(readFileSync(path.join(import.meta.dirname, `prices.us-east-1.json`), 'utf8')));
const p = Object.fromEntries(Object.entries(table.prices).map(([name, price]) => [name, price.usd])) as Record<
  keyof z.output<typeof PriceTable>['prices'],
  number
>;

/** Average stored size of an event item, measured on a simulated business (attribute names and values). */
function measuredEventItemBytes(): number {
  const { events } = simulateBusiness({ customers: 200, days: 90, seed: 3 });
  const ingestedAt = new Date();
  const total = events.reduce((sum, event) => {
    const item = eventToItem(event, { ingestedAt, ttlDays: 730 });
    return sum + Object.entries(item).reduce((s, [key, value]) => s + key.length + JSON.stringify(value).length, 0);
  }, 0);
  return total / events.length;
}

const GB = 1024 ** 3;
const eventItemBytes = measuredEventItemBytes();
const lambdaGbSeconds = (ms: number, memoryMb: number) => (ms / 1000) * (memoryMb / 1024);

type Line = [string, number];
const print = (title: string, lines: Line[]) => {
  const total = lines.reduce((sum, [, usd]) => sum + usd, 0);
  console.log(`\n${title}`);
  for (const [label, usd] of lines) console.log(`  ${label.padEnd(76)} $${usd.toFixed(4)}`);
  console.log(`  ${'total'.padEnd(76)} $${total.toFixed(2)}`);
  return total;
};

console.log(`churnguard cost estimate: ${table.region} prices of ${table.date} (scripts/prices.us-east-1.json)`);
console.log(`  ${table.verified}`);
console.log(`  measured: an event item is ${Math.round(eventItemBytes)} bytes on average (< 1 KB: 1 write unit)`);

// Per million events.
const requests = 1e6 / eventsPerRequest;
// Per-event work scales with the batch; ~20 ms per request is fixed (parsing, the watermark update).
const ingestMs = (MEASURED.ingestMsPer500Events / 500) * eventsPerRequest + 20;
print(`Per million events ingested, ${eventsPerRequest} per request (${requests.toLocaleString('en-US')} requests)`, [
  ['HTTP API requests', (requests / 1e6) * p.httpApiRequestsPerMillion],
  ['ingest Lambda requests', (requests / 1e6) * p.lambdaRequestsPerMillion],
  [
    `ingest Lambda duration (${Math.round(ingestMs)} ms × ${STACK.ingestMemoryMb} MB, arm64)`,
    requests * lambdaGbSeconds(ingestMs, STACK.ingestMemoryMb) * p.lambdaArmGbSecond,
  ],
  ['DynamoDB writes (1 WRU per event, 1 per request for the watermark)', ((1e6 + requests) / 1e6) * p.dynamodbWriteRequestUnitsPerMillion],
  ['logs and metrics (~1 KB per request)', ((requests * 1024) / GB) * p.logsIngestedPerGb],
]);
const storedGb = (1e6 * eventItemBytes) / GB;
console.log(
  `  then stored: ${storedGb.toFixed(2)} GB, $${(storedGb * (p.dynamodbStorageGbMonth + p.dynamodbPitrGbMonth)).toFixed(2)} per month with PITR, until the TTL removes them`,
);

// Per daily run.
const tableGb = (customers * eventsPerCustomer * eventItemBytes) / GB;
const readUnits = (tableGb * GB) / 4096 / 2; // eventually consistent Scan: 4 KB per half unit
const jobSeconds = (customers / 1000) * MEASURED.jobSecondsPer1000Customers;
print(
  `Per daily scoring run: ${customers.toLocaleString('en-US')} customers, ${eventsPerCustomer} events each (${tableGb.toFixed(1)} GB scanned)`,
  [
    ['Scan of the table (eventually consistent)', (readUnits / 1e6) * p.dynamodbReadRequestUnitsPerMillion],
    ['RISK item per customer (1–2 KB: 2 WRU)', ((customers * 2) / 1e6) * p.dynamodbWriteRequestUnitsPerMillion],
    [
      `job duration (${Math.round(jobSeconds)} s × ${STACK.jobMemoryMb} MB, arm64${jobSeconds > 900 ? '; beyond 15 min: scale-out' : ''})`,
      lambdaGbSeconds(jobSeconds * 1000, STACK.jobMemoryMb) * p.lambdaArmGbSecond,
    ],
    [
      'run snapshot and summary in S3 (PUTs; ~0.5 KB per customer stored 90 days)',
      (3 / 1000) * p.s3PutPerThousand + ((customers * 512) / GB) * p.s3StorageGbMonth * 3,
    ],
    [
      `outreach: ${messages} messages (SQS, consumer, idempotency and OUT# writes)`,
      ((messages * 3) / 1e6) * p.sqsRequestsPerMillion +
        (messages / 10 / 1e6) * p.lambdaRequestsPerMillion +
        messages * lambdaGbSeconds(STACK.consumerMsPerMessage, STACK.consumerMemoryMb) * p.lambdaArmGbSecond +
        ((messages * 5) / 1e6) * p.dynamodbWriteRequestUnitsPerMillion,
    ],
  ],
);

print('Fixed per month', [
  [`alarms (${STACK.alarmMetrics} alarm metrics)`, STACK.alarmMetrics * p.alarmMetricMonth],
  ['KMS key of the alarm topic', STACK.kmsKeys * p.kmsKeyMonth],
  ['webhook secret', STACK.secrets * p.secretMonth],
]);
