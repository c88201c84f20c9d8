import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface StackProcess {
  pid: number;
  /** Stops the child with SIGTERM and waits for it: it saves the queues to the data dir on the way out. */
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
// tsx's loader by absolute URL, so the child starts from any working directory.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Runs the embedded stack in a child process (`churnguard serve --port 0`) so that dynalite gets a
 * core of its own: ingest is the demo's slowest step, and in-process the emulators share one
 * event loop with validation and marshalling. This process then joins the stack through the data
 * dir's `stack.json`, like any other command. Resolves once the child is serving.
 *
 * @throws Error with the child's stderr when it exits or is not ready within `timeoutMs`
 */
export async function startStackProcess(dataDir: string, timeoutMs = 30_000): Promise<StackProcess> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  try {
    await ready(child, timeoutMs);
  } catch (error) {
    child.kill('SIGTERM');
    throw new Error(`the stack process did not start: ${(error as Error).message}${stderr ? `\n${stderr.trim()}` : ''}`);
  }
  return {
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resolves when the child prints its "listening" line (the stack is open by then). */
function ready(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => finish(new Error(`not ready after ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (stdout.includes('listening on')) finish();
    };
    const onExit = (code: number | null) => finish(new Error(`exited with code ${code}`));
    function finish(error?: Error) {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      // Keep draining stdout so the child never blocks on a full pipe.
      child.stdout?.resume();
      if (error) reject(error);
      else resolve();
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}
