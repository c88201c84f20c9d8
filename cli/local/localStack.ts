import { mkdir, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { resetAwsClients } from '../../adapters/aws/clients.ts';
import { startDurableSqs } from './durableSqs.ts';
import { ensureLocalResources, LOCAL_RESOURCES, migrateLegacySnapshot } from './localResources.ts';
import { acquireLock, currentOwner, lockHolder, ownerAlive, ProcessOwner, releaseLock } from './stackLock.ts';
import { readStateFile, type Warn, warnOnStderr, writeFileAtomic } from './stateFiles.ts';

const require = createRequire(import.meta.url);

/** Endpoints of the three emulated services, as a client needs them. */
export const StackEndpoints = z.object({ dynamodb: z.url(), s3: z.url(), sqs: z.url() });
export type StackEndpoints = z.output<typeof StackEndpoints>;

const StackFile = z.object({ pid: z.number().int(), owner: ProcessOwner.optional(), endpoints: StackEndpoints, startedAt: z.string() });

export interface LocalStack {
  dataDir: string;
  endpoints: StackEndpoints;
  /** True when this process runs the emulators; false when it joined another process's stack. */
  owner: boolean;
  close(): Promise<void>;
}

export interface OpenLocalStackOptions {
  /** Set the `AWS_*` variables of this process so that `createAwsClients` reaches the stack. */
  applyEnv?: boolean;
  /** Where notes about unreadable state files go (default stderr). */
  warn?: Warn;
  /** How long to wait for another process that holds the lock to start the stack (default 10 s). */
  lockWaitMs?: number;
}

const STACK_FILE = 'stack.json';
const LOCK_FILE = 'stack.lock';

const portOpen = (url: string): Promise<boolean> =>
  new Promise((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });

async function readRunningStack(dataDir: string, warn: Warn): Promise<StackEndpoints | undefined> {
  const stack = await readStateFile(path.join(dataDir, STACK_FILE), StackFile, warn);
  if (!stack || !ownerAlive(stack.owner ?? { pid: stack.pid })) return undefined;
  const { endpoints } = stack;
  const open = await Promise.all([portOpen(endpoints.dynamodb), portOpen(endpoints.s3), portOpen(endpoints.sqs)]);
  return open.every(Boolean) ? endpoints : undefined;
}

const listen = (server: Server): Promise<string> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('emulator has no TCP address'));
      resolve(`http://127.0.0.1:${address.port}`);
    });
  });

const closeServer = (server: { close(cb: (err?: Error) => void): unknown }): Promise<void> =>
  new Promise((resolve) => server.close(() => resolve()));

/** Points this process's AWS SDK clients at the stack. */
export function applyStackEnv(endpoints: StackEndpoints): void {
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoints.dynamodb;
  process.env.AWS_ENDPOINT_URL_S3 = endpoints.s3;
  process.env.AWS_ENDPOINT_URL_SQS = endpoints.sqs;
  // s3rver accepts only these credentials; dynalite and the SQS emulator accept any.
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.S3_FORCE_PATH_STYLE = 'true';
  process.env.TABLE_NAME = LOCAL_RESOURCES.tableName;
  process.env.BUCKET_NAME = LOCAL_RESOURCES.bucketName;
  process.env.OUTREACH_QUEUE_URL = `${endpoints.sqs}/${LOCAL_RESOURCES.accountId}/${LOCAL_RESOURCES.queueName}`;
  process.env.OUTREACH_DLQ_URL = `${endpoints.sqs}/${LOCAL_RESOURCES.accountId}/${LOCAL_RESOURCES.dlqName}`;
  resetAwsClients();
}

