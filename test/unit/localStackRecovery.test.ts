import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { openLocalStack } from '../../cli/local/localStack.ts';
import { acquireLock, currentOwner, lockHolder, ownerAlive, processStartTime, releaseLock } from '../../cli/local/stackLock.ts';
import { moveAside, readStateFile, warnOnStderr, writeFileAtomic, writeFileAtomicSync } from '../../cli/local/stateFiles.ts';

/**
 * The local stack's recovery paths, without starting an emulator: the data dir's lock (PID, start
 * time and boot id: a dead holder, a reused PID, a live holder, a garbled lock, two processes
 * racing for a stale one) and its state files (atomic writes, truncated or unexpected content).
 * The file system calls pass through to the real ones; a test makes one of them fail, or /proc
 * unreadable, to reach a path a healthy machine never takes.
 */

/** /proc files that read as missing (another OS, or a container without them), or with other content. */
const hiddenProc = new Set<string>();
const fakeProc = new Map<string, string>();

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const readFileSync = vi.fn((file: import('node:fs').PathOrFileDescriptor, options?: unknown) => {
    if (typeof file === 'string' && hiddenProc.has(file)) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    if (typeof file === 'string' && fakeProc.has(file)) return fakeProc.get(file);
    return actual.readFileSync(file, options as BufferEncoding);
  });
  const wrapped = {
    ...actual,
    readFileSync,
    openSync: vi.fn(actual.openSync),
    writeSync: vi.fn(actual.writeSync),
    fsyncSync: vi.fn(actual.fsyncSync),
    closeSync: vi.fn(actual.closeSync),
    renameSync: vi.fn(actual.renameSync),
  };
  return { ...wrapped, default: wrapped };
});
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const wrapped = { ...actual, link: vi.fn(actual.link), rename: vi.fn(actual.rename), stat: vi.fn(actual.stat) };
  return { ...wrapped, default: wrapped };
});

const fs = await import('node:fs');
const realFs = await vi.importActual<typeof import('node:fs')>('node:fs');
const fsp = await import('node:fs/promises');
const actualFsp = await vi.importActual<typeof import('node:fs/promises')>('node:fs/promises');

const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });
const BOOT_ID = realFs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const BTIME_MS = Number(/^btime (\d+)$/m.exec(realFs.readFileSync('/proc/stat', 'utf8'))?.[1]) * 1000;

/** Field 22 of /proc/<pid>/stat, read independently of the code under test. */
const startTicks = (pid: number): string => {
  const text = realFs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text
    .slice(text.lastIndexOf(')') + 1)
    .trim()
    .split(/\s+/)[19] as string;
};
const startedAtMs = (pid: number) => BTIME_MS + Number(startTicks(pid)) * 10;

const started = (child: ChildProcess) => new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
const exited = (child: ChildProcess) => new Promise<void>((resolve) => child.once('exit', () => resolve()));

let dir: string;
let lock: string;
let warnings: string[];
const warn = (message: string) => warnings.push(message);
/** A live process that is not this one. */
let sleeper: ChildProcess;
let sleeperPid: number;
/** A PID whose process has exited. */
let deadPid: number;

beforeAll(async () => {
  sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  await started(sleeper);
  sleeperPid = sleeper.pid as number;
  const gone = spawn('true', { stdio: 'ignore' });
  deadPid = gone.pid as number;
  await exited(gone);
});

afterAll(() => {
  sleeper.kill('SIGKILL');
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-lock-'));
  lock = path.join(dir, 'stack.lock');
  warnings = [];
  hiddenProc.clear();
  fakeProc.clear();
  vi.resetAllMocks(); // back to the real implementations, with no calls counted
});

afterEach(async () => {
  vi.resetAllMocks();
  vi.restoreAllMocks();
  vi.useRealTimers();
  hiddenProc.clear();
  fakeProc.clear();
  await rm(dir, { recursive: true, force: true });
});

/** A lock naming `pid` (a live one's real start time unless `extra` says otherwise). */
const owner = (pid: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ pid, startTime: extra.startTime ?? startTicks(pid), bootId: BOOT_ID, host: os.hostname(), ...extra });
const lockNames = async () => JSON.parse(await readFile(lock, 'utf8')) as { pid: number };
const setAge = async (file: string, ageMs: number) => {
  const when = new Date(Date.now() - ageMs);
  await utimes(file, when, when);
};

