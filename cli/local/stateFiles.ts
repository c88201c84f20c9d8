import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';

/** Where the local stack says what went wrong with its files (stderr, like every CLI note). */
export type Warn = (message: string) => void;
export const warnOnStderr: Warn = (message) => console.error(`churnguard: ${message}`);

/** Flushes a directory entry (a rename) to disk; some file systems refuse, which is harmless. */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported here
  }
}

/**
 * Writes a state file atomically: a temp file in the same directory, fsync, rename over the old one,
 * fsync the directory. A reader (or the next process after a `kill -9`) sees the old content or the
 * new one, never half of one.
 */
export function writeFileAtomicSync(file: string, data: string, options: { mode?: number } = {}): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(temp, 'w', options.mode ?? 0o644);
  try {
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    // A failed write (disk full) leaves the old file as it was, and no half-written temp file behind.
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: openSync created the temp file, so it exists here
    rmSync(temp, { force: true });
    throw error;
  }
  syncDir(path.dirname(file));
}

export async function writeFileAtomic(file: string, data: string, options: { mode?: number } = {}): Promise<void> {
  writeFileAtomicSync(file, data, options);
}

/** Moves an unreadable state file out of the way, keeping it for inspection, and says so. */
export async function moveAside(file: string, reason: string, warn: Warn = warnOnStderr): Promise<string> {
  const target = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await rename(file, target).catch(() => undefined);
  warn(
    `${path.basename(file)} in ${path.dirname(file)} could not be read (${reason}); moved aside to ${path.basename(target)} and started without it`,
  );
  return target;
}

/**
 * Reads a JSON state file: undefined when it does not exist; when it is truncated or does not match
 * `schema`, it is moved aside with a warning and undefined is returned: never an exception, never a hang.
 */
export async function readStateFile<S extends z.ZodType>(
  file: string,
  schema: S,
  warn: Warn = warnOnStderr,
): Promise<z.output<S> | undefined> {
  let raw: string;
  try {
    // Stryker disable next-line StringLiteral: without an encoding the Buffer read parses as JSON the same (JSON.parse takes its UTF-8 text)
    raw = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    await moveAside(file, `not JSON: ${(error as Error).message}`, warn);
    return undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    await moveAside(file, `unexpected content: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`, warn);
    return undefined;
  }
  return parsed.data;
}
