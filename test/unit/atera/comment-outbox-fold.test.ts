/**
 * Every turn in Atera, at most one call per round (issue 20): a round's user message and its answer are one Atera
 * comment; a message no answer follows goes alone; when a ticket's comments queue up (Atera slow, 429, 5xx) the
 * outbox folds them into one comment, in order, markers kept, nothing lost or doubled, within the Atera budget —
 * across a crash between the write and its record too; and the two-way reading never takes a folded comment for
 * someone's words.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AteraClient } from '../../../src/adapters/atera/atera-client.js';
import { AteraTicketDesk } from '../../../src/adapters/atera/atera-ticket-desk.js';
import { NO_RETRY } from '../../../src/adapters/atera/retry-policy.js';
import { createInMemoryConversationStore } from '../../../src/adapters/store/in-memory-store.js';
import { createLowdbConversationStore } from '../../../src/adapters/store/lowdb-store.js';
import { isTicketZeroComment } from '../../../src/engine/atera-comment-text.js';
import { createCommentOutbox, type CommentOutboxSettings } from '../../../src/engine/comment-outbox.js';
import type { ConversationStore } from '../../../src/ports/conversation-store.js';
import type { NewComment } from '../../../src/ports/ticket-desk.js';
import { startAteraSandbox, type AteraSandbox } from '../../../src/sandboxes/atera/atera-sandbox.js';
import { continueAnswer, makeTicket, ManualClock } from '../../support/in-memory-ports.js';
import { expectNothingWithin, eventually } from '../../support/waiting.js';
import { createHarness, type Harness } from '../engine/engine-harness.js';
import { keepingLog, settableClock } from './support/atera-test-kit.js';

const SETTINGS: CommentOutboxSettings = {
  intervalMs: 60_000,
  batchSize: 10,
  leaseMs: 60_000,
  baseBackoffMs: 20,
  maxBackoffMs: 100,
  answerWaitMs: 20_000,
};

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 25, 9, 0, seconds)).toISOString();

function userSaid(ticketId: number, seq: number, text: string, awaitsAnswer = true): NewComment {
  return {
    text: `Megan Bowen (end user, via Teams) — round ${seq}:\n${text}`,
    visibility: 'internal',
    author: 'end_user',
    endUserId: 42,
    timestampUtc: at(seq),
    marker: `tz-${ticketId}-${seq}`,
    ...(awaitsAnswer ? { awaitsAnswer: true } : {}),
  };
}

function answered(ticketId: number, seq: number, text: string): NewComment {
  return {
    text: `TicketZero (AI assistant) — round ${seq} of 10 [model: scripted]:\n${text}`,
    visibility: 'internal',
    author: 'ticketzero',
    timestampUtc: at(seq),
    marker: `tz-${ticketId}-${seq}`,
  };
}

const queue = (store: ConversationStore, ticketId: number, comments: NewComment[]) =>
  store.update(ticketId, () => ({ comments, result: undefined }));

/** An outbox over the engine harness's store and in-memory Atera, with a clock of its own (after the store's). */
function outboxOf(h: Harness) {
  const clock = new ManualClock(new Date(Date.now() + 60_000));
  const outbox = createCommentOutbox({
    store: h.store,
    desk: h.desk,
    clock,
    log: keepingLog(),
    settings: SETTINGS,
  });
  return { outbox, clock };
}

describe('a round in Atera (engine and outbox)', () => {
  it('is one comment: the user’s words, then the answer, each attributed and timestamped', async () => {
    const h = createHarness();
    const { outbox } = outboxOf(h);
    h.model.push(
      continueAnswer('Is there a yellow banner?'),
      continueAnswer('Click “Update password” in it.'),
    );
    await h.engine.startTicket(makeTicket({ id: 300 }));
    await outbox.drain();
    const before = h.desk.comments.get(300)!.length;

    // The answer is still being written when the outbox looks: the user's words wait for it.
    const model = h.model.hold();
    await h.unsettled.onUserMessage(h.message('Yes, there is a banner that says "Need password"'));
    await model.started;
    expect(await outbox.drain()).toBe(0);
    expect(h.desk.comments.get(300)).toHaveLength(before);

    model.release();
    await h.unsettled.idle();
    expect(await outbox.drain()).toBe(2);
    const round = h.desk.comments.get(300)!.slice(before);
    expect(round).toHaveLength(1);
    const turns = (await h.store.getConversation(300))!.turns.slice(-2);
    expect(turns.map((t) => t.role)).toEqual(['user', 'assistant']);
    expect(round[0]).toMatchObject({
      author: 'ticketzero',
      visibility: 'internal',
      marker: `tz-300-${turns[0]!.seq} tz-300-${turns[1]!.seq}`,
      timestampUtc: turns[0]!.at,
    });
    expect(round[0]!.text).toMatch(
      /^2026-11-25 09:00:00 UTC · Megan Bowen \(end user, via Teams\) — round 1:\nYes, there is a banner that says "Need password"\n\n2026-11-25 09:00:00 UTC · TicketZero \(AI assistant\) — round 1 of 10 \[model: scripted\]:\nClick “Update password” in it\.$/,
    );
  });

  it('waits for an answer only when one is coming: a message that hands over, or confirms, is not held', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 301 }));
    await h.say('The status bar says Disconnected');
    await h.say('Please get me a technician');
    const pending = await h.store.pendingComments(301, 50);
    const fromUser = pending.filter((e) => e.comment.author === 'end_user');
    expect(fromUser.map((e) => [e.comment.text.split('\n')[1], e.comment.awaitsAnswer])).toEqual([
      ['The status bar says Disconnected', true],
      ['Please get me a technician', undefined],
    ]);
  });
});

