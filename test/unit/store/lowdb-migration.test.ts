import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLowdbConversationStore } from '../../../src/adapters/store/lowdb-store.js';

/**
 * test/fixtures/lowdb-v1 was written by the first lowdb layout: a session closed cleanly (snapshot), then a second
 * one killed (its changes only in the journal, the last append torn, its pid left in the lock file).
 */
const V1 = join(import.meta.dirname, '..', '..', 'fixtures', 'lowdb-v1');

describe('a data folder written by the first lowdb layout', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tz-v1-'));
    await cp(V1, dataDir, { recursive: true });
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('opens with everything the old store had acknowledged, converted to documents, the old files gone', async () => {
    const store = await createLowdbConversationStore({ dataDir, lock: { staleMs: 200 } });
    const one = await store.getConversation(1);
    expect(one?.turns.map((t) => t.text).at(-1)).toBe('Try this');
    expect(one?.version).toBe(2);
    expect((await store.listLive()).map((r) => [r.ticketId, r.state])).toEqual([
      [1, 'active'],
      [4, 'paused'],
    ]);
    expect((await store.listEnded({ limit: 10 })).map((r) => [r.ticketId, r.rounds])).toEqual([
      [5, 1],
      [3, 5],
      [2, 1],
    ]);
    // Comment 1 was delivered before the kill; 2 and 3 are pending, in order.
    const texts: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      for (const entry of await store.dueComments(new Date(Date.now() + 1000).toISOString(), 10, 60_000)) {
        texts.push(`${entry.seq} ${entry.comment.text}`);
        await store.markDelivered(entry.id);
      }
    }
    expect(texts).toEqual(['2 c1-2', '3 c1-3']);
    expect(await store.claimTicket(1, { by: 'b', at: 'x', decision: 'taken', ticketCreatedAt: 'x' })).toBe(
      false,
    );
    expect(await store.claimTicket(6, { by: 'b', at: 'x', decision: 'taken', ticketCreatedAt: 'x' })).toBe(
      false,
    );
    // The torn last journal line (cursor-torn) was never acknowledged.
    expect(await store.getCursor('ticket-watcher')).toBe('cursor-2');
    expect(await store.getValue('teams.user-chat', 'megan')).toEqual({ conversation: 'a:1' });
    await store.close();

    expect((await readdir(dataDir)).sort()).toEqual(['archive', 'conversations', 'values']);
    expect((await readdir(join(dataDir, 'archive'))).sort()).toEqual([
      '2-1772359200000.jsonl',
      '3-1772445600000.jsonl',
      '5-1772532000000.jsonl',
    ]);
    const reopened = await createLowdbConversationStore({ dataDir, lock: { waitMs: 0 } });
    expect((await reopened.getConversation(1))?.version).toBe(2);
    expect(await reopened.getCursor('ticket-watcher')).toBe('cursor-2');
    await reopened.close();
  });
});
