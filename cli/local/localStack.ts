import { mkdir, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { resetAwsClients } from '../../adapters/aws/clients.ts';
import { startDurableSqs } from './durableSqs.ts';
import { describeEndpoints, rememberWrittenEndpoint, SERVICES, type UserEndpoint, userEndpoints } from './environmentEndpoints.ts';
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
  /** True when this process runs the emulators; false when it joined another process's stack or uses the environment's endpoints. */
  owner: boolean;
  /** True when every service comes from the SDK's endpoint variables (no emulator started or joined). */
  external: boolean;
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

/**
 * Points this process's AWS SDK clients at the stack. An endpoint the user set with the SDK's
 * standard variables (`environmentEndpoints.ts`) is kept: that service is theirs. Returns the
 * endpoints in effect.
 */
export function applyStackEnv(endpoints: StackEndpoints): StackEndpoints {
  const fromUser = userEndpoints();
  const effective = { ...endpoints };
  for (const service of SERVICES) {
    const theirs = fromUser[service];
    if (theirs) {
      effective[service] = theirs.url;
      continue;
    }
    process.env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] = endpoints[service];
    rememberWrittenEndpoint(endpoints[service]);
  }
  // s3rver accepts only these credentials; dynalite and the SQS emulator accept any.
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_REGION = 'us-east-1';
  applyResourceEnv(effective.sqs);
  return effective;
}

/** The names of the local resources, for the clients and handlers of this process. */
function applyResourceEnv(sqsEndpoint: string): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.S3_FORCE_PATH_STYLE = 'true';
  process.env.TABLE_NAME = LOCAL_RESOURCES.tableName;
  process.env.BUCKET_NAME = LOCAL_RESOURCES.bucketName;
  process.env.OUTREACH_QUEUE_URL = `${sqsEndpoint}/${LOCAL_RESOURCES.accountId}/${LOCAL_RESOURCES.queueName}`;
  process.env.OUTREACH_DLQ_URL = `${sqsEndpoint}/${LOCAL_RESOURCES.accountId}/${LOCAL_RESOURCES.dlqName}`;
  resetAwsClients();
}

/**
 * Uses services the user already runs (LocalStack, DynamoDB Local, another `churnguard serve`),
 * named by the SDK's endpoint variables: no emulator is started and the data dir's lock is not
 * taken (the lock guards the embedded emulators' files, and none are opened). The user's
 * credentials and region are kept; without any, the emulators' fixed keys and us-east-1 are used.
 * The table, bucket and queues are created when missing.
 */
async function openEnvironmentStack(
  dir: string,
  found: Record<keyof StackEndpoints, UserEndpoint>,
  applyEnv: boolean,
  warn: Warn,
): Promise<LocalStack> {
  warn(`using ${describeEndpoints(found)} set in the environment, instead of starting the embedded emulators`);
  const endpoints = { dynamodb: found.dynamodb.url, s3: found.s3.url, sqs: found.sqs.url };
  const previousEnv = { ...process.env };
  if (!process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE) {
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  }
  process.env.AWS_REGION ??= process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  applyResourceEnv(endpoints.sqs);
  try {
    await ensureLocalResources();
  } catch (error) {
    process.env = previousEnv;
    resetAwsClients();
    throw new Error(
      `the endpoints set in the environment (${describeEndpoints(found)}) could not be used: ${(error as Error).message}; unset the AWS_ENDPOINT_URL variables to use the embedded emulators`,
    );
  }
  if (!applyEnv) {
    process.env = previousEnv;
    resetAwsClients();
  }
  return { dataDir: dir, endpoints, owner: false, external: true, close: async () => {} };
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
 * (`churnguard serve`), or starts dynalite, s3rver and the SQS emulator in this process. When the
 * SDK's endpoint variables (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`/`_S3`/`_SQS`) already
 * name services, those are used instead, and a note on stderr says so: all three set, no emulator
 * starts (`openEnvironmentStack`); some set, the emulators serve only the others.
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
  const fromUser = userEndpoints();
  const { dynamodb, s3, sqs } = fromUser;
  if (dynamodb && s3 && sqs) return openEnvironmentStack(dir, { dynamodb, s3, sqs }, applyEnv, warn);
  if (Object.keys(fromUser).length > 0)
    warn(`using ${describeEndpoints(fromUser)} set in the environment; the embedded emulators serve the other services`);
  const deadline = Date.now() + (options.lockWaitMs ?? 10_000);
  for (;;) {
    const running = await readRunningStack(dir, warn);
    if (running) {
      const endpoints = applyEnv ? applyStackEnv(running) : running;
      return { dataDir: dir, endpoints, owner: false, external: false, close: async () => {} };
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
  const previousEnv = { ...process.env };
  let endpoints = emulators.endpoints;
  try {
    endpoints = applyStackEnv(emulators.endpoints);
    await ensureLocalResources();
    emulators.restoreQueues();
    await migrateLegacySnapshot(dir, warn);
    const owner = currentOwner();
    await writeFileAtomic(
      path.join(dir, STACK_FILE),
      JSON.stringify({ pid: process.pid, owner, endpoints: emulators.endpoints, startedAt: new Date().toISOString() }, null, 2),
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
    external: false,
    async close() {
      if (closed) return;
      closed = true;
      await rm(path.join(dir, STACK_FILE), { force: true });
      await emulators.stop();
      await releaseLock(path.join(dir, LOCK_FILE));
    },
  };
}
