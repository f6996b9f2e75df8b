import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ConversationStore } from '../../src/ports/conversation-store.js';
import { createLowdbConversationStore, readLowdbState } from '../../src/adapters/store/lowdb-store.js';
import { describeConversationStoreContract } from './conversation-store.contract.js';
import { spawnGroup, stopGroup } from '../support/process-group.js';
import { makeComment, makeConversationRecord, makeEndedRecord, makeTurn } from './fixtures.js';

describeConversationStoreContract('the lowdb store', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tz-lowdb-'));
  let current: ConversationStore = await createLowdbConversationStore({ dataDir });
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await createLowdbConversationStore({ dataDir });
      return current;
    },
    cleanup: async () => {
      await current.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

describe('the lowdb store on disk', () => {
  it('keeps a live conversation in its own document and moves it to the archive when it ends, and still finds it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tz-lowdb-'));
    try {
      const store = await createLowdbConversationStore({ dataDir });
      for (let id = 1; id <= 20; id += 1) {
        await store.update(id, () => ({
          conversation: makeEndedRecord(id, '2026-03-01T10:00:00.000Z'),
          result: 0,
        }));
      }
      await store.update(99, () => ({ conversation: makeConversationRecord({ ticketId: 99 }), result: 0 }));
      expect(Object.keys(readLowdbState(dataDir).tickets)).toEqual(['99']);
      expect(await readdir(join(dataDir, 'conversations'))).toEqual(['99.jsonl']);
      expect(await readdir(join(dataDir, 'archive'))).toHaveLength(20);
      expect((await store.getConversation(7))?.state).toBe('resolved');
      await store.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('brings an archived conversation back when it is updated again', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tz-lowdb-'));
    try {
      const store = await createLowdbConversationStore({ dataDir });
      await store.update(5, () => ({
        conversation: makeEndedRecord(5, '2026-03-01T10:00:00.000Z'),
        result: 0,
      }));
      await store.update(5, (current) => ({
        conversation: { ...current!, state: 'active', outcome: null },
        result: 0,
      }));
      expect((await store.listLive()).map((r) => r.ticketId)).toEqual([5]);
      expect((await store.getConversation(5))?.version).toBe(2);
      expect(await readdir(join(dataDir, 'archive'))).toEqual([]);
      await store.close();
      const reopened = await createLowdbConversationStore({ dataDir });
      expect((await reopened.getConversation(5))?.state).toBe('active');
      expect(await reopened.listEnded({ limit: 10 })).toEqual([]);
      await reopened.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('writes one conversation document per turn, the same size with 10 or 1,000 conversations stored', async () => {
    const bytesOfOneTurn = async (stored: number): Promise<number> => {
      const dataDir = await mkdtemp(join(tmpdir(), 'tz-lowdb-'));
      try {
        const store = await createLowdbConversationStore({ dataDir, fsync: false });
        for (let id = 1; id <= stored; id += 1) {
          await store.update(id, () => ({
            conversation:
              id === 1
                ? makeConversationRecord({ ticketId: 1 })
                : makeEndedRecord(id, '2026-03-01T10:00:00.000Z'),
            result: 0,
          }));
        }
        const before = await filesIn(dataDir);
        await store.update(1, (current) => ({
          conversation: { ...current!, turns: [...current!.turns, makeTurn(3, 'assistant', 'Try this')] },
          comments: [makeComment('Try this')],
          result: 0,
        }));
        const changed = changedFiles(before, await filesIn(dataDir));
        expect(changed.map((f) => f.path)).toEqual(['conversations/1.jsonl']);
        expect(before.size).toBe(stored);
        await store.close();
        return changed[0]!.size;
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    };
    expect(await bytesOfOneTurn(1000)).toBe(await bytesOfOneTurn(10));
  });
});

/** Every file under `dir` and its content (the lock file left out: its heartbeat rewrites it). */
async function filesIn(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name === 'ticketzero.lock') continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path), await readFile(path));
  }
  return files;
}