describe('a turn without an answer', () => {
  it('goes alone and at once when it hands over; what follows is a comment of its own', async () => {
    const h = createHarness();
    const { outbox } = outboxOf(h);
    await queue(h.store, 310, [userSaid(310, 1, 'Please get me a technician', false)]);
    expect(await outbox.drain()).toBe(1);
    await queue(h.store, 310, [
      { ...answered(310, 2, 'x'), text: 'TicketZero: handed over to a technician.', marker: 'tz-note' },
    ]);
    expect(await outbox.drain()).toBe(1);
    expect(h.desk.comments.get(310)!.map((c) => [c.author, c.marker])).toEqual([
      ['end_user', 'tz-310-1'],
      ['ticketzero', 'tz-note'],
    ]);
  });

  it('goes alone once the wait is over when the model does not answer in time; the late answer follows', async () => {
    const h = createHarness();
    const { outbox, clock } = outboxOf(h);
    await queue(h.store, 311, [userSaid(311, 1, 'Outlook is slow')]);
    expect(await outbox.drain()).toBe(0);
    clock.advanceMs(19_999);
    expect(await outbox.drain()).toBe(0);
    clock.advanceMs(1);
    expect(await outbox.drain()).toBe(1);
    await queue(h.store, 311, [answered(311, 2, 'Sorry, a technician will take it from here.')]);
    expect(await outbox.drain()).toBe(1);
    const comments = h.desk.comments.get(311)!;
    expect(comments.map((c) => c.marker)).toEqual(['tz-311-1', 'tz-311-2']);
    // Alone, it is written as the end user, as before folding.
    expect(comments[0]).toMatchObject({ author: 'end_user', endUserId: 42 });
    expect(comments[0]).not.toHaveProperty('awaitsAnswer');
  });
});

describe('waiting for an answer', () => {
  it('does not wait again for a message whose delivery failed: it is retried, folded with what came meanwhile', async () => {
    const h = createHarness();
    const { outbox, clock } = outboxOf(h);
    const failing = h.desk.addComment.bind(h.desk);
    let failures = 1;
    h.desk.addComment = async (ticketId, comment) => {
      if (failures-- > 0) throw new Error('Atera 503');
      await failing(ticketId, comment);
    };
    await queue(h.store, 312, [userSaid(312, 1, 'Outlook is slow')]);
    expect(await outbox.drain()).toBe(0);
    clock.advanceMs(SETTINGS.answerWaitMs!);
    expect(await outbox.drain()).toBe(0); // the post failed
    await queue(h.store, 312, [userSaid(312, 2, 'Hello?')]);
    clock.advanceMs(SETTINGS.maxBackoffMs);
    expect(await outbox.drain()).toBe(2);
    expect(h.desk.comments.get(312)!.map((c) => c.marker)).toEqual(['tz-312-1 tz-312-2']);
  });
});

