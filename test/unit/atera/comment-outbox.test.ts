import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AteraClient } from '../../../src/adapters/atera/atera-client.js';
import { AteraTicketDesk } from '../../../src/adapters/atera/atera-ticket-desk.js';
import { NO_RETRY } from '../../../src/adapters/atera/retry-policy.js';
import { createInMemoryConversationStore } from '../../../src/adapters/store/in-memory-store.js';
import { createLowdbConversationStore } from '../../../src/adapters/store/lowdb-store.js';
import {
  containsMarker,
  createCommentOutbox,
  type CommentOutboxSettings,
} from '../../../src/engine/comment-outbox.js';
import type { ConversationStore } from '../../../src/ports/conversation-store.js';
import type { NewComment } from '../../../src/ports/ticket-desk.js';
import { startAteraSandbox, type AteraSandbox } from '../../../src/sandboxes/atera/atera-sandbox.js';
import { eventually } from '../../support/waiting.js';
import { keepingLog, settableClock, type SettableClock } from './support/atera-test-kit.js';

const SETTINGS: CommentOutboxSettings = {
  intervalMs: 1000,
  batchSize: 10,
  leaseMs: 30_000,
  baseBackoffMs: 1000,
  maxBackoffMs: 600_000,
  attemptBudget: 3,
};

function turn(ticketId: number, seq: number, text = `Turn ${seq}`): NewComment {
  return {
    text,
    visibility: 'internal',
    author: 'ticketzero',
    timestampUtc: new Date(Date.UTC(2026, 0, 1, 10, seq)).toISOString(),
    marker: `tz-${ticketId}-${seq}`,
  };
}

async function record(store: ConversationStore, ticketId: number, comments: NewComment[]): Promise<void> {
  await store.update(ticketId, () => ({ comments, result: undefined }));
}

