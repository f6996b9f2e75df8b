import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lockDataDir, type DataDirLock } from '../../../src/adapters/store/data-dir-lock.js';
import { createLowdbConversationStore } from '../../../src/adapters/store/lowdb-store.js';

/** node as PID 1 of two containers on one volume: the same pid, different PID namespaces. */
const containerA = { pid: 1, pidNamespace: 'boot-1 pid:[4026532180]' };
const containerB = { pid: 1, pidNamespace: 'boot-1 pid:[4026532199]' };
const STALE_MS = 400;

describe('the lowdb data folder lock', () => {
  let dataDir: string;
  const held: DataDirLock[] = [];
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tz-lock-'));
  });
  afterEach(async () => {
    for (const lock of held.splice(0)) await lock.release();
    await rm(dataDir, { recursive: true, force: true });
  });
  const lockPath = () => join(dataDir, 'ticketzero.lock');

  it('refuses PID 1 of a second container while PID 1 of the first holds the folder, and lets it in once the first stopped beating', async () => {
    const first = await lockDataDir(lockPath(), { staleMs: STALE_MS, process: containerA });
    held.push(first);
    await expect(
      lockDataDir(lockPath(), { staleMs: STALE_MS, waitMs: 3 * STALE_MS, process: containerB }),
    ).rejects.toMatchObject({ code: 'store_failed', message: expect.stringContaining(first.owner.token) });

    first.abandon(); // container A is killed: its heartbeat stops, its lock file stays
    const second = await lockDataDir(lockPath(), {
      staleMs: STALE_MS,
      waitMs: 3 * STALE_MS,
      process: containerB,
    });
    held.push(second);
    expect(second.owner.token).not.toBe(first.owner.token);
  });

  it('takes the folder over at once from a holder that died in its own PID namespace', async () => {
    const holder = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => holder.once('exit', resolve));
    const here = { pid: holder.pid!, pidNamespace: 'boot-1 pid:[4026531836]' };
    const dead = await lockDataDir(lockPath(), { staleMs: 60_000, process: here });
    dead.abandon();
    const next = await lockDataDir(lockPath(), {
      staleMs: 60_000,
      waitMs: 0,
      process: { pid: process.pid, pidNamespace: here.pidNamespace },
    });
    held.push(next);
  });

  it('does not take over from a live holder in its own PID namespace', async () => {
    const ns = 'boot-1 pid:[4026531836]';
    const live = await lockDataDir(lockPath(), {
      staleMs: 60_000,
      process: { pid: process.pid, pidNamespace: ns },
    });
    held.push(live);
    await expect(
      lockDataDir(lockPath(), {
        staleMs: 60_000,
        waitMs: 300,
        process: { pid: process.ppid, pidNamespace: ns },
      }),
    ).rejects.toMatchObject({ code: 'store_failed' });
  });

  it('waits out a lock file of the earlier version (a bare pid) instead of trusting the pid', async () => {
    await writeFile(lockPath(), String(process.pid));
    await expect(lockDataDir(lockPath(), { staleMs: STALE_MS, waitMs: STALE_MS / 2 })).rejects.toMatchObject({
      code: 'store_failed',
    });
    held.push(await lockDataDir(lockPath(), { staleMs: STALE_MS, waitMs: 3 * STALE_MS }));
  });

  it('makes the holding store refuse every call once another instance took the folder', async () => {
    const store = await createLowdbConversationStore({ dataDir, fsync: false, lock: { staleMs: STALE_MS } });
    await store.setCursor('ticket-watcher', 'c-1');
    // Two newcomers raced for a lock they judged stale; the other one's token is in the file now.
    await writeFile(
      lockPath(),
      JSON.stringify({ token: 'someone-else', pid: 1, host: 'b', pidNamespace: null }),
    );
    // Its next heartbeat reads the file back and finds the other token.
    await vi.waitFor(
      async () => {
        await expect(store.getCursor('ticket-watcher')).rejects.toThrow(/taken by another/);
      },
      { timeout: 4 * STALE_MS },
    );
    await expect(store.setCursor('ticket-watcher', 'c-2')).rejects.toMatchObject({ code: 'store_failed' });
    await expect(store.getCursor('ticket-watcher')).rejects.toMatchObject({ code: 'store_failed' });
    await store.close();
  });

  it('is given back on close, so the next instance opens at once', async () => {
    const store = await createLowdbConversationStore({ dataDir, fsync: false });
    await store.close();
    const next = await createLowdbConversationStore({ dataDir, fsync: false, lock: { waitMs: 0 } });
    await next.close();
  });
});
