import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ConversationStore } from '../../src/ports/conversation-store.js';
import { createLowdbConversationStore, readLowdbState } from '../../src/adapters/store/lowdb-store.js';
import { journalGenerations } from '../../src/adapters/store/store-journal.js';
import { describeConversationStoreContract } from './conversation-store.contract.js';
import { makeConversationRecord, makeEndedRecord } from './fixtures.js';
import { spawnGroup, stopGroup } from '../support/process-group.js';

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
  it('moves ended conversations out of the hot document into the archive, and still finds them', async () => {
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
      const hot = readLowdbState(dataDir);
      expect(Object.keys(hot.tickets)).toEqual(['99']);
      expect(store.stats().archived).toBe(20);
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
      await store.close();
      const reopened = await createLowdbConversationStore({ dataDir });
      expect((await reopened.getConversation(5))?.state).toBe('active');
      expect(await reopened.listEnded({ limit: 10 })).toEqual([]);
      await reopened.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a data directory another live process holds, and takes over the lock of a dead one', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tz-lowdb-'));
    const holder = spawnGroup(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await writeFile(join(dataDir, 'ticketzero.lock'), String(holder.pid));
      await expect(createLowdbConversationStore({ dataDir })).rejects.toMatchObject({ code: 'store_failed' });
      await stopGroup(holder, { graceMs: 0 });
      const store = await createLowdbConversationStore({ dataDir });
      expect(await store.getCursor('x')).toBeNull();
      await store.close();
    } finally {
      await stopGroup(holder, { graceMs: 0 });
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the lowdb store killed mid-write', () => {
  it('reopens to a valid document holding every acknowledged update', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tz-lowdb-kill-'));
    try {
      for (let round = 0; round < 3; round += 1) {
        const generationAtStart = Math.max(0, ...(await journalGenerations(dataDir)));
        const acked = new Map<number, number>();
        const ended: number[] = [];
        const child = spawnGroup(
          process.execPath,
          // Round 0 with the default journal size; later rounds compact every ~64 KiB, so kills land mid-compaction.
          [
            '--import',
            'tsx',
            join(import.meta.dirname, 'processes', 'lowdb-writer.ts'),
            dataDir,
            ...(round === 0 ? [] : ['65536']),
          ],
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
        const generationAtKill = Math.max(...(await journalGenerations(dataDir)));
        if (round > 0)
          expect(generationAtKill, 'compactions while writing').toBeGreaterThan(generationAtStart);

        // The files on disk read (no torn snapshot, no broken journal line), and the store opens on them.
        readLowdbState(dataDir);
        const store = await createLowdbConversationStore({ dataDir });
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
