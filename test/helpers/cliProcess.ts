import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/** The repository root: the CLI runs from source there. */
export const ROOT = path.resolve(import.meta.dirname, '../..');

/** `churnguard serve`'s first stdout line, with the URL it listens on. */
export const LISTENING = /churnguard API listening on (http:\/\/127\.0\.0\.1:\d+)/;

export interface CliProcess {
  child: ChildProcess;
  /** The exit code and everything the process printed. */
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** With `until`: its first capture group (else the whole match) once stdout shows it; rejects if the process exits first. */
  ready: Promise<string>;
}

/** Runs the CLI from source in a child process (one node process: tsx as an import hook). */
export function spawnCli(args: string[], options: { env?: NodeJS.ProcessEnv; until?: RegExp } = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    cwd: ROOT,
    env: options.env ?? { ...process.env, CHURNGUARD_DATA_DIR: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  const { until } = options;
  const ready = new Promise<string>((resolve, reject) => {
    if (!until) return resolve('');
    child.stdout?.on('data', () => {
      const match = until.exec(stdout);
      if (match) resolve(match[1] ?? match[0]);
    });
    child.on('close', () => reject(new Error(`exited before ${String(until)}: ${stderr}`)));
  });
  return { child, exited, ready };
}