async function startEmulators(
  dataDir: string,
  warn: Warn,
): Promise<{ endpoints: StackEndpoints; restoreQueues(): number; stop(): Promise<void> }> {
  const dynalite = require('dynalite')({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    path: path.join(dataDir, 'dynamodb'),
  }) as Server;
  const S3rver = require('s3rver') as new (options: object) => { run(): Promise<{ port: number }>; close(): Promise<void> };
  await mkdir(path.join(dataDir, 's3'), { recursive: true });
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: path.join(dataDir, 's3'), silent: true });
  const sqs = await startDurableSqs({ dataDir, accountId: LOCAL_RESOURCES.accountId, warn });
  const endpoints = {
    dynamodb: await listen(dynalite),
    s3: `http://127.0.0.1:${(await s3.run()).port}`,
    sqs: sqs.endpoint,
  };
  return {
    endpoints,
    restoreQueues: () => sqs.restore(),
    async stop() {
      await Promise.all([closeServer(dynalite), s3.close(), sqs.close()]);
    },
  };
}

/**
 * Opens the embedded stack on `dataDir`: joins the one another process is running there
 * (`churnguard serve`), or starts dynalite, s3rver and the SQS emulator in this process.
 * State lives in the data dir, so a later run continues where this one stopped, whatever stopped
 * it: DynamoDB (LevelDB) and S3 write to disk, and every SQS message is journaled before its
 * sender is told it was sent (`durableSqs.ts`). State files are written atomically; an unreadable
 * one is moved aside with a warning. The lock names its owner by PID and process start time, so a
 * lock left by a dead process, or naming a PID that now belongs to another process, clears itself.
 */
export async function openLocalStack(dataDir: string, options: OpenLocalStackOptions = {}): Promise<LocalStack> {
  const dir = path.resolve(dataDir);
  await mkdir(dir, { recursive: true });
  const applyEnv = options.applyEnv ?? true;
  const warn = options.warn ?? warnOnStderr;
  const deadline = Date.now() + (options.lockWaitMs ?? 10_000);
  for (;;) {
    const running = await readRunningStack(dir, warn);
    if (running) {
      if (applyEnv) applyStackEnv(running);
      return { dataDir: dir, endpoints: running, owner: false, close: async () => {} };
    }
    if (await acquireLock(path.join(dir, LOCK_FILE), warn)) {
      try {
        return await startOwnedStack(dir, applyEnv, warn);
      } catch (error) {
        await releaseLock(path.join(dir, LOCK_FILE));
        throw error;
      }
    }
    if (Date.now() >= deadline) break;
    // Another process is starting the stack: wait for its stack.json.
    await new Promise((r) => setTimeout(r, 200));
  }
  const holder = await lockHolder(path.join(dir, LOCK_FILE));
  const who = holder ? `process ${holder.pid}${holder.host ? ` on ${holder.host}` : ''}` : 'another process';
  throw new Error(
    `Could not open the local stack in ${dir}: ${who} holds ${LOCK_FILE} but never became ready; stop it, or use another --data-dir`,
  );
}

async function startOwnedStack(dir: string, applyEnv: boolean, warn: Warn): Promise<LocalStack> {
  await rm(path.join(dir, STACK_FILE), { force: true });
  const emulators = await startEmulators(dir, warn);
  const { endpoints } = emulators;
  const previousEnv = { ...process.env };
  try {
    applyStackEnv(endpoints);
    await ensureLocalResources();
    emulators.restoreQueues();
    await migrateLegacySnapshot(dir, warn);
    const owner = currentOwner();
    await writeFileAtomic(
      path.join(dir, STACK_FILE),
      JSON.stringify({ pid: process.pid, owner, endpoints, startedAt: new Date().toISOString() }, null, 2),
    );
  } catch (error) {
    // Never leave emulators listening (a process that cannot exit) behind a failed start.
    process.env = previousEnv;
    resetAwsClients();
    await emulators.stop();
    throw error;
  }
  if (!applyEnv) {
    process.env = previousEnv;
    resetAwsClients();
  }
  let closed = false;
  return {
    dataDir: dir,
    endpoints,
    owner: true,
    async close() {
      if (closed) return;
      closed = true;
      await rm(path.join(dir, STACK_FILE), { force: true });
      await emulators.stop();
      await releaseLock(path.join(dir, LOCK_FILE));
    },
  };
}