describe('the comment outbox', () => {
  let sandbox: AteraSandbox;
  let desk: AteraTicketDesk;
  let clock: SettableClock;

  beforeEach(async () => {
    sandbox = await startAteraSandbox();
    // No client retries: the outbox alone must make delivery exactly-once.
    desk = new AteraTicketDesk(
      new AteraClient({ baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey, retry: NO_RETRY }),
      {
        technicianId: 9,
      },
    );
    // A little ahead of the store's own clock, which stamps new entries due at once.
    clock = settableClock(new Date(Date.now() + 5_000));
  });
  afterEach(() => sandbox.close());

  /** TicketZero's comments on the ticket (the sandbox seeds some tickets with people's comments). */
  const ours = (ticketId: number) =>
    sandbox.comments(ticketId).filter((c) => /TicketZero ref tz-/.test(String(c.Comment)));
  /** Every marker on the ticket, in comment order (a folded comment carries several). */
  const markersOn = (ticketId: number) =>
    sandbox.comments(ticketId).flatMap((c) => String(c.Comment).match(/tz-\d+-\d+/g) ?? []);

  /** Drains until nothing is left, moving the clock past each backoff (no real waiting). */
  async function deliverAll(outbox: ReturnType<typeof createCommentOutbox>, store: ConversationStore) {
    for (let i = 0; i < 20 && (await store.outboxStats()).depth > 0; i++) {
      await outbox.drain();
      clock.advance(SETTINGS.maxBackoffMs + SETTINGS.leaseMs);
    }
  }

  it('delivers each ticket’s comments in order, exactly once, folded, when Atera fails the first attempts', async () => {
    const store = createInMemoryConversationStore();
    const outbox = createCommentOutbox({ store, desk, clock, log: keepingLog(), settings: SETTINGS });
    await record(store, 1005, [turn(1005, 1), turn(1005, 2), turn(1005, 3)]);
    await record(store, 1009, [turn(1009, 1)]);
    sandbox.faults.inject({
      kind: '500',
      match: { method: 'POST', path: '/tickets/1005/comments' },
      times: 2,
    });
    sandbox.faults.inject({ kind: '503', match: { method: 'POST', path: '/tickets/1009/comments' } });

    expect(await outbox.drain()).toBe(0);
    await deliverAll(outbox, store);

    expect(markersOn(1005)).toEqual(['tz-1005-1', 'tz-1005-2', 'tz-1005-3']);
    // The three queued while Atera failed went as one comment, in order.
    expect(ours(1005)).toHaveLength(1);
    expect(String(ours(1005)[0]!.Comment)).toMatch(/Turn 1[\s\S]*Turn 2[\s\S]*Turn 3/);
    expect(markersOn(1009)).toEqual(['tz-1009-1']);
    expect((await store.outboxStats()).depth).toBe(0);
  });

  it('does not post twice when Atera stored the comment but the connection dropped before the answer', async () => {
    const store = createInMemoryConversationStore();
    const outbox = createCommentOutbox({ store, desk, clock, log: keepingLog(), settings: SETTINGS });
    await record(store, 1002, [turn(1002, 1), turn(1002, 2)]);
    sandbox.faults.inject({ kind: 'store-then-drop', match: { method: 'POST' } });

    expect(await outbox.drain()).toBe(0);
    // Both went in one comment, which Atera stored.
    expect(markersOn(1002)).toEqual(['tz-1002-1', 'tz-1002-2']);
    await deliverAll(outbox, store);

    // Read back: both markers found, nothing posted again.
    expect(markersOn(1002)).toEqual(['tz-1002-1', 'tz-1002-2']);
    const posts = sandbox.requests.filter((r) => r.method === 'POST').map((r) => r.status);
    expect(posts).toEqual([0]);
    expect((await store.outboxStats()).depth).toBe(0);
  });

  it('backs off exponentially while Atera is down and delivers when it is back', async () => {
    const store = createInMemoryConversationStore();
    const outbox = createCommentOutbox({
      store,
      desk,
      clock,
      log: keepingLog(),
      settings: SETTINGS,
      random: () => 1,
    });
    await record(store, 1004, [turn(1004, 1)]);
    sandbox.faults.inject({ kind: '503', times: 100 });
    await outbox.drain();
    clock.advance(999);
    expect(await outbox.drain()).toBe(0);
    sandbox.resetRequests();
    expect(await outbox.drain()).toBe(0);
    expect(sandbox.requests).toHaveLength(0);
    clock.advance(2);
    await outbox.drain(); // second attempt: read back (503) → next wait 2 s
    clock.advance(1999);
    await outbox.drain();
    expect(sandbox.requests).toHaveLength(1);
    sandbox.faults.clear();
    clock.advance(2);
    expect(await outbox.drain()).toBe(1);
    expect(markersOn(1004)).toEqual(['tz-1004-1']);
  });

  it('keeps a comment Atera refuses for good at the longest backoff, logged as an error, without blocking other tickets', async () => {
    const store = createInMemoryConversationStore();
    const log = keepingLog();
    const outbox = createCommentOutbox({ store, desk, clock, log, settings: SETTINGS });
    await record(store, 777_777, [turn(777_777, 1)]);
    await record(store, 1001, [turn(1001, 1)]);
    for (let i = 0; i < 3; i++) {
      await outbox.drain();
      clock.advance(SETTINGS.maxBackoffMs / 2);
    }
    expect(markersOn(1001)).toEqual(['tz-1001-1']);
    expect((await store.outboxStats()).depth).toBe(1);
    expect(log.entries.filter((e) => e.level === 'error').map((e) => e.fields.ticketId)).toContain(777_777);
    expect(log.entries.at(-1)).toMatchObject({ level: 'error', message: 'comment parked: atera refuses it' });
    // Parked: tried again only after the longest backoff, and still kept.
    sandbox.resetRequests();
    clock.advance(SETTINGS.maxBackoffMs / 2 - 1000);
    await outbox.drain();
    expect(sandbox.requests).toHaveLength(0);
    clock.advance(1000);
    await outbox.drain();
    expect(sandbox.requests.map((r) => r.status)).toEqual([404]);
    expect((await store.outboxStats()).depth).toBe(1);
  });

  describe('across a restart', () => {
    let dataDir: string;
    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'tz-outbox-'));
    });
    afterEach(() => rm(dataDir, { recursive: true, force: true }));

    it('delivers comments recorded before the process stopped, once', async () => {
      let store = await createLowdbConversationStore({ dataDir, fsync: false });
      await record(store, 1003, [turn(1003, 1), turn(1003, 2)]);
      await store.close();

      store = await createLowdbConversationStore({ dataDir, fsync: false });
      const outbox = createCommentOutbox({ store, desk, clock, log: keepingLog(), settings: SETTINGS });
      expect(await outbox.drain()).toBe(2);
      expect(await outbox.drain()).toBe(0);
      expect(markersOn(1003)).toEqual(['tz-1003-1', 'tz-1003-2']);
      expect(ours(1003)).toHaveLength(1);
      await store.close();
    });

    it('reads back before re-posting a comment whose delivery was cut off by the process dying', async () => {
      let store = await createLowdbConversationStore({ dataDir, fsync: false });
      await record(store, 1005, [turn(1005, 1)]);
      // The first process dies while Atera is storing the comment (the answer never comes).
      sandbox.faults.inject({ kind: 'slow', delayMs: 300, match: { method: 'POST' } });
      const dying = createCommentOutbox({ store, desk, clock, log: keepingLog(), settings: SETTINGS });
      const died = dying.drain().catch(() => 0);
      // The POST has reached Atera (not answered yet) when the process dies.
      await eventually(() =>
        expect(sandbox.requests.filter((q) => q.method === 'POST' && q.status === 0)).toHaveLength(1),
      );
      await store.close();
      await died;
      expect(markersOn(1005)).toEqual(['tz-1005-1']);

      store = await createLowdbConversationStore({ dataDir, fsync: false });
      clock.advance(SETTINGS.leaseMs + 1);
      const outbox = createCommentOutbox({ store, desk, clock, log: keepingLog(), settings: SETTINGS });
      expect(await outbox.drain()).toBe(1);
      expect(markersOn(1005)).toEqual(['tz-1005-1']);
      await store.close();
    });
  });

  it('recognises a marker only as a whole token', () => {
    expect(containsMarker('hello\n[TicketZero ref tz-7-1]', 'tz-7-1')).toBe(true);
    expect(containsMarker('hello\n[TicketZero ref tz-7-12]', 'tz-7-1')).toBe(false);
  });
});