/** The files new or different in `after`, with their sizes. */
function changedFiles(
  before: Map<string, Buffer>,
  after: Map<string, Buffer>,
): Array<{ path: string; size: number }> {
  return [...after]
    .filter(([path, content]) => !before.get(path)?.equals(content))
    .map(([path, content]) => ({ path, size: content.length }));
}

describe('the lowdb store killed mid-write', () => {
  it('reopens to a valid document holding every acknowledged update', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tz-lowdb-kill-'));
    try {
      for (let round = 0; round < 3; round += 1) {
        const acked = new Map<number, number>();
        const ended: number[] = [];
        const child = spawnGroup(
          process.execPath,
          ['--import', 'tsx', join(import.meta.dirname, 'processes', 'lowdb-writer.ts'), dataDir],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        onTestFinished(() => stopGroup(child, { graceMs: 0 })); // also when the test fails or times out
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        let buffered = '';
        const killedAfter = 150 + round * 100;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) {
            const [kind, a] = line.split(' ');
            if (kind === 'ack') acked.set(Number(a), 1);
            if (kind === 'ended') ended.push(Number(a));
          }
          if (acked.size >= killedAfter) child.kill('SIGKILL');
        });
        await exited;
        expect(acked.size, stderr).toBeGreaterThanOrEqual(killedAfter);

        // The files on disk read (no torn document), and the store opens on them at once (the holder is dead).
        readLowdbState(dataDir);
        const store = await createLowdbConversationStore({ dataDir, lock: { waitMs: 0 } });
        const texts = new Set<string>();
        for (const record of await store.listLive()) for (const turn of record.turns) texts.add(turn.text);
        const missing = [...acked.keys()].filter((n) => !texts.has(`message ${n}`));
        expect(missing).toEqual([]);
        for (const id of ended) expect((await store.getConversation(id))?.state).toBe('resolved');

        // Every queued comment of an acknowledged update is in the outbox, in order per ticket.
        const comments: string[] = [];
        for (;;) {
          const due = await store.dueComments(new Date(Date.now() + 1000).toISOString(), 100, 60_000);
          if (due.length === 0) break;
          for (const entry of due) {
            comments.push(entry.comment.text);
            await store.markDelivered(entry.id);
          }
        }
        const delivered = new Set(comments);
        expect([...acked.keys()].filter((n) => !delivered.has(`comment ${n}`))).toEqual([]);
        await store.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the lowdb store opened by node as PID 1 of two containers on one volume', () => {
  // Each process runs as PID 1 of its own PID namespace, as node does in a container.
  const canUnshare = spawnSync('unshare', ['-Urpf', '--mount-proc', 'true']).status === 0;

  function startHolder(dataDir: string) {
    const child = spawnGroup(
      'unshare',
      [
        '-Urpf',
        '--mount-proc',
        process.execPath,
        '--import',
        'tsx',
        join(import.meta.dirname, 'processes', 'lowdb-holder.ts'),
        dataDir,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const said = new Promise<string>((resolve) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', () => resolve(out.trim() || 'exited'));
    });
    return {
      said,
      // unshare and the node it forked: the whole process group, as a container stopped with SIGKILL.
      kill: () => stopGroup(child, { graceMs: 0 }),
    };
  }

  it('lets the second in only after the first is gone', async (context) => {
    // Named in the skip: unshare -Urpf needs unprivileged user and PID namespaces.
    if (!canUnshare) context.skip('unshare -Urpf is not permitted here (no unprivileged PID namespaces)');
    const dataDir = await mkdtemp(join(tmpdir(), 'tz-pid1-'));
    const first = startHolder(dataDir);
    let second: { kill: () => Promise<void> } = { kill: async () => undefined };
    const third: { kill: () => Promise<void> } = { kill: async () => undefined };
    try {
      expect(await first.said).toBe('opened 1');
      const refused = startHolder(dataDir);
      second = refused;
      expect(await refused.said).toBe('refused store_failed');
      await first.kill();
      const next = startHolder(dataDir);
      Object.assign(third, next);
      expect(await next.said).toBe('opened 1');
    } finally {
      await first.kill();
      await second.kill();
      await third.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
