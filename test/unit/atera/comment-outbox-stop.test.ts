import { describe, expect, it } from 'vitest';
import { createInMemoryConversationStore } from '../../../src/adapters/store/in-memory-store.js';
import { createCommentOutbox } from '../../../src/engine/comment-outbox.js';
import { silentLog } from '../../../src/ports/log.js';
import type { NewComment } from '../../../src/ports/ticket-desk.js';
import { InMemoryTicketDesk, ManualClock } from '../../support/in-memory-ports.js';

// Alternating visibility: each is a comment of its own (the outbox folds only comments of one visibility).
const comment = (n: number): NewComment => ({
  text: `turn ${n}`,
  visibility: n % 2 === 1 ? 'internal' : 'public',
  author: 'ticketzero',
  timestampUtc: '2026-11-25T09:00:00.000Z',
  marker: `tz-1-${n}`,
});

describe('stopping the comment outbox', () => {
  it('finishes the delivery in flight and leaves the rest queued for the next start', async () => {
    const store = createInMemoryConversationStore();
    const desk = new InMemoryTicketDesk();
    let release: () => void = () => {};
    let entered: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const posting = new Promise<void>((resolve) => (entered = resolve));
    const post = desk.addComment.bind(desk);
    desk.addComment = async (ticketId, c) => {
      entered();
      await gate;
      await post(ticketId, c);
    };
    await store.update(1, () => ({ comments: [1, 2, 3, 4, 5].map(comment), result: undefined }));
    const outbox = createCommentOutbox({
      store,
      desk,
      clock: new ManualClock(new Date(Date.now() + 60_000)),
      log: silentLog,
      settings: { intervalMs: 60_000, batchSize: 10, leaseMs: 60_000, baseBackoffMs: 10, maxBackoffMs: 100 },
    });
    outbox.start();
    await posting; // the first comment is on its way to Atera
    const stopped = outbox.stop();
    release();
    await stopped;
    expect(desk.comments.get(1)?.map((c) => c.text)).toEqual(['turn 1']);
    expect((await store.outboxStats()).depth).toBe(4);
  });
});
