import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createLowdbConversationStore,
  HOT_DOCUMENT,
  readLowdbState,
} from '../../../src/adapters/store/lowdb-store.js';
import { journalFileName } from '../../../src/adapters/store/store-journal.js';
import type { ConversationStore } from '../../../src/ports/conversation-store.js';
import { makeComment, makeConversationRecord, makeTurn } from '../../contract/fixtures.js';

/** What the engine writes for one answered user message: both turns and both comments, then both delivered. */
async function turn(store: ConversationStore, ticketId: number, n: number): Promise<void> {
  await store.update(ticketId, (current) => {
    const base = current ?? makeConversationRecord({ ticketId, turns: [] });
    return {
      conversation: {
        ...base,
        turns: [
          ...base.turns,
          makeTurn(base.turns.length + 1, 'user', `It still asks for the password (${n})`),
          makeTurn(base.turns.length + 2, 'assistant', `Please remove the saved credentials (${n})`),
        ],
      },
      comments: [makeComment(`user ${n}`), makeComment(`answer ${n}`)],
      result: undefined,
    };
  });
  for (;;) {
    const due = await store.dueComments(new Date(Date.now() + 60_000).toISOString(), 100, 60_000);
    if (due.length === 0) return;
    for (const entry of due) await store.markDelivered(entry.id);
  }
}

