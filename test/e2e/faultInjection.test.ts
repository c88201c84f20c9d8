import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { DynamoRiskStore } from '../../adapters/aws/riskStore.ts';
import { newWebhookSecret, verifyWebhook } from '../../adapters/webhook/webhookSignature.ts';
import type { OutreachStatusReport } from '../../app/outreachStatus.ts';
import { openLocalStack } from '../../cli/local/localStack.ts';
import { seededRandom } from '../../model/nn/random.ts';
import { scoredCustomer } from '../unit/outreachFactories.ts';

/**
 * Fault injection through the public interface: the CLI as child processes on one data dir, each
 * owning the local stack, `kill -9`-ed at seeded random moments while `run` claims and queues and
 * while `outreach consume` delivers to a receiver that fails, times out and redirects at random.
 * Then recovery with the same commands, and the receiver's count after deduplication on
 * `webhook-id`: every selected customer exactly once, none lost, and `outreach status --json`
 * accounts for every record, none left queued. `FAULT_SEED=<n>` replays another seed; `FAULT_DEBUG=1`
 * prints each child's end, the kill points and the ledger between the phases.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const SEED = Number(process.env.FAULT_SEED ?? 1313);
const CUSTOMERS = 24; // 16 of them above the threshold
const RUN_ID = 'fault-run';
const AS_OF = '2026-07-01';
const WEBHOOK_TIMEOUT_MS = 400;
const KILLS = 10;

const random = seededRandom(SEED);
const secret = newWebhookSecret();
let dataDir: string;
let cli: string;
let receiver: Server;
let webhookUrl: string;
let healthy = false;
/** webhook-id → times the receiver processed it (a 2xx, or a slow answer after processing). */
const processed = new Map<string, number>();
let badSignatures = 0;
let followedRedirects = 0;
const expected: string[] = [];

function startReceiver(): Promise<void> {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/moved') {
        followedRedirects++;
        return void res.writeHead(200).end();
      }
      const body = Buffer.concat(chunks);
      if (!verifyWebhook(body, req.headers, secret)) {
        badSignatures++;
        return void res.writeHead(401).end();
      }
      const id = String(req.headers['webhook-id']);
      const roll = healthy ? 1 : random();
      if (roll < 0.25) return void res.writeHead(500).end('down');
      if (roll < 0.35) return void res.writeHead(302, { location: '/moved' }).end();
      processed.set(id, (processed.get(id) ?? 0) + 1);
      // Processed, but the answer comes after the sender's timeout: it will try again.
      if (roll < 0.45) return void setTimeout(() => res.writeHead(200).end(), WEBHOOK_TIMEOUT_MS * 2);
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) => {
    receiver.listen(0, '127.0.0.1', () => {
      const address = receiver.address();
      if (address && typeof address === 'object') webhookUrl = `http://127.0.0.1:${address.port}/crm`;
      resolve();
    });
  });
}

const childEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  CHURNGUARD_DATA_DIR: dataDir,
  OUTREACH_WEBHOOK_SECRET: secret,
  OUTREACH_WEBHOOK_TIMEOUT_MS: String(WEBHOOK_TIMEOUT_MS),
  OUTREACH_RESEND_AFTER_SECONDS: '3',
  OUTREACH_MAX_SENDS: '50',
  // Delivery under faults is the subject: no control group, every selected customer is sent.
  OUTREACH_CONTROL_SHARE: '0',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  ...extra,
});

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function launch(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, [cli, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const started = Date.now();
  const done = new Promise<Finished>((resolve) =>
    child.on('close', (code, signal) => {
      if (process.env.FAULT_DEBUG) console.log(`${args.slice(0, 2).join(' ')}: ${signal ?? code} after ${Date.now() - started} ms`);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, done };
}

async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  const result = await launch(args, env).done;
  if (result.code !== 0) throw new Error(`churnguard ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether the child with this PID has opened the stack (its stack.json is written last). */
async function ownsStack(pid: number | undefined): Promise<boolean> {
  const text = await readFile(path.join(dataDir, 'stack.json'), 'utf8').catch(() => '');
  return pid !== undefined && text.includes(`"pid": ${pid},`);
}

const SEND = ['run', '--mode', 'send', '--run-id', RUN_ID, '--as-of', AS_OF, '--budget', '100'];
const consume = (maxWait: string) => ['outreach', 'consume', '--webhook', webhookUrl, '--max-wait', maxWait];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-faults-'));
  // The CLI, bundled once so that each child starts in about a second (packages stay external).
  const outDir = path.join(ROOT, 'test-artifacts', `fault-cli-${process.pid}`);
  await mkdir(outDir, { recursive: true });
  cli = path.join(outDir, 'main.js');
  await build({
    entryPoints: [path.join(ROOT, 'cli/main.ts')],
    bundle: true,
    splitting: true, // what the CLI imports on use stays loaded on use
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: outDir,
    outExtension: { '.js': '.js' },
    logLevel: 'warning',
  });
  // A scored business: RISK items of the run, as its score-segment workers would have written them.
  const stack = await openLocalStack(dataDir);
  try {
    const customers = Array.from({ length: CUSTOMERS }, (_, i) =>
      scoredCustomer({ customerId: `cus-${String(i).padStart(2, '0')}`, risk: i % 3 === 0 ? 0.1 : 0.4 + (i % 5) / 10 }),
    );
    await new DynamoRiskStore(createAwsClients().documents, process.env.TABLE_NAME as string).putRisks(
      customers.map((customer) => ({
        customer,
        playbook: 'payment_recovery',
        runId: RUN_ID,
        scoredAt: new Date().toISOString(),
        threshold: 0.3,
      })),
    );
    expected.push(...customers.filter((c) => c.risk >= 0.3).map((c) => `${RUN_ID}:${c.customerId}`));
  } finally {
    await stack.close();
  }
  await startReceiver();
});

afterAll(async () => {
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  await rm(dataDir, { recursive: true, force: true });
  await rm(path.dirname(cli), { recursive: true, force: true });
});

describe('kill -9 at seeded random points, a faulty receiver, then recovery', () => {
  it('delivers every selected customer exactly once after dedup on webhook-id, loses none, and accounts for every record', async () => {
    // Act 1: chaos. The first kills land in `run` (claims, queueing), the others in `outreach consume`.
    const kills: string[] = [];
    for (let attempt = 0; kills.length < KILLS && attempt < 3 * KILLS; attempt++) {
      const args = kills.length < 3 ? SEND : kills.length % 4 === 3 ? ['outreach', 'reconcile'] : consume('20s');
      const { child, done } = launch(args);
      // One kill in five while the child starts (lock, journal replay); the others once it owns the stack and works.
      const whileStarting = random() < 0.2;
      const delayMs = Math.round(whileStarting ? 200 + random() * 1_000 : random() * 800);
      let exited = false;
      void done.then(() => {
        exited = true;
      });
      const killer = (async () => {
        if (!whileStarting) while (!exited && !(await ownsStack(child.pid))) await sleep(50);
        await sleep(delayMs);
        if (!exited) child.kill('SIGKILL');
      })();
      const result = await done;
      await killer;
      if (result.signal === 'SIGKILL') kills.push(`${args.slice(0, 2).join(' ')} ${whileStarting ? 'starting' : 'working'} +${delayMs} ms`);
      else expect(result.code, result.stderr).toBe(0);
    }
    expect(kills).toHaveLength(KILLS);
    if (process.env.FAULT_DEBUG) {
      const mid = JSON.parse((await runCli(['outreach', 'status', '--json'])).stdout) as OutreachStatusReport;
      console.log(kills, mid.totals, mid.deadLetters, [...processed.values()]);
    }

    // Act 2: recovery, with the receiver healthy again: the run again (its reconcile re-sends what is open and
    // redrives the DLQ, its claims resume), then deliver; reconcile and deliver again while anything is open.
    healthy = true;
    await runCli([...SEND, '--redrive'], { OUTREACH_RESEND_AFTER_SECONDS: '0' });
    let report: OutreachStatusReport | undefined;
    for (let round = 0; round < 4; round++) {
      if (round > 0) await runCli(['outreach', 'reconcile', '--redrive', '--older-than', '0s']);
      await runCli(consume('15s'));
      report = JSON.parse((await runCli(['outreach', 'status', '--json'])).stdout) as OutreachStatusReport;
      if (process.env.FAULT_DEBUG) console.log('round', round, report.totals, report.deadLetters);
      if (report.totals.queued + report.totals.claimed === 0) break;
    }

    // Assess: at the receiver, with valid signatures, each selected customer once after dedup on webhook-id.
    expect(badSignatures).toBe(0);
    expect(followedRedirects).toBe(0);
    expect([...processed.keys()].sort()).toEqual([...expected].sort());
    // The ledger accounts for every record: all delivered, none stuck in queued or claimed, none failed.
    expect(report?.totals).toEqual({ claimed: 0, queued: 0, delivered: expected.length, failed: 0, control: 0 });
    expect(report?.records.map((r) => r.dedupId).sort()).toEqual([...expected].sort());
    expect(report?.records.every((r) => r.status === 'delivered' && typeof r.deliveredAt === 'string')).toBe(true);
  }, 60_000);
});