describe('the two-way reading of Atera comments', () => {
  it('never relays a folded comment to the chat, whether written as TicketZero or as the user', async () => {
    const h = createHarness();
    const { outbox, clock } = outboxOf(h);
    h.desk.add(makeTicket({ id: 320 }));
    h.model.push(continueAnswer('Please restart Outlook.'));
    await h.engine.startTicket(makeTicket({ id: 320 }));
    await h.say('I restarted it, still the same');
    await outbox.drain();
    // Messages no answer follows (paused, after a hand-over) fold as the user's own comment.
    await queue(h.store, 320, [
      userSaid(320, 90, 'One more thing', false),
      userSaid(320, 91, 'It also happens on my phone', false),
    ]);
    clock.advanceMs(SETTINGS.answerWaitMs!);
    await outbox.drain();
    const written = h.desk.comments.get(320)!;
    expect(written.some((c) => c.marker.includes(' ') && c.author === 'ticketzero')).toBe(true);
    expect(written.at(-1)).toMatchObject({ author: 'end_user', marker: 'tz-320-90 tz-320-91' });

    // A technician writes on the ticket too: that one, and only that one, comes to the chat.
    const changed = h.desk.write(320, {
      author: 'technician',
      authorEmail: 'dana.tech@msp.example',
      authorName: 'Dana Tech',
      text: 'I reset your mailbox.',
      internal: false,
    });
    const turns = (await h.store.getConversation(320))!.turns.length;
    await h.engine.onTicketChanged(changed);
    const after = (await h.store.getConversation(320))!.turns.slice(turns);
    expect(after.map((t) => [t.role, t.text])).toEqual([['technician', 'I reset your mailbox.']]);
    expect(h.chat.texts().join('\n')).not.toMatch(/One more thing|still the same|tz-320/);
  });

  it('recognises every folded comment as TicketZero’s as Atera returns it (HTML, marker line per part)', async () => {
    const sandbox = await startAteraSandbox();
    try {
      const desk = new AteraTicketDesk(
        new AteraClient({ baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey, retry: NO_RETRY }),
        { technicianId: 9 },
      );
      const store = createInMemoryConversationStore();
      const outbox = createCommentOutbox({
        store,
        desk,
        clock: settableClock(new Date(Date.now() + 60_000)),
        log: keepingLog(),
        settings: SETTINGS,
      });
      await queue(store, 1006, [userSaid(1006, 1, 'a <b>bold</b> claim'), answered(1006, 2, 'Fine & dandy')]);
      await queue(store, 1006, [userSaid(1006, 3, 'one', false), userSaid(1006, 4, 'two', false)]);
      await outbox.drain();
      const ours = (await desk.listComments(1006)).filter((c) => /tz-1006-/.test(c.text));
      expect(ours).toHaveLength(1);
      expect(ours[0]!.text).toMatch(
        /a <b>bold<\/b> claim[\s\S]*Fine & dandy[\s\S]*one[\s\S]*two\n\n\[TicketZero ref tz-1006-1\] \[TicketZero ref tz-1006-2\] \[TicketZero ref tz-1006-3\] \[TicketZero ref tz-1006-4\]$/,
      );
      expect(ours.every((c) => isTicketZeroComment(c.text))).toBe(true);
    } finally {
      await sandbox.close();
    }
  });
});

