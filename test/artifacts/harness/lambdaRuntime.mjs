// A Lambda-like execution environment for one function, run as a child process by lambdaHarness.ts.
// Plain JavaScript on purpose: the bundle is loaded by Node itself, with no TypeScript loader and no
// node_modules above the task root, as the Lambda Node.js runtime loads it. Init: import the file the
// `_HANDLER` setting names (`index.handler` → index.mjs/.js/.cjs, export `handler`) from
// LAMBDA_TASK_ROOT; then each IPC message is one invocation, answered with its result or error.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const handlerSetting = process.env._HANDLER ?? '';
const dot = handlerSetting.lastIndexOf('.');
const file = handlerSetting.slice(0, dot);
const exportName = handlerSetting.slice(dot + 1);

const serialise = (error) => ({
  errorType: error?.name ?? 'Error',
  errorMessage: error?.message ?? String(error),
  stack: typeof error?.stack === 'string' ? error.stack.split('\n') : [],
});

let handler;
let initError;
try {
  const modulePath = ['.mjs', '.js', '.cjs'].map((ext) => path.join(taskRoot, `${file}${ext}`)).find((candidate) => existsSync(candidate));
  if (!modulePath) throw Object.assign(new Error(`Cannot find module '${file}' in ${taskRoot}`), { name: 'Runtime.ImportModuleError' });
  const module = await import(pathToFileURL(modulePath).href);
  handler = module[exportName];
  if (typeof handler !== 'function')
    throw Object.assign(new Error(`${handlerSetting} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
} catch (error) {
  initError = serialise(error);
}
process.send?.({ type: 'ready', error: initError });

const memory = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128');
process.on('message', async (message) => {
  const { id, event, timeoutMs } = message;
  const deadline = Date.now() + timeoutMs;
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memory),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
  const started = process.hrtime.bigint();
  const finish = (outcome) =>
    process.send?.({
      type: 'result',
      id,
      ...outcome,
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    });
  try {
    finish({ result: (await handler(event, context)) ?? null });
  } catch (error) {
    finish({ error: serialise(error) });
  }
});
