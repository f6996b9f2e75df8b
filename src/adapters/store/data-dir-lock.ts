/**
 * One process owns a lowdb data folder at a time: a second writer would lose the first one's changes without an
 * error. The lock is a file, `ticketzero.lock`, created exclusively and naming its holder with a random instance
 * token; the holder touches it every `staleMs / 4` (a heartbeat) and reads it back.
 *
 * Another process takes the lock over only when the holder is gone, which it knows in one of two ways:
 * - the heartbeat stopped: the file did not change for `staleMs` of the newcomer's own clock (no clock is compared
 *   across machines, so this holds on a shared volume and between containers);
 * - at once, when the holder ran in the newcomer's own PID namespace on the same boot of the same machine and that
 *   process is gone (or is the newcomer itself: after a kill -9, a restarted process may get the same pid).
 * A pid alone proves nothing: in a container node runs as PID 1, and so does node in the next container on the
 * same volume. Hence the namespace check, and the heartbeat for everything else.
 *
 * The holder reads the file back on every heartbeat; if it names someone else (two newcomers raced to take over
 * a stale lock), the holder is told (`onLost`) and its store refuses every call from then on.
 *
 * Hand-written rather than proper-lockfile: that library knows staleness only by mtime against the local clock
 * (so a restart after a kill waits out the stale period, 10 s by default) and has no way to tell a dead holder
 * in the same PID namespace; the rules here are a page.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { fsyncDirectory } from './document-folder.js';
import { StoreError } from './store-errors.js';

export class StoreLockedError extends StoreError {}

export interface LockOwner {
  token: string;
  host: string;
  pid: number;
  /** Boot and PID namespace of the holder (Linux); null where it cannot be known. */
  pidNamespace: string | null;
  since: string;
}

export interface LockOptions {
  /** A holder whose heartbeat stopped this long ago is gone (default 10 s). */
  staleMs?: number;
  /** How long to wait for a held lock before giving up (default: 2 × staleMs). */
  waitMs?: number;
  /** Who takes the lock (default: this process). Specs pass another, e.g. PID 1 of another container. */
  process?: { pid: number; pidNamespace: string | null };
  /** Whether a pid runs in this PID namespace (default: `process.kill(pid, 0)`). */
  isAlive?: (pid: number) => boolean;
}

export interface DataDirLock {
  readonly owner: LockOwner;
  /** Called once if another process took the lock (the heartbeat found its token). */
  onLost: ((error: Error) => void) | null;
  /** Stops the heartbeat and removes the lock file if it is still ours. */
  release(): Promise<void>;
  /** Stops the heartbeat and leaves the file, as a killed process would (for specs). */
  abandon(): void;
}

const DEFAULT_STALE_MS = 10_000;

export async function lockDataDir(lockPath: string, options: LockOptions = {}): Promise<DataDirLock> {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const waitMs = options.waitMs ?? 2 * staleMs;
  const me = options.process ?? { pid: process.pid, pidNamespace: currentPidNamespace() };
  const isAlive = options.isAlive ?? processIsAlive;
  const owner: LockOwner = {
    token: randomUUID(),
    host: hostname(),
    pid: me.pid,
    pidNamespace: me.pidNamespace,
    since: new Date().toISOString(),
  };
  const started = Date.now();
  /** The holder's file as last seen, and since when it has not changed. */
  let seen: { text: string; mtimeMs: number; since: number } | null = null;
  for (;;) {
    if (await tryCreate(lockPath, owner)) return startHeartbeat(lockPath, owner, staleMs);
    const held = await readLock(lockPath);
    if (!held) continue; // released meanwhile
    if (!seen || seen.text !== held.text || seen.mtimeMs !== held.mtimeMs) {
      seen = { ...held, since: Date.now() };
    }
    const holder = parseOwner(held.text);
    const goneHere =
      holder !== null &&
      holder.pidNamespace !== null &&
      holder.pidNamespace === me.pidNamespace &&
      (holder.pid === me.pid || !isAlive(holder.pid));
    if (goneHere || Date.now() - seen.since >= staleMs) {
      // Remove it only if it is still the file we judged (another newcomer may have taken over meanwhile).
      if ((await readLock(lockPath))?.text === held.text) await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (Date.now() - started >= waitMs) {
      const who = holder
        ? `instance ${holder.token} (pid ${holder.pid} on ${holder.host}, since ${holder.since})`
        : 'another process';
      throw new StoreLockedError(
        `the data directory is in use by ${who} (lowdb allows one instance; use PostgreSQL for several)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, staleMs / 4)));
  }
}

async function tryCreate(lockPath: string, owner: LockOwner): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StoreError(`cannot create the lock file ${lockPath}`, { cause: error });
  }
  try {
    await handle.writeFile(JSON.stringify(owner));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsyncDirectory(dirname(lockPath));
  return true;
}

async function readLock(lockPath: string): Promise<{ text: string; mtimeMs: number } | null> {
  try {
    const [text, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    return { text, mtimeMs: info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StoreError(`cannot read the lock file ${lockPath}`, { cause: error });
  }
}

/** The holder named by a lock file; null for a file written by an older version (a bare pid) or torn. */
function parseOwner(text: string): LockOwner | null {
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    return typeof owner.token === 'string' && typeof owner.pid === 'number' ? (owner as LockOwner) : null;
  } catch {
    return null;
  }
}

function startHeartbeat(lockPath: string, owner: LockOwner, staleMs: number): DataDirLock {
  let beating: Promise<void> = Promise.resolve();
  const lock: DataDirLock = {
    owner,
    onLost: null,
    release: async () => {
      clearInterval(timer);
      await beating;
      if (parseOwner((await readLock(lockPath))?.text ?? '')?.token === owner.token) {
        await unlink(lockPath).catch(() => undefined);
      }
    },
    abandon: () => clearInterval(timer),
  };
  const beat = async (): Promise<void> => {
    const now = new Date();
    const held = await readLock(lockPath).catch(() => null);
    if (parseOwner(held?.text ?? '')?.token !== owner.token) {
      clearInterval(timer);
      lock.onLost?.(new StoreLockedError(`the lock ${lockPath} was taken by another process`));
      return;
    }
    await utimes(lockPath, now, now).catch(() => undefined);
  };
  const timer = setInterval(() => {
    beating = beating.then(beat);
  }, staleMs / 4);
  timer.unref();
  return lock;
}

/** This boot's id and this process's PID namespace (Linux); null elsewhere. */
function currentPidNamespace(): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `${boot} ${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return null;
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