describe("the lowdb store's journal", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tz-journal-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('writes the same bytes for a turn whether 10 or 500 conversations are live', async () => {
    const bytesOfOneTurn = async (live: number): Promise<number> => {
      const dir = await mkdtemp(join(tmpdir(), 'tz-journal-'));
      try {
        const store = await createLowdbConversationStore({ dataDir: dir, fsync: false });
        for (let id = 1; id <= live; id += 1) await turn(store, id, 0);
        const before = store.stats().journalBytes;
        await turn(store, 1, 1);
        const bytes = store.stats().journalBytes - before;
        expect(store.stats().compactions).toBe(0);
        await store.close();
        return bytes;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    };
    const few = await bytesOfOneTurn(10);
    const many = await bytesOfOneTurn(500);
    expect(few).toBeGreaterThan(0);
    expect(many).toBe(few);
  });

  it('keeps every acknowledged change in the journal, not in the snapshot, until it compacts', async () => {
    const store = await createLowdbConversationStore({ dataDir });
    await turn(store, 1, 1);
    await store.setCursor('atera', '2026-03-02T08:00:00.000Z');
    await store.setValue('teams.user-chat', 'megan', { conversationId: 'a:1' });
    await expect(stat(join(dataDir, HOT_DOCUMENT))).rejects.toMatchObject({ code: 'ENOENT' });
    const state = readLowdbState(dataDir);
    expect(state.tickets['1']?.record?.turns).toHaveLength(2);
    expect(state.cursors).toEqual({ atera: '2026-03-02T08:00:00.000Z' });
    expect(state.kv['teams.user-chat']).toEqual({ megan: { conversationId: 'a:1' } });
    expect(state.outbox).toEqual([]);
    await store.close();
  });

  it('compacts into a new snapshot once the journal is large, deletes the old journal, and reopens to the same state', async () => {
    const store = await createLowdbConversationStore({ dataDir, compactAfterBytes: 8 * 1024 });
    for (let n = 1; n <= 60; n += 1) await turn(store, 1 + (n % 5), n);
    const stats = store.stats();
    expect(stats.compactions).toBeGreaterThan(0);
    const journals = (await readdir(dataDir)).filter((f) => f.startsWith('ticketzero.journal-'));
    expect(journals.length).toBeLessThanOrEqual(2);
    const before = readLowdbState(dataDir);
    await store.close();

    const reopened = await createLowdbConversationStore({ dataDir });
    const live = await reopened.listLive();
    expect(live.map((r) => [r.ticketId, r.turns.length])).toEqual([
      [1, 24],
      [2, 24],
      [3, 24],
      [4, 24],
      [5, 24],
    ]);
    expect(readLowdbState(dataDir)).toEqual(before);
    await reopened.close();
  });

  it('leaves one snapshot and an empty journal after a clean close', async () => {
    const store = await createLowdbConversationStore({ dataDir });
    await turn(store, 1, 1);
    await store.close();
    const snapshot = JSON.parse(await readFile(join(dataDir, HOT_DOCUMENT), 'utf8')) as {
      journal: number;
      tickets: Record<string, unknown>;
    };
    expect(Object.keys(snapshot.tickets)).toEqual(['1']);
    const journals = (await readdir(dataDir)).filter((f) => f.startsWith('ticketzero.journal-'));
    expect(journals).toEqual([journalFileName(snapshot.journal)]);
    expect((await stat(join(dataDir, journalFileName(snapshot.journal)))).size).toBe(0);
  });

  it('cuts off a journal line torn mid-append and keeps the changes before it', async () => {
    const store = await createLowdbConversationStore({ dataDir });
    await turn(store, 1, 1);
    await store.close();
    // Then a process appended one change, acknowledged it, and was killed in the middle of the next append.
    const [journal] = (await readdir(dataDir)).filter((f) => f.startsWith('ticketzero.journal-'));
    const acknowledged = '{"t":"cursor","name":"atera","value":"two"}\n';
    await appendFile(join(dataDir, journal!), `${acknowledged}{"t":"cursor","name":"atera","val`);

    const reopened = await createLowdbConversationStore({ dataDir });
    expect((await stat(join(dataDir, journal!))).size).toBe(acknowledged.length);
    expect(await reopened.getCursor('atera')).toBe('two');
    expect((await reopened.getConversation(1))?.turns).toHaveLength(2);
    await reopened.setCursor('atera', 'three');
    await reopened.close();
    const again = await createLowdbConversationStore({ dataDir });
    expect(await again.getCursor('atera')).toBe('three');
    await again.close();
  });

  it('refuses to open on a journal with a damaged line in the middle instead of dropping what follows', async () => {
    await writeFile(
      join(dataDir, journalFileName(1)),
      '{"t":"cursor","name":"a","value":"1"}\n{"t":"cur\n{"t":"cursor","name":"a","value":"2"}\n',
    );
    await expect(createLowdbConversationStore({ dataDir })).rejects.toMatchObject({ code: 'store_corrupt' });
  });

  it('replays every journal generation from the one the snapshot names, as after a crash mid-compaction', async () => {
    // The process had started generation 3 and was writing the snapshot naming it when it was killed:
    // the snapshot on disk still names generation 2, whose changes and generation 3's must both count.
    await writeFile(
      join(dataDir, HOT_DOCUMENT),
      JSON.stringify({
        format: 1,
        journal: 2,
        cursors: { a: 'snapshot' },
        claims: {},
        kv: {},
        tickets: {},
        outbox: [],
      }),
    );
    await writeFile(join(dataDir, journalFileName(1)), '{"t":"cursor","name":"a","value":"stale"}\n');
    await writeFile(join(dataDir, journalFileName(2)), '{"t":"cursor","name":"b","value":"gen 2"}\n');
    await writeFile(join(dataDir, journalFileName(3)), '{"t":"cursor","name":"a","value":"gen 3"}\n');
    const store = await createLowdbConversationStore({ dataDir });
    expect(await store.getCursor('a')).toBe('gen 3');
    expect(await store.getCursor('b')).toBe('gen 2');
    // Generation 1 is older than the snapshot: it was deleted, not replayed.
    expect(await readdir(dataDir)).not.toContain(journalFileName(1));
    await store.setCursor('c', 'after');
    await store.close();
    const reopened = await createLowdbConversationStore({ dataDir });
    expect([
      await reopened.getCursor('a'),
      await reopened.getCursor('b'),
      await reopened.getCursor('c'),
    ]).toEqual(['gen 3', 'gen 2', 'after']);
    await reopened.close();
  });
});
