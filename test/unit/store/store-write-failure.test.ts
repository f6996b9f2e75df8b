import * as nodeFs from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryFolder, type FolderFs } from '../../../src/adapters/store/document-folder.js';
import { openDocumentStore } from '../../../src/adapters/store/document-store.js';
import { createLowdbConversationStore, readLowdbState } from '../../../src/adapters/store/lowdb-store.js';
import { StoreError } from '../../../src/adapters/store/store-errors.js';
import type { ConversationStore } from '../../../src/ports/conversation-store.js';
import { makeComment, makeConversationRecord } from '../../contract/fixtures.js';

const diskFull = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

function addRound(store: ConversationStore, ticketId: number) {
  return store.update(ticketId, (current) => ({
    conversation: { ...current!, rounds: current!.rounds + 1 },
    comments: [makeComment(`round ${current!.rounds + 1}`)],
    result: undefined,
  }));
}

describe('a store write that fails', () => {
  it('leaves every reader seeing what the disk holds, and nothing of it is written later', async () => {
    const folders = {
      conversations: createMemoryFolder(),
      archive: createMemoryFolder(),
      values: createMemoryFolder(),
    };
    const store = await openDocumentStore(folders);
    await store.update(7, () => ({
      conversation: makeConversationRecord({ ticketId: 7, rounds: 1 }),
      result: 0,
    }));
    await store.setValue('teams.user-chat', 'megan', { conversation: 'a:1' });
    await store.claimTicket(8, {
      by: 'a',
      at: '2026-03-02T08:00:00Z',
      decision: 'taken',
      ticketCreatedAt: '2026-03-02T08:00:00Z',
    });

    folders.conversations.fail = diskFull;
    folders.values.fail = diskFull;
    await expect(addRound(store, 7)).rejects.toMatchObject({ code: 'store_failed' });
    await expect(store.setValue('teams.user-chat', 'megan', { conversation: 'a:2' })).rejects.toMatchObject({
      code: 'store_failed',
    });
    await expect(
      store.claimTicket(9, {
        by: 'a',
        at: '2026-03-02T08:00:00Z',
        decision: 'taken',
        ticketCreatedAt: '2026-03-02T08:00:00Z',
      }),
    ).rejects.toMatchObject({ code: 'store_failed' });

    // Readers see the last write that succeeded.
    expect((await store.getConversation(7))?.rounds).toBe(1);
    expect((await store.listLive()).map((r) => [r.ticketId, r.rounds, r.version])).toEqual([[7, 1, 1]]);
    expect((await store.outboxStats()).depth).toBe(0);
    expect(await store.getValue('teams.user-chat', 'megan')).toEqual({ conversation: 'a:1' });

    // The disk recovers; the next writes start from what the disk holds, and the failed change never appears.
    folders.conversations.fail = null;
    folders.values.fail = null;
    await addRound(store, 7);
    await store.update(70, () => ({ conversation: makeConversationRecord({ ticketId: 70 }), result: 0 }));
    expect(
      await store.claimTicket(9, {
        by: 'b',
        at: '2026-03-02T08:01:00Z',
        decision: 'taken',
        ticketCreatedAt: '2026-03-02T08:00:00Z',
      }),
    ).toBe(true);
    const record = await store.getConversation(7);
    expect([record?.rounds, record?.version]).toEqual([2, 2]);
    const due = await store.dueComments(new Date(Date.now() + 1000).toISOString(), 10, 60_000);
    expect(due.filter((e) => e.ticketId === 7).map((e) => [e.seq, e.comment.text])).toEqual([[1, 'round 2']]);
    await store.close();

    const reopened = await openDocumentStore(folders);
    expect((await reopened.getConversation(7))?.version).toBe(2);
    expect(await reopened.getValue('teams.user-chat', 'megan')).toEqual({ conversation: 'a:1' });
    await reopened.close();
  });

  it('keeps a comment pending when recording its delivery fails', async () => {
    const folders = {
      conversations: createMemoryFolder(),
      archive: createMemoryFolder(),
      values: createMemoryFolder(),
    };
    const store = await openDocumentStore(folders);
    await store.update(5, () => ({ comments: [makeComment('to Atera')], result: 0 }));
    const [entry] = await store.dueComments(new Date(Date.now() + 1000).toISOString(), 10, 60_000);
    folders.conversations.fail = diskFull;
    await expect(store.markDelivered(entry!.id)).rejects.toMatchObject({ code: 'store_failed' });
    await expect(store.markFailed(entry!.id, 'Atera 503', new Date().toISOString())).rejects.toMatchObject({
      code: 'store_failed',
    });
    expect(await store.outboxStats()).toMatchObject({ depth: 1 });
    folders.conversations.fail = null;
    const reopened = await openDocumentStore(folders);
    const [again] = await reopened.dueComments(new Date(Date.now() + 1000).toISOString(), 10, 60_000);
    expect([again?.id, again?.attempts]).toEqual([entry!.id, 0]);
  });

  it('on the lowdb store, an append the disk refuses (EIO at fdatasync) changes nothing in memory or on disk, and reaches the caller typed', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tz-write-fail-'));
    const disk = failingDisk();
    try {
      const store = await createLowdbConversationStore({ dataDir, fs: disk.fs });
      await store.update(7, () => ({
        conversation: makeConversationRecord({ ticketId: 7, rounds: 1 }),
        result: 0,
      }));
      const fileBefore = await readFile(join(dataDir, 'conversations', '7.jsonl'), 'utf8');

      disk.failNext('datasync', ioError); // the line reached the file; the disk cannot make it durable
      const failed = await addRound(store, 7).catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(StoreError);
      expect(failed).toMatchObject({ code: 'store_failed', cause: { code: 'EIO' } });

      // Memory is as the disk: the failed round is neither in memory nor in the file.
      expect((await store.getConversation(7))?.rounds).toBe(1);
      expect((await store.findLiveByUser(makeConversationRecord().user!.id)).map((r) => r.rounds)).toEqual([
        1,
      ]);
      expect((await store.outboxStats()).depth).toBe(0);
      expect(await readFile(join(dataDir, 'conversations', '7.jsonl'), 'utf8')).toBe(fileBefore);
      expect(readLowdbState(dataDir).tickets['7']?.record?.rounds).toBe(1);

      // The disk recovers: the next round starts from what the disk holds.
      await addRound(store, 7);
      await store.close();
      const reopened = await createLowdbConversationStore({ dataDir });
      expect([
        (await reopened.getConversation(7))?.rounds,
        (await reopened.getConversation(7))?.version,
      ]).toEqual([2, 2]);
      const due = await reopened.dueComments(new Date(Date.now() + 1000).toISOString(), 10, 60_000);
      expect(due.map((e) => [e.seq, e.comment.text])).toEqual([[1, 'round 2']]);
      await reopened.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('on the lowdb store, a new document the disk is too full to write is not there, in memory or on disk', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tz-write-fail-'));
    const disk = failingDisk();
    try {
      const store = await createLowdbConversationStore({ dataDir, fs: disk.fs });
      disk.failNext('write', diskFull);
      await expect(
        store.update(8, () => ({ conversation: makeConversationRecord({ ticketId: 8 }), result: 0 })),
      ).rejects.toMatchObject({ code: 'store_failed', cause: { code: 'ENOSPC' } });
      expect(await store.getConversation(8)).toBeNull();
      expect(await store.listLive()).toEqual([]);
      expect(await readdir(join(dataDir, 'conversations'))).toEqual([]);
      await store.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('on the lowdb store, concurrent writes to many documents all reach disk, and a failed fdatasync of one rolls back only that one', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tz-write-fail-'));
    const failing = join(dataDir, 'conversations', '13.jsonl');
    let failed = 0;
    // The real file system, except that the first fdatasync of conversation 13's file (not a temporary file) fails.
    const fs: FolderFs = {
      ...nodeFs,
      open: (async (...args: Parameters<typeof nodeFs.open>) => {
        const handle = await nodeFs.open(...args);
        if (args[0] !== failing) return handle;
        return Object.assign(Object.create(handle) as FileHandle, {
          write: (...a: Parameters<FileHandle['write']>) => handle.write(...(a as [string])),
          writeFile: (...a: Parameters<FileHandle['writeFile']>) => handle.writeFile(...a),
          datasync: async () => {
            if (failed === 0) {
              failed += 1;
              throw ioError;
            }
            return handle.datasync();
          },
          truncate: (len?: number) => handle.truncate(len),
          close: () => handle.close(),
          sync: () => handle.sync(),
        });
      }) as typeof nodeFs.open,
    };
    const tickets = Array.from({ length: 20 }, (_, i) => i + 1);
    try {
      const store = await createLowdbConversationStore({ dataDir, fs });
      await Promise.all(
        tickets.map((ticketId) =>
          store.update(ticketId, () => ({
            conversation: makeConversationRecord({ ticketId, rounds: 1 }),
            result: 0,
          })),
        ),
      );
      const before13 = await readFile(failing, 'utf8');

      // Every conversation gets a round at once; the disk refuses only conversation 13's.
      const outcomes = await Promise.allSettled(tickets.map((ticketId) => addRound(store, ticketId)));
      expect(failed).toBe(1);
      expect(outcomes.flatMap((outcome, i) => (outcome.status === 'rejected' ? [tickets[i]] : []))).toEqual([
        13,
      ]);
      expect(outcomes[12]).toMatchObject({ reason: { code: 'store_failed', cause: { code: 'EIO' } } });

      // In memory and on disk: every other round is there, conversation 13's is in neither.
      const expected = Object.fromEntries(tickets.map((id) => [id, id === 13 ? 1 : 2]));
      expect(Object.fromEntries((await store.listLive()).map((r) => [r.ticketId, r.rounds]))).toEqual(
        expected,
      );
      const onDisk = readLowdbState(dataDir);
      expect(
        Object.fromEntries(Object.entries(onDisk.tickets).map(([id, t]) => [Number(id), t.record?.rounds])),
      ).toEqual(expected);
      expect(await readFile(failing, 'utf8')).toBe(before13);
      expect(onDisk.outbox.map((e) => e.ticketId).sort((a, b) => a - b)).toEqual(
        tickets.filter((id) => id !== 13),
      );
      await store.close();

      const reopened = await createLowdbConversationStore({ dataDir });
      expect(Object.fromEntries((await reopened.listLive()).map((r) => [r.ticketId, r.rounds]))).toEqual(
        expected,
      );
      await reopened.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

const ioError = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });

/**
 * The real file system, except that the next call of one FileHandle method (`write`, `writeFile` or `datasync`)
 * throws the given error, as a full or failing disk does.
 */
function failingDisk() {
  let next: { method: 'write' | 'datasync'; error: Error } | null = null;
  const fail = (method: 'write' | 'datasync') => {
    if (next?.method !== method) return;
    const { error } = next;
    next = null;
    throw error;
  };
  const fs: FolderFs = {
    ...nodeFs,
    open: (async (...args: Parameters<typeof nodeFs.open>) => {
      const handle = await nodeFs.open(...args);
      return Object.assign(Object.create(handle) as FileHandle, {
        write: async (...a: Parameters<FileHandle['write']>) => {
          fail('write');
          return handle.write(...(a as [string]));
        },
        writeFile: async (...a: Parameters<FileHandle['writeFile']>) => {
          fail('write');
          return handle.writeFile(...a);
        },
        datasync: async () => {
          fail('datasync');
          return handle.datasync();
        },
        truncate: (len?: number) => handle.truncate(len),
        close: () => handle.close(),
        sync: () => handle.sync(),
      });
    }) as typeof nodeFs.open,
  };
  return {
    fs,
    failNext(method: 'write' | 'datasync', error: Error) {
      next = { method, error };
    },
  };
}