describe('comments queued while Atera fails (429, 5xx), then recovers', () => {
  let sandbox: AteraSandbox;
  beforeEach(async () => {
    sandbox = await startAteraSandbox();
  });
  afterEach(() => sandbox.close());

  const ours = (ticketId: number) =>
    sandbox.comments(ticketId).filter((c) => /TicketZero ref tz-/.test(String(c.Comment)));
  const markersOn = (ticketId: number) =>
    ours(ticketId).flatMap((c) => String(c.Comment).match(/tz-\d+-\d+/g) ?? []);

  it('arrive folded, in order, none lost, none doubled, every Atera call within the budget', async () => {
    const budget = 12;
    const desk = new AteraTicketDesk(
      new AteraClient({
        baseUrl: sandbox.baseUrl,
        apiKey: sandbox.apiKey,
        requestsPerMinute: budget,
        retry: { maxRetries: 1, budgetMs: 3_000, baseDelayMs: 10, maxDelayMs: 50 },
      }),
      { technicianId: 9 },
    );
    const store = createInMemoryConversationStore();
    const outbox = createCommentOutbox({
      store,
      desk,
      clock: { now: () => new Date(Date.now() + 5_000) },
      log: keepingLog(),
      settings: SETTINGS,
    });
    const started = Date.now();
    // Atera refuses: a 429 (Retry-After 1 s) twice, then 503s; the user keeps talking meanwhile.
    sandbox.faults.inject({ kind: '429', retryAfterSeconds: 1, times: 2, match: { method: 'POST' } });
    sandbox.faults.inject({ kind: '503', times: 3, match: { method: 'POST' } });
    await queue(store, 1007, [userSaid(1007, 1, 'first'), answered(1007, 2, 'answer one')]);
    expect(await outbox.drain()).toBe(0);
    for (let seq = 3; seq <= 10; seq += 2) {
      await queue(store, 1007, [
        userSaid(1007, seq, `message ${seq}`),
        answered(1007, seq + 1, `answer ${seq}`),
      ]);
    }
    await queue(store, 1008, [userSaid(1008, 1, 'other ticket'), answered(1008, 2, 'other answer')]);
    await eventually(
      async () => {
        await outbox.drain();
        expect((await store.outboxStats()).depth).toBe(0);
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    expect(markersOn(1007)).toEqual(Array.from({ length: 10 }, (_, i) => `tz-1007-${i + 1}`));
    expect(ours(1007)).toHaveLength(1);
    expect(String(ours(1007)[0]!.Comment)).toMatch(/first[\s\S]*answer one[\s\S]*message 9[\s\S]*answer 9/);
    expect(markersOn(1008)).toEqual(['tz-1008-1', 'tz-1008-2']);
    expect(ours(1008)).toHaveLength(1);
    const posted = sandbox.requests.filter((r) => r.method === 'POST' && r.status === 201);
    expect(posted).toHaveLength(2);
    // Every call — failed posts, read-backs, retries — in well under a minute, within the per-minute budget.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(sandbox.requests.length).toBeLessThanOrEqual(budget);
  });
});

describe('one Atera budget', () => {
  it('counts the two-way reading of comments and the outbox’s writes against the same rolling limit', async () => {
    const sandbox = await startAteraSandbox();
    try {
      // The app builds one Atera client: the desk the engine reads comments through (AteraReplies.relay) is the
      // desk the outbox writes through.
      const desk = new AteraTicketDesk(
        new AteraClient({
          baseUrl: sandbox.baseUrl,
          apiKey: sandbox.apiKey,
          requestsPerMinute: 2,
          retry: NO_RETRY,
        }),
        { technicianId: 9 },
      );
      await desk.listComments(1006);
      await desk.listComments(1006);
      let posted = false;
      void desk
        .addComment(1006, answered(1006, 1, 'over the budget'))
        .then(() => (posted = true))
        .catch(() => undefined);
      await expectNothingWithin(500, () => expect(posted).toBe(false));
      expect(sandbox.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
    } finally {
      await sandbox.close();
    }
  });
});

describe('a crash between the Atera write and its record', () => {
  let sandbox: AteraSandbox;
  let dataDir: string;
  beforeEach(async () => {
    sandbox = await startAteraSandbox();
    dataDir = await mkdtemp(join(tmpdir(), 'tz-fold-'));
  });
  afterEach(async () => {
    await sandbox.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const markersOn = (ticketId: number) =>
    sandbox.comments(ticketId).flatMap((c) => String(c.Comment).match(/tz-\d+-\d+/g) ?? []);

  // A fold's entries are marked delivered in one store write: a kill leaves all of them pending or none.
  it.each([
    ['before its entries are marked delivered', 0],
    ['right after its entries were marked delivered', 1],
  ])('does not double a folded comment: killed %s', async (_moment, marksBeforeDeath) => {
    const desk = new AteraTicketDesk(
      new AteraClient({ baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey, retry: NO_RETRY }),
      { technicianId: 9 },
    );
    const clock = settableClock(new Date(Date.now() + 5_000));
    const store = await createLowdbConversationStore({ dataDir, fsync: false });
    await queue(store, 1009, [
      userSaid(1009, 1, 'one'),
      answered(1009, 2, 'two'),
      answered(1009, 3, 'three'),
    ]);
    // The process dies once the comment is in Atera, after `marksBeforeDeath` of its store writes.
    let marks = 0;
    let dead = false;
    const markDelivered = async (...ids: string[]) => {
      if (dead || marks >= marksBeforeDeath) {
        if (!dead) {
          dead = true;
          await store.close();
        }
        throw new Error('killed');
      }
      marks += 1;
      await store.markDelivered(...ids);
    };
    const dying = new Proxy(store, {
      get: (target, name) => {
        if (name === 'markDelivered') return markDelivered;
        const value: unknown = Reflect.get(target, name);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const first = createCommentOutbox({ store: dying, desk, clock, log: keepingLog(), settings: SETTINGS });
    await first.drain().catch(() => 0);
    if (!dead) await store.close(); // killed once the write landed
    expect(markersOn(1009)).toEqual(['tz-1009-1', 'tz-1009-2', 'tz-1009-3']);

    const reopened = await createLowdbConversationStore({ dataDir, fsync: false });
    expect((await reopened.pendingComments(1009, 50)).map((e) => e.seq)).toEqual(
      marksBeforeDeath === 0 ? [1, 2, 3] : [],
    );
    clock.advance(SETTINGS.leaseMs + 1);
    const again = createCommentOutbox({
      store: reopened,
      desk,
      clock,
      log: keepingLog(),
      settings: SETTINGS,
    });
    expect(await again.drain()).toBe(marksBeforeDeath === 0 ? 3 : 0);
    expect(markersOn(1009)).toEqual(['tz-1009-1', 'tz-1009-2', 'tz-1009-3']);
    expect(sandbox.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect((await reopened.outboxStats()).depth).toBe(0);
    await reopened.close();
  });
});
