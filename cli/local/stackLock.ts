import { readFileSync } from 'node:fs';
import { link, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { Warn } from './stateFiles.ts';

/**
 * Who owns a data dir: a PID is not enough (PIDs are reused after a crash or in a new container),
 * so the lock also names the process's start time (field 22 of /proc/<pid>/stat, in clock ticks since
 * boot) and the boot id. A lock whose PID is gone, or now belongs to a process that started at
 * another time, is stale and is taken over.
 */
export const ProcessOwner = z.object({
  pid: z.number().int().positive(),
  startTime: z.string().optional(),
  bootId: z.string().optional(),
  host: z.string().optional(),
});
export type ProcessOwner = z.output<typeof ProcessOwner>;

const readProc = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** The start time of a process (clock ticks since boot), where /proc exists. */
export function processStartTime(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

const bootId = (): string | undefined => readProc('/proc/sys/kernel/random/boot_id')?.trim();

export function currentOwner(): ProcessOwner {
  const startTime = processStartTime(process.pid);
  const boot = bootId();
  return { pid: process.pid, ...(startTime ? { startTime } : {}), ...(boot ? { bootId: boot } : {}), host: os.hostname() };
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** When the process with this PID started, in ms since the epoch (Linux: boot time + start ticks at USER_HZ 100). */
function processStartedAtMs(pid: number): number | undefined {
  const ticks = Number(processStartTime(pid));
  // Stryker disable next-line Regex: /proc/stat has one btime line and no other line holds "btime <digits>", whatever the anchors
  const btime = readProc('/proc/stat')?.match(/^btime (\d+)$/m)?.[1];
  if (!Number.isFinite(ticks) || btime === undefined) return undefined;
  return Number(btime) * 1000 + ticks * 10;
}

/**
 * Whether the owner still runs: its PID is alive and, where the lock recorded them, the process
 * behind that PID has the same start time and the machine the same boot. `lockWrittenAtMs`: for a
 * lock that names a bare PID (written by an older version), a process that started after the lock
 * was written cannot be its owner.
 */
export function ownerAlive(owner: ProcessOwner, lockWrittenAtMs?: number): boolean {
  if (owner.host !== undefined && owner.host !== os.hostname()) return true; // another machine's: we cannot tell, so respect it
  if (owner.bootId !== undefined && bootId() !== undefined && owner.bootId !== bootId()) return false;
  if (!pidAlive(owner.pid)) return false;
  const startTime = processStartTime(owner.pid);
  if (owner.startTime !== undefined) return startTime === undefined || startTime === owner.startTime;
  const startedAt = processStartedAtMs(owner.pid);
  return lockWrittenAtMs === undefined || startedAt === undefined || startedAt <= lockWrittenAtMs + 1000;
}

const parseLock = (text: string): ProcessOwner | undefined => {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed) }; // an older version's lock: the PID alone
  try {
    const parsed = ProcessOwner.safeParse(JSON.parse(trimmed));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Takes the data dir's lock: only one process at a time runs the emulators on a data dir (LevelDB
 * and the queue journal are single-writer). The lock is created complete (written to a temp file,
 * then hard-linked into place, which fails if it exists), so it never names nobody. A stale lock
 * is set aside and taken over, checking that it is still the stale one (two processes may race for it).
 */
export async function acquireLock(lockPath: string, warn: Warn): Promise<boolean> {
  const temp = path.join(path.dirname(lockPath), `.${path.basename(lockPath)}.${process.pid}.tmp`);
  await writeFile(temp, JSON.stringify(currentOwner()));
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(temp, lockPath);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const [text, info] = await Promise.all([readFile(lockPath, 'utf8').catch(() => undefined), stat(lockPath).catch(() => undefined)]);
      if (text === undefined) continue; // gone meanwhile: try again
      const holder = parseLock(text);
      // An unreadable lock younger than a few seconds may be one being written by an older version.
      if (holder === undefined && info && Date.now() - info.mtimeMs < 5_000) return false;
      if (holder !== undefined && ownerAlive(holder, info?.mtimeMs)) return false;
      const aside = `${lockPath}.stale-${process.pid}`;
      await rename(lockPath, aside).catch(() => undefined);
      const took = await readFile(aside, 'utf8').catch(() => undefined);
      if (took !== undefined && took !== text) {
        // Not the stale lock we judged: another process took over first. Put theirs back.
        await link(aside, lockPath).catch(() => undefined);
        // Stryker disable next-line ObjectLiteral,BooleanLiteral: the aside was just read, so it exists; force only matters if another process removes it meanwhile
        await rm(aside, { force: true });
        return false;
      }
      await rm(aside, { force: true });
      warn(`${path.basename(lockPath)} named ${holder ? `process ${holder.pid}, which is no longer running it` : 'no owner'}: taken over`);
    }
    return false;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Who the lock names: undefined when there is no lock or it cannot be read. */
export async function lockHolder(lockPath: string): Promise<ProcessOwner | undefined> {
  const text = await readFile(lockPath, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseLock(text);
}

/** Removes the lock if this process holds it. */
export async function releaseLock(lockPath: string): Promise<void> {
  const holder = await lockHolder(lockPath);
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: the lock was just read, so it exists; force only matters if another process removes it meanwhile
  if (holder?.pid === process.pid) await rm(lockPath, { force: true });
}
