import { type ChildProcess, fork } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeployedFunction } from './cloudAssembly.ts';

/**
 * Runs a function's deployment package the way Lambda does: its asset folder is copied to a task
 * root of its own under the system temp folder (no node_modules above it, so a module the bundle
 * left out cannot be found by accident), and a child Node process is its execution environment:
 * only the function's variables and the ones Lambda sets, the heap capped by the function's memory,
 * one invocation at a time, killed when it overruns the function's timeout.
 */

const RUNTIME = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lambdaRuntime.mjs');

export interface LambdaError {
  errorType: string;
  errorMessage: string;
  stack: string[];
}

export interface Invocation<R = unknown> {
  result?: R;
  error?: LambdaError;
  durationMs: number;
  /** Peak resident memory of the execution environment so far, in MB. */
  maxRssMb: number;
}

export interface LambdaInstance {
  readonly fn: DeployedFunction;
  readonly taskRoot: string;
  /** Every line the function wrote to stdout and stderr (its CloudWatch log). */
  readonly logs: string[];
  invoke<R = unknown>(event: unknown): Promise<Invocation<R>>;
  stop(): Promise<void>;
}

/** What the Lambda service itself puts in every Node.js function's environment. */
function lambdaVariables(fn: DeployedFunction, taskRoot: string, region: string): Record<string, string> {
  const name = fn.constructPath.split('/').slice(0, -1).join('-');
  return {
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR: taskRoot,
    _HANDLER: fn.handler,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'local',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    TZ: 'UTC',
    LANG: 'en_US.UTF-8',
    PATH: '/usr/local/bin:/usr/bin:/bin',
  };
}

/**
 * Starts the function's execution environment (its init phase) with `environment`: the template's
 * variables already resolved to local values, plus whatever points the SDK at the emulators.
 *
 * @throws Error with the init error when the bundle cannot be loaded (Runtime.ImportModuleError)
 */
export async function startFunction(
  fn: DeployedFunction,
  environment: Record<string, string>,
  region = 'us-east-1',
): Promise<LambdaInstance> {
  const taskRoot = await mkdtemp(path.join(os.tmpdir(), 'churnguard-task-'));
  await cp(fn.assetDir, taskRoot, { recursive: true });
  const env = { ...environment, ...lambdaVariables(fn, taskRoot, region) };
  // Lambda caps the heap below the function's memory; a job that outgrows its memory fails here too.
  const heapMb = Math.floor(fn.memorySize * 0.9);
  const child: ChildProcess = fork(RUNTIME, [], {
    cwd: taskRoot,
    env,
    execArgv: [`--max-old-space-size=${heapMb}`],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const logs: string[] = [];
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let pending = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      logs.push(...lines.filter((line) => line.length > 0));
    });
  };
  collect(child.stdout);
  collect(child.stderr);

  const waiting = new Map<number, (message: Record<string, unknown>) => void>();
  let exited: string | undefined;
  child.on('message', (message: Record<string, unknown>) => {
    if (message.type === 'result') waiting.get(message.id as number)?.(message);
  });
  child.on('exit', (code, signal) => {
    exited = `execution environment exited (${signal ?? `code ${code}`})`;
    for (const resolve of waiting.values()) resolve({ error: { errorType: 'Runtime.ExitError', errorMessage: exited, stack: [] } });
    waiting.clear();
  });

  const ready = await new Promise<{ error?: LambdaError }>((resolve) => {
    child.once('message', (message: { type: string; error?: LambdaError }) => resolve(message));
    child.once('exit', () =>
      resolve({ error: { errorType: 'Runtime.ExitError', errorMessage: exited ?? 'exited during init', stack: [] } }),
    );
  });
  if (ready.error) {
    child.kill('SIGKILL');
    await rm(taskRoot, { recursive: true, force: true });
    throw new Error(`${fn.constructPath} failed to initialise: ${ready.error.errorType}: ${ready.error.errorMessage}\n${logs.join('\n')}`);
  }

  let nextId = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const invokeNow = <R>(event: unknown): Promise<Invocation<R>> =>
    new Promise((resolve) => {
      const id = nextId++;
      const timeoutMs = fn.timeoutSeconds * 1000;
      const timer = setTimeout(() => {
        waiting.delete(id);
        child.kill('SIGKILL');
        resolve({
          error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${fn.timeoutSeconds} seconds`, stack: [] },
          durationMs: timeoutMs,
          maxRssMb: 0,
        });
      }, timeoutMs);
      waiting.set(id, (message) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(message as unknown as Invocation<R>);
      });
      if (exited) waiting.get(id)?.({ error: { errorType: 'Runtime.ExitError', errorMessage: exited, stack: [] } });
      else child.send({ id, event, timeoutMs });
    });

  return {
    fn,
    taskRoot,
    logs,
    invoke<R>(event: unknown) {
      // One invocation at a time per execution environment, as in Lambda.
      const next = queue.then(() => invokeNow<R>(event));
      queue = next.catch(() => undefined);
      return next;
    },
    async stop() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      await rm(taskRoot, { recursive: true, force: true });
    },
  };
}

/** The CloudWatch embedded-metric documents among a function's log lines. */
export function metricDocuments(logs: readonly string[]): Array<Record<string, unknown>> {
  return logs
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((document) => typeof document._aws === 'object');
}

/** The namespaces the metric documents were published to. */
export const metricNamespaces = (documents: Array<Record<string, unknown>>): string[] => [
  ...new Set(
    documents.flatMap((document) =>
      (document._aws as { CloudWatchMetrics: Array<{ Namespace: string }> }).CloudWatchMetrics.map((metrics) => metrics.Namespace),
    ),
  ),
];