describe('who a process is', () => {
  it('reads the start time after the command name, even one holding spaces and parentheses', async () => {
    // Prepare: a process whose command name is "sl) ee (p"
    const odd = path.join(dir, 'sl) ee (p');
    await symlink('/bin/sleep', odd);
    const child = spawn(odd, ['30'], { stdio: 'ignore' });
    await started(child);
    try {
      // Assess
      expect(realFs.readFileSync(`/proc/${child.pid}/stat`, 'utf8')).toContain('(sl) ee (p)');
      expect(processStartTime(child.pid as number)).toBe(startTicks(child.pid as number));
      expect(processStartTime(process.pid)).toBe(startTicks(process.pid));
      expect(processStartTime(deadPid)).toBeUndefined();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('names this process by PID, start time, boot id and host, and by PID and host alone where /proc is missing', () => {
    expect(currentOwner()).toEqual({ pid: process.pid, startTime: startTicks(process.pid), bootId: BOOT_ID, host: os.hostname() });
    hiddenProc.add(`/proc/${process.pid}/stat`).add('/proc/sys/kernel/random/boot_id');
    expect(currentOwner()).toEqual({ pid: process.pid, host: os.hostname() });
  });
});

describe('whether a lock holder still runs', () => {
  it('is alive when its PID runs with the recorded start time on this boot', () => {
    expect(ownerAlive(JSON.parse(owner(sleeperPid)))).toBe(true);
    expect(ownerAlive({ pid: sleeperPid })).toBe(true);
  });

  it('is dead when its PID is gone', () => {
    expect(ownerAlive({ pid: deadPid })).toBe(false);
    expect(ownerAlive({ pid: deadPid, host: os.hostname() })).toBe(false);
  });

  it('is another process when the PID was reused: another start time, or another boot', () => {
    expect(ownerAlive({ pid: sleeperPid, startTime: '1' })).toBe(false);
    expect(ownerAlive({ pid: sleeperPid, startTime: startTicks(sleeperPid), bootId: 'an-earlier-boot' })).toBe(false);
  });

  it('a PID this user may not signal (EPERM) is a running process', () => {
    vi.spyOn(process, 'kill').mockImplementation(() => {
      throw errno('EPERM');
    });
    expect(ownerAlive({ pid: deadPid })).toBe(true);
  });

  it('is respected when it names another host, even with a PID that is dead here (we cannot tell)', () => {
    expect(ownerAlive({ pid: deadPid, host: `not-${os.hostname()}` })).toBe(true);
  });

  it('an older bare-PID lock: alive unless that PID started more than a second after the lock was written', () => {
    const at = startedAtMs(sleeperPid);
    expect(ownerAlive({ pid: sleeperPid }, at + 60_000)).toBe(true);
    expect(ownerAlive({ pid: sleeperPid }, at - 1_000)).toBe(true);
    expect(ownerAlive({ pid: sleeperPid }, at - 1_010)).toBe(false);
    expect(ownerAlive({ pid: sleeperPid }, at - 3_600_000)).toBe(false);
  });

  it('without /proc, the PID alone decides', () => {
    hiddenProc.add(`/proc/${sleeperPid}/stat`).add('/proc/sys/kernel/random/boot_id');
    expect(ownerAlive({ pid: sleeperPid, startTime: '1', bootId: 'an-earlier-boot' })).toBe(true);
    expect(ownerAlive({ pid: sleeperPid }, startedAtMs(sleeperPid) - 3_600_000)).toBe(true);
    expect(ownerAlive({ pid: deadPid, startTime: '1' })).toBe(false);
  });

  it('without the boot time, or without the process start, a bare-PID lock is trusted', () => {
    const longBefore = startedAtMs(sleeperPid) - 3_600_000;
    hiddenProc.add('/proc/stat');
    expect(ownerAlive({ pid: sleeperPid }, longBefore)).toBe(true);
    hiddenProc.clear();
    hiddenProc.add(`/proc/${sleeperPid}/stat`);
    expect(ownerAlive({ pid: sleeperPid }, longBefore)).toBe(true);
    hiddenProc.clear();
    fakeProc.set('/proc/stat', 'cpu  1 2 3\nctxt 5\n');
    expect(ownerAlive({ pid: sleeperPid }, longBefore)).toBe(true);
  });
});

describe('taking the data dir lock', () => {
  it('creates a complete lock naming this process, and leaves no temp file', async () => {
    expect(await acquireLock(lock, warn)).toBe(true);
    expect(JSON.parse(await readFile(lock, 'utf8'))).toEqual(currentOwner());
    expect(await readdir(dir)).toEqual(['stack.lock']);
    expect(warnings).toEqual([]);
  });

  it('refuses a lock whose holder still runs, and leaves it as it was', async () => {
    await writeFile(lock, owner(sleeperPid));
    await setAge(lock, 3_600_000);
    expect(await acquireLock(lock, warn)).toBe(false);
    expect(await readFile(lock, 'utf8')).toBe(owner(sleeperPid));
    expect(await readdir(dir)).toEqual(['stack.lock']);
    expect(warnings).toEqual([]);
  });

  it('takes over the lock of a dead process, saying so', async () => {
    await writeFile(lock, JSON.stringify({ pid: deadPid, startTime: '12345', bootId: BOOT_ID, host: os.hostname() }));
    expect(await acquireLock(lock, warn)).toBe(true);
    expect((await lockNames()).pid).toBe(process.pid);
    expect(warnings).toEqual([`stack.lock named process ${deadPid}, which is no longer running it: taken over`]);
    expect(await readdir(dir)).toEqual(['stack.lock']);
  });

  it('takes over a lock whose PID now belongs to an unrelated process (another start time, another boot)', async () => {
    for (const stale of [owner(sleeperPid, { startTime: '1' }), owner(sleeperPid, { bootId: 'an-earlier-boot' })]) {
      await writeFile(lock, stale);
      warnings = [];
      expect(await acquireLock(lock, warn)).toBe(true);
      expect((await lockNames()).pid).toBe(process.pid);
      expect(warnings).toEqual([`stack.lock named process ${sleeperPid}, which is no longer running it: taken over`]);
      await releaseLock(lock);
    }
  });

  it("an older version's bare PID: refused while written after its process started, taken over when written before", async () => {
    await writeFile(lock, `${sleeperPid}\n`);
    expect(await acquireLock(lock, warn)).toBe(false);
    await setAge(lock, Date.now() - startedAtMs(sleeperPid) + 3_600_000);
    expect(await acquireLock(lock, warn)).toBe(true);
    expect(warnings).toEqual([`stack.lock named process ${sleeperPid}, which is no longer running it: taken over`]);
  });

  it('a garbled or truncated lock: left alone for 5 s (an older version may be writing it), then taken over', async () => {
    for (const garbled of ['{"pid": 12', '{"pid": -3}', '', `${deadPid}abc`]) {
      await writeFile(lock, garbled);
      await setAge(lock, 4_000);
      warnings = [];
      expect(await acquireLock(lock, warn)).toBe(false);
      expect(await readFile(lock, 'utf8')).toBe(garbled);
      await setAge(lock, 6_000);
      expect(await acquireLock(lock, warn)).toBe(true);
      expect(warnings).toEqual(['stack.lock named no owner: taken over']);
      expect(await readdir(dir)).toEqual(['stack.lock']);
      await releaseLock(lock);
    }
  });

  it('a lock whose age cannot be read: a garbled one is taken over, a bare PID judged by its process alone', async () => {
    await writeFile(lock, 'garbage');
    vi.mocked(fsp.stat).mockRejectedValueOnce(errno('EIO'));
    expect(await acquireLock(lock, warn)).toBe(true);
    expect(warnings).toEqual(['stack.lock named no owner: taken over']);
    await writeFile(lock, String(deadPid));
    vi.mocked(fsp.stat).mockRejectedValueOnce(errno('EIO'));
    expect(await acquireLock(lock, warn)).toBe(true);
    await writeFile(lock, String(sleeperPid));
    vi.mocked(fsp.stat).mockRejectedValueOnce(errno('EIO'));
    expect(await acquireLock(lock, warn)).toBe(false);
  });

  it('a garbled lock is left alone for less than 5 s: at exactly 5 s it is taken over', async () => {
    const writtenAt = new Date('2026-03-04T05:06:07.000Z');
    await writeFile(lock, 'garbage');
    await utimes(lock, writtenAt, writtenAt);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(writtenAt.getTime() + 4_999);
    expect(await acquireLock(lock, warn)).toBe(false);
    vi.setSystemTime(writtenAt.getTime() + 5_000);
    expect(await acquireLock(lock, warn)).toBe(true);
  });

  it('two processes racing for a stale lock: the one that finds a fresh lock set aside puts it back and gives up', async () => {
    // Prepare: between our look at the stale lock and setting it aside, another process took it over.
    await writeFile(lock, owner(deadPid, { startTime: '1' }));
    const theirs = owner(sleeperPid);
    vi.mocked(fsp.rename).mockImplementationOnce(async (from, to) => {
      await writeFile(lock, theirs);
      return actualFsp.rename(from, to);
    });
    // Act
    expect(await acquireLock(lock, warn)).toBe(false);
    // Assess: their lock is in place, nothing else is left, nothing was taken over.
    expect(await readFile(lock, 'utf8')).toBe(theirs);
    expect(await readdir(dir)).toEqual(['stack.lock']);
    expect(warnings).toEqual([]);
  });

  it('two processes racing for a stale lock: when the other set it aside first, this one takes the free place', async () => {
    await writeFile(lock, owner(deadPid, { startTime: '1' }));
    vi.mocked(fsp.rename).mockImplementationOnce(async () => {
      await rm(lock);
      throw errno('ENOENT');
    });
    expect(await acquireLock(lock, warn)).toBe(true);
    expect((await lockNames()).pid).toBe(process.pid);
    expect(await readdir(dir)).toEqual(['stack.lock']);
  });

  it('a lock that vanished between the failed link and the read: tries again', async () => {
    vi.mocked(fsp.link).mockRejectedValueOnce(errno('EEXIST'));
    expect(await acquireLock(lock, warn)).toBe(true);
    expect(fsp.link).toHaveBeenCalledTimes(2);
    expect(warnings).toEqual([]);
  });

  it('gives up after three attempts when stale locks keep reappearing', async () => {
    await writeFile(lock, owner(deadPid, { startTime: '1' }));
    vi.mocked(fsp.link).mockRejectedValue(errno('EEXIST'));
    expect(await acquireLock(lock, warn)).toBe(false);
    expect(fsp.link).toHaveBeenCalledTimes(3);
    expect(await readdir(dir)).toEqual([]);
  });

  it('any other error is thrown, and the temp file removed', async () => {
    vi.mocked(fsp.link).mockRejectedValueOnce(errno('EACCES'));
    await expect(acquireLock(lock, warn)).rejects.toMatchObject({ code: 'EACCES' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('releases only its own lock', async () => {
    await releaseLock(lock); // none: nothing to do
    await writeFile(lock, owner(sleeperPid));
    await releaseLock(lock);
    expect(await readFile(lock, 'utf8')).toBe(owner(sleeperPid));
    await writeFile(lock, 'garbage');
    await releaseLock(lock);
    expect(await readFile(lock, 'utf8')).toBe('garbage');
    await rm(lock);
    expect(await acquireLock(lock, warn)).toBe(true);
    await releaseLock(lock);
    expect(await readdir(dir)).toEqual([]);
  });

  it('says who holds a lock', async () => {
    expect(await lockHolder(lock)).toBeUndefined();
    await writeFile(lock, ` ${sleeperPid} `);
    expect(await lockHolder(lock)).toEqual({ pid: sleeperPid });
    await writeFile(lock, owner(sleeperPid));
    expect(await lockHolder(lock)).toEqual(JSON.parse(owner(sleeperPid)));
  });
});

describe('opening a data dir another process holds', () => {
  it('refuses with an error naming the holder when it never starts the stack', async () => {
    await writeFile(lock, owner(sleeperPid));
    const opening = openLocalStack(dir, { applyEnv: false, warn, lockWaitMs: 300 });
    await expect(opening).rejects.toThrow(
      `Could not open the local stack in ${dir}: process ${sleeperPid} on ${os.hostname()} holds stack.lock but never became ready; stop it, or use another --data-dir`,
    );
    expect(await readFile(lock, 'utf8')).toBe(owner(sleeperPid));
  });

  it('moves a truncated stack.json aside, with a warning, before waiting for the holder', async () => {
    await writeFile(lock, `${sleeperPid}`);
    await writeFile(path.join(dir, 'stack.json'), '{"pid": 12');
    await expect(openLocalStack(dir, { applyEnv: false, warn, lockWaitMs: 0 })).rejects.toThrow(
      /process \d+ holds stack\.lock but never became ready/,
    );
    expect(warnings.join('\n')).toMatch(/^stack\.json in .* could not be read \(not JSON: .*\); moved aside to stack\.json\.corrupt-/);
    expect((await readdir(dir)).filter((f) => f.startsWith('stack.json'))).toEqual([expect.stringMatching(/^stack\.json\.corrupt-/)]);
  });

  it("joins the holder's stack once its stack.json names it and its ports answer", async () => {
    const servers: Server[] = [];
    const urls: string[] = [];
    for (let i = 0; i < 3; i++) {
      const server = createServer((socket) => socket.end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      urls.push(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    }
    try {
      const endpoints = { dynamodb: urls[0], s3: urls[1], sqs: urls[2] };
      await writeFile(lock, owner(sleeperPid));
      await writeFile(
        path.join(dir, 'stack.json'),
        JSON.stringify({ pid: sleeperPid, owner: JSON.parse(owner(sleeperPid)), endpoints, startedAt: new Date().toISOString() }),
      );
      const stack = await openLocalStack(dir, { applyEnv: false, warn, lockWaitMs: 0 });
      expect(stack).toMatchObject({ dataDir: dir, endpoints, owner: false });
      await stack.close(); // not ours: closing leaves it running
      expect((await readdir(dir)).sort()).toEqual(['stack.json', 'stack.lock']);
      // The same stack.json naming a process that is gone is not joined.
      await writeFile(
        path.join(dir, 'stack.json'),
        JSON.stringify({ pid: sleeperPid, owner: { pid: deadPid }, endpoints, startedAt: new Date().toISOString() }),
      );
      await expect(openLocalStack(dir, { applyEnv: false, warn, lockWaitMs: 0 })).rejects.toThrow(/never became ready/);
    } finally {
      for (const server of servers) server.close();
    }
  });
});

describe('state files', () => {
  const Stack = z.object({ pid: z.number().int(), startedAt: z.string().transform((s) => new Date(s)) });
  const file = () => path.join(dir, 'stack.json');

  it('writes atomically: the new content replaces the old whole, with the mode asked, and no temp file stays', async () => {
    await writeFile(file(), 'x'.repeat(1000));
    writeFileAtomicSync(file(), '{"pid":1}');
    expect(await readFile(file(), 'utf8')).toBe('{"pid":1}');
    expect((await stat(file())).mode & 0o777).toBe(0o644 & ~process.umask());
    await writeFileAtomic(file(), 'secret', { mode: 0o600 });
    expect(await readFile(file(), 'utf8')).toBe('secret');
    expect((await stat(file())).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['stack.json']);
  });

  it('syncs the data, then renames, then syncs the directory', () => {
    const calls: string[] = [];
    const log =
      (name: string) =>
      (...args: unknown[]) =>
        void calls.push(`${name} ${String(args[0])}`);
    vi.mocked(fs.openSync).mockImplementation((p, flags, mode) => {
      const fd = realFs.openSync(p, flags, mode);
      calls.push(`open ${path.relative(dir, String(p)) || '.'} ${fd}`);
      return fd;
    });
    for (const name of ['writeSync', 'fsyncSync', 'closeSync'] as const) {
      vi.mocked(fs[name]).mockImplementation(((fd: number, ...rest: unknown[]) => {
        log(name)(fd);
        return (realFs[name] as (...a: unknown[]) => unknown)(fd, ...rest);
      }) as never);
    }
    vi.mocked(fs.renameSync).mockImplementation((from, to) => {
      calls.push(`rename ${path.relative(dir, String(to))}`);
      realFs.renameSync(from, to);
    });
    writeFileAtomicSync(file(), 'data');
    const fds = calls.filter((c) => c.startsWith('open')).map((c) => c.split(' ')[2]);
    expect(calls).toEqual([
      expect.stringMatching(new RegExp(`^open \\.stack\\.json\\.${process.pid}\\.\\d+\\.tmp ${fds[0]}$`)),
      `writeSync ${fds[0]}`,
      `fsyncSync ${fds[0]}`,
      `closeSync ${fds[0]}`,
      'rename stack.json',
      `open . ${fds[1]}`,
      `fsyncSync ${fds[1]}`,
      `closeSync ${fds[1]}`,
    ]);
  });

  it('a directory that cannot be synced is no error', async () => {
    vi.mocked(fs.fsyncSync).mockImplementation((fd) => {
      if (realFs.fstatSync(fd).isDirectory()) throw errno('EINVAL');
      realFs.fsyncSync(fd);
    });
    expect(() => writeFileAtomicSync(file(), 'data')).not.toThrow();
    expect(await readFile(file(), 'utf8')).toBe('data');
    const closed = vi.mocked(fs.closeSync).mock.calls.length;
    expect(closed).toBe(2); // the directory's descriptor is closed too
  });

  it('a write that fails (disk full) keeps the old file whole and leaves no partial file', async () => {
    await writeFile(file(), 'old');
    vi.mocked(fs.writeSync).mockImplementationOnce(() => {
      throw errno('ENOSPC');
    });
    expect(() => writeFileAtomicSync(file(), 'new')).toThrow(/ENOSPC/);
    expect(await readFile(file(), 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['stack.json']);
    expect(fs.closeSync).toHaveBeenCalledTimes(1);
  });

  it('reads a state file through its schema; a missing one is undefined, quietly', async () => {
    expect(await readStateFile(file(), Stack, warn)).toBeUndefined();
    await writeFile(file(), JSON.stringify({ pid: 3, startedAt: '2026-01-02T00:00:00.000Z' }));
    expect(await readStateFile(file(), Stack, warn)).toEqual({ pid: 3, startedAt: new Date('2026-01-02T00:00:00.000Z') });
    expect(warnings).toEqual([]);
  });

  it('a truncated state file is moved aside with a warning saying why, never thrown', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-04T05:06:07.089Z'));
    await writeFile(file(), '{"pid": 12');
    expect(await readStateFile(file(), Stack, warn)).toBeUndefined();
    expect(await readdir(dir)).toEqual(['stack.json.corrupt-2026-03-04T05-06-07-089Z']);
    expect(warnings).toEqual([
      `stack.json in ${dir} could not be read (not JSON: ${jsonError('{"pid": 12')}); moved aside to stack.json.corrupt-2026-03-04T05-06-07-089Z and started without it`,
    ]);
    expect(await readFile(path.join(dir, 'stack.json.corrupt-2026-03-04T05-06-07-089Z'), 'utf8')).toBe('{"pid": 12');
  });

  it('a state file with unexpected content is moved aside, naming the first problem', async () => {
    await writeFile(file(), JSON.stringify({ pid: 'twelve', startedAt: 1 }));
    expect(await readStateFile(file(), Stack, warn)).toBeUndefined();
    const issues = Stack.safeParse({ pid: 'twelve', startedAt: 1 }).error?.issues ?? [];
    expect(issues).toHaveLength(2);
    const expected = issues.map((issue) => issue.message).join('; ');
    expect(warnings).toEqual([
      expect.stringContaining(`could not be read (unexpected content: ${expected}); moved aside to stack.json.corrupt-`),
    ]);
    expect(await readdir(dir)).toEqual([expect.stringMatching(/^stack\.json\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/)]);
  });

  it('a state file that cannot be read for another reason is an error', async () => {
    await realFs.promises.mkdir(file());
    await expect(readStateFile(file(), Stack, warn)).rejects.toMatchObject({ code: 'EISDIR' });
    expect(warnings).toEqual([]);
  });

  it('moving aside a file that is already gone still says so, on stderr by default', async () => {
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
    const target = await moveAside(file(), 'test');
    expect(target).toMatch(new RegExp(`^${escapeRegExp(file())}\\.corrupt-`));
    expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/^churnguard: stack\.json in .* could not be read \(test\); moved aside/));
    warnOnStderr('hello');
    expect(stderr).toHaveBeenLastCalledWith('churnguard: hello');
  });
});

const jsonError = (text: string) => {
  try {
    JSON.parse(text);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
