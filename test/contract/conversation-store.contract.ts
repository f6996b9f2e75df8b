/**
 * The ConversationStore contract: every store (in-memory, lowdb, PostgreSQL, encrypted) passes these cases.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ConversationRecord,
  ConversationStore,
  TicketClaim,
} from '../../src/ports/conversation-store.js';
import { makeComment, makeConversationRecord, makeEndedRecord, makeTurn } from './fixtures.js';

export interface StoreUnderTest {
  store: ConversationStore;
  /** Closes the store and opens it again on the same data (durable stores only). */
  reopen?: () => Promise<ConversationStore>;
  cleanup: () => Promise<void>;
}

const later = (ms: number): string => new Date(Date.now() + ms).toISOString();

function claim(overrides: Partial<TicketClaim> = {}): TicketClaim {
  return {
    by: 'instance-a',
    at: '2026-03-02T08:15:00.000Z',
    decision: 'taken',
    ticketCreatedAt: '2026-03-02T08:14:00.000Z',
    ...overrides,
  };
}

export function describeConversationStoreContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
): void {
  describe(`${name}: the conversation store contract`, () => {
    let subject: StoreUnderTest;
    let store: ConversationStore;

    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    const put = (record: ConversationRecord) =>
      store.update(record.ticketId, () => ({ conversation: record, result: undefined }));

    describe('update', () => {
      it('creates a conversation that did not exist, passing null to the change and returning its result', async () => {
        let seen: ConversationRecord | null | undefined;
        const result = await store.update(4711, (current) => {
          seen = current;
          return { conversation: makeConversationRecord({ ticketId: 4711 }), result: 'created' };
        });
        expect(seen).toBeNull();
        expect(result).toBe('created');
        const stored = await store.getConversation(4711);
        expect(stored?.ticket.title).toBe('Outlook keeps asking for my password');
        expect(stored?.turns.map((t) => t.text)).toEqual([
          'Hello Megan, I am TicketZero. Does the prompt appear in Outlook only, or also in Word?',
          'Only in Outlook, the little window with my email address in it',
        ]);
        expect(stored?.version).toBe(1);
      });

      it('replaces the record with what the change returns and counts the version itself', async () => {
        await put(makeConversationRecord({ ticketId: 1 }));
        await store.update(1, (current) => ({
          conversation: {
            ...current!,
            rounds: 2,
            version: 99,
            turns: [...current!.turns, makeTurn(3, 'assistant', 'Try this')],
          },
          result: undefined,
        }));
        const stored = await store.getConversation(1);
        expect(stored?.rounds).toBe(2);
        expect(stored?.turns).toHaveLength(3);
        expect(stored?.version).toBe(2);
      });

      it('writes nothing when the change throws', async () => {
        await put(makeConversationRecord({ ticketId: 2, rounds: 1 }));
        await expect(
          store.update(2, (current) => {
            current!.rounds = 7;
            throw new Error('engine rule broken');
          }),
        ).rejects.toThrow('engine rule broken');
        expect((await store.getConversation(2))?.rounds).toBe(1);
        expect((await store.outboxStats()).depth).toBe(0);
      });

      it('refuses a record that belongs to another ticket', async () => {
        await expect(
          store.update(3, () => ({ conversation: makeConversationRecord({ ticketId: 4 }), result: 0 })),
        ).rejects.toMatchObject({ code: 'store_misused' });
        expect(await store.getConversation(3)).toBeNull();
        expect(await store.getConversation(4)).toBeNull();
      });

      it('serialises concurrent updates of one ticket so no update is lost', async () => {
        await put(makeConversationRecord({ ticketId: 5, rounds: 0 }));
        await Promise.all(
          Array.from({ length: 50 }, () =>
            store.update(5, (current) => ({
              conversation: { ...current!, rounds: current!.rounds + 1 },
              result: undefined,
            })),
          ),
        );
        const stored = await store.getConversation(5);
        expect(stored?.rounds).toBe(50);
        expect(stored?.version).toBe(51);
      });

      it('creates a new ticket once when many updates race to create it', async () => {
        const created = await Promise.all(
          Array.from({ length: 20 }, () =>
            store.update(6, (current) =>
              current
                ? { conversation: { ...current, rounds: current.rounds + 1 }, result: false }
                : { conversation: makeConversationRecord({ ticketId: 6, rounds: 0 }), result: true },
            ),
          ),
        );
        expect(created.filter(Boolean)).toHaveLength(1);
        expect((await store.getConversation(6))?.rounds).toBe(19);
      });
    });

    describe('the comment outbox', () => {
      it('numbers the comments of each ticket 1, 2, 3 in commit order', async () => {
        await store.update(10, () => ({
          conversation: makeConversationRecord({ ticketId: 10 }),
          comments: [makeComment('first'), makeComment('second')],
          result: undefined,
        }));
        await store.update(11, () => ({ comments: [makeComment('other ticket')], result: undefined }));
        await store.update(10, () => ({ comments: [makeComment('third')], result: undefined }));

        const seen: Array<[number, number, string]> = [];
        for (let i = 0; i < 5; i += 1) {
          const due = await store.dueComments(later(1000), 10, 60_000);
          for (const entry of due) {
            seen.push([entry.ticketId, entry.seq, entry.comment.text]);
            await store.markDelivered(entry.id);
          }
        }
        expect(seen.filter(([t]) => t === 10)).toEqual([
          [10, 1, 'first'],
          [10, 2, 'second'],
          [10, 3, 'third'],
        ]);
        expect(seen.filter(([t]) => t === 11)).toEqual([[11, 1, 'other ticket']]);
      });

      it('hands out only the head of each ticket, and the next one after the head is delivered', async () => {
        await store.update(20, () => ({
          comments: [makeComment('a1'), makeComment('a2')],
          result: undefined,
        }));
        await store.update(21, () => ({ comments: [makeComment('b1')], result: undefined }));
        const due = await store.dueComments(later(1000), 10, 60_000);
        expect(due.map((e) => e.comment.text).sort()).toEqual(['a1', 'b1']);
        const a1 = due.find((e) => e.comment.text === 'a1')!;
        expect(a1).toMatchObject({ ticketId: 20, seq: 1, attempts: 0, lastError: null });
        await store.markDelivered(a1.id);
        const next = await store.dueComments(later(1000), 10, 60_000);
        expect(next.map((e) => e.comment.text)).toEqual(['a2']);
      });

      it('marks a folded comment’s entries delivered in one call, and ignores entries it does not hold', async () => {
        await store.update(22, () => ({
          comments: [makeComment('c1'), makeComment('c2'), makeComment('c3')],
          result: undefined,
        }));
        const [c1, c2] = await store.pendingComments(22, 2);
        await store.markDelivered(c1!.id, c2!.id, 'no-such-entry');
        expect((await store.pendingComments(22, 10)).map((e) => e.comment.text)).toEqual(['c3']);
        await store.markDelivered();
        expect((await store.dueComments(later(1000), 10, 60_000)).map((e) => e.comment.text)).toEqual(['c3']);
      });

      it('leases what it hands out until the lease runs out', async () => {
        await store.update(30, () => ({ comments: [makeComment('leased')], result: undefined }));
        const at = later(1000);
        expect(await store.dueComments(at, 10, 60_000)).toHaveLength(1);
        expect(await store.dueComments(at, 10, 60_000)).toHaveLength(0);
        const afterLease = new Date(Date.parse(at) + 61_000).toISOString();
        expect((await store.dueComments(afterLease, 10, 60_000)).map((e) => e.comment.text)).toEqual([
          'leased',
        ]);
      });

      it('holds a failed comment back until its next attempt, counting attempts', async () => {
        await store.update(40, () => ({
          comments: [makeComment('flaky'), makeComment('after')],
          result: undefined,
        }));
        const [entry] = await store.dueComments(later(1000), 10, 60_000);
        const retryAt = later(3_600_000);
        await store.markFailed(entry!.id, 'atera 503', retryAt);
        expect(await store.dueComments(later(2000), 10, 60_000)).toHaveLength(0);
        const retried = await store.dueComments(later(3_601_000), 10, 60_000);
        expect(retried).toHaveLength(1);
        expect(retried[0]).toMatchObject({ seq: 1, attempts: 1, lastError: 'atera 503' });
      });

      it('does not hand out comments before they are due, and respects the limit', async () => {
        for (const ticketId of [50, 51, 52]) {
          await store.update(ticketId, () => ({
            comments: [makeComment(`c${ticketId}`)],
            result: undefined,
          }));
        }
        expect(await store.dueComments('2000-01-01T00:00:00.000Z', 10, 60_000)).toHaveLength(0);
        expect(await store.dueComments(later(1000), 2, 60_000)).toHaveLength(2);
        expect(await store.dueComments(later(1000), 2, 60_000)).toHaveLength(1);
      });

      it('lists one ticket’s pending comments in order, without leasing them, so they can be folded', async () => {
        await store.update(80, () => ({
          comments: [makeComment('p1'), makeComment('p2')],
          result: undefined,
        }));
        await store.update(81, () => ({ comments: [makeComment('other')], result: undefined }));
        await store.update(80, () => ({ comments: [makeComment('p3')], result: undefined }));
        expect(await store.pendingComments(82, 10)).toEqual([]);
        const [head] = (await store.dueComments(later(1000), 10, 60_000)).filter((e) => e.ticketId === 80);
        const pending = await store.pendingComments(80, 10);
        expect(pending.map((e) => [e.seq, e.comment.text])).toEqual([
          [1, 'p1'],
          [2, 'p2'],
          [3, 'p3'],
        ]);
        expect(pending[0]!.id).toBe(head!.id);
        expect((await store.pendingComments(80, 2)).map((e) => e.seq)).toEqual([1, 2]);
        // Delivered behind the head (a folded comment marks its later entries first): the head stays pending.
        await store.markDelivered(pending[2]!.id);
        await store.markDelivered(pending[1]!.id);
        expect((await store.pendingComments(80, 10)).map((e) => e.seq)).toEqual([1]);
        expect(await store.dueComments(later(1000), 10, 60_000)).toEqual([]);
        await store.markDelivered(pending[0]!.id);
        expect(await store.pendingComments(80, 10)).toEqual([]);
      });

      it('reports its depth and oldest entry', async () => {
        expect(await store.outboxStats()).toEqual({ depth: 0, oldestCreatedAt: null });
        await store.update(60, () => ({ comments: [makeComment('x'), makeComment('y')], result: undefined }));
        const stats = await store.outboxStats();
        expect(stats.depth).toBe(2);
        expect(Date.parse(stats.oldestCreatedAt!)).toBeGreaterThan(Date.now() - 60_000);
        for (const entry of await store.dueComments(later(1000), 10, 60_000))
          await store.markDelivered(entry.id);
        expect((await store.outboxStats()).depth).toBe(1);
      });
    });

    describe('claims', () => {
      it('lets the first claim of a ticket win', async () => {
        expect(await store.claimTicket(70, claim())).toBe(true);
        expect(await store.claimTicket(70, claim({ by: 'instance-b' }))).toBe(false);
        expect(await store.claimTicket(71, claim({ decision: 'skipped', reason: 'no_email' }))).toBe(true);
      });

      it('lets exactly one of many concurrent claims win', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.claimTicket(72, claim({ by: `instance-${i}` }))),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('forgets claims of tickets created before the cutoff', async () => {
        await store.claimTicket(73, claim({ ticketCreatedAt: '2026-01-01T00:00:00.000Z' }));
        await store.claimTicket(74, claim({ ticketCreatedAt: '2026-03-01T00:00:00.000Z' }));
        expect(await store.pruneClaims('2026-02-01T00:00:00.000Z')).toBe(1);
        expect(await store.claimTicket(73, claim())).toBe(true);
        expect(await store.claimTicket(74, claim())).toBe(false);
      });
    });

    describe('finding conversations', () => {
      const megan = 'user-megan';
      const alex = 'user-alex';
      const withUser = (
        ticketId: number,
        userId: string,
        createdAt: string,
        rest: Partial<ConversationRecord> = {},
      ) => {
        const base = makeConversationRecord({ ticketId, createdAt, ...rest });
        return { ...base, user: { ...base.user!, id: userId } };
      };

      it("finds a user's live conversations, oldest first, and not the ended ones", async () => {
        await put(withUser(81, megan, '2026-03-02T09:00:00.000Z', { state: 'queued' }));
        await put(withUser(80, megan, '2026-03-02T08:00:00.000Z'));
        await put(withUser(82, megan, '2026-03-02T07:00:00.000Z', { state: 'resolved' }));
        await put(withUser(83, alex, '2026-03-02T07:30:00.000Z'));
        expect((await store.findLiveByUser(megan)).map((r) => r.ticketId)).toEqual([80, 81]);
        expect((await store.findLiveByUser('nobody')).map((r) => r.ticketId)).toEqual([]);
        await store.update(80, (c) => ({ conversation: { ...c!, state: 'escalated' }, result: undefined }));
        expect((await store.findLiveByUser(megan)).map((r) => r.ticketId)).toEqual([81]);
      });

      it('finds the live conversation of a thread with or without the messageid suffix', async () => {
        const threadId = '19:abcdef0123456789@thread.tacv2;messageid=1709371200000';
        await put(
          makeConversationRecord({ ticketId: 90, thread: { threadId, cardActivityId: '1709371200000' } }),
        );
        expect((await store.findByThread(threadId))?.ticketId).toBe(90);
        expect((await store.findByThread('19:abcdef0123456789@thread.tacv2'))?.ticketId).toBe(90);
        expect(
          (await store.findByThread('19:abcdef0123456789@thread.tacv2;messageid=1709371299999'))?.ticketId,
        ).toBe(90);
        expect(await store.findByThread('19:other@thread.tacv2')).toBeNull();
        await store.update(90, (c) => ({ conversation: { ...c!, state: 'resolved' }, result: undefined }));
        expect(await store.findByThread(threadId)).toBeNull();
      });

      it('lists every live conversation and the ended ones newest first', async () => {
        await put(makeConversationRecord({ ticketId: 100, state: 'paused' }));
        await put(makeConversationRecord({ ticketId: 101, state: 'taken_over' }));
        await put(makeEndedRecord(102, '2026-03-01T10:00:00.000Z'));
        await put(makeEndedRecord(103, '2026-03-03T10:00:00.000Z', { state: 'escalated' }));
        await put(makeEndedRecord(104, '2026-03-02T10:00:00.000Z', { state: 'declined', user: null }));
        expect((await store.listLive()).map((r) => r.ticketId).sort()).toEqual([100, 101]);
        expect((await store.listEnded({ limit: 10 })).map((r) => r.ticketId)).toEqual([103, 104, 102]);
        expect((await store.listEnded({ limit: 2 })).map((r) => r.ticketId)).toEqual([103, 104]);
        expect(
          (await store.listEnded({ limit: 10, since: '2026-03-02T00:00:00.000Z' })).map((r) => r.ticketId),
        ).toEqual([103, 104]);
        expect((await store.getConversation(102))?.outcome?.kind).toBe('resolved');
      });
    });

    describe('retention', () => {
      it('deletes ended conversations that ended before the cutoff, and nothing live', async () => {
        await put(makeEndedRecord(110, '2026-01-10T10:00:00.000Z'));
        await put(makeEndedRecord(111, '2026-01-20T10:00:00.000Z'));
        await put(makeEndedRecord(112, '2026-03-01T10:00:00.000Z'));
        await put(makeConversationRecord({ ticketId: 113, createdAt: '2026-01-01T10:00:00.000Z' }));
        expect(await store.deleteEndedBefore('2026-02-01T00:00:00.000Z')).toBe(2);
        expect(await store.getConversation(110)).toBeNull();
        expect(await store.getConversation(111)).toBeNull();
        expect((await store.getConversation(112))?.ticketId).toBe(112);
        expect((await store.getConversation(113))?.ticketId).toBe(113);
        expect((await store.listEnded({ limit: 10 })).map((r) => r.ticketId)).toEqual([112]);
        expect(await store.deleteEndedBefore('2026-02-01T00:00:00.000Z')).toBe(0);
      });
    });

    describe('cursors and small values', () => {
      it('round-trips cursors and namespaced values', async () => {
        expect(await store.getCursor('ticket-watcher')).toBeNull();
        await store.setCursor('ticket-watcher', '2026-03-02T08:00:00.000Z');
        await store.setCursor('ticket-watcher', '2026-03-02T08:15:00.000Z');
        expect(await store.getCursor('ticket-watcher')).toBe('2026-03-02T08:15:00.000Z');

        expect(await store.getValue('conversation-ref', 'a:1')).toBeNull();
        const ref = {
          serviceUrl: 'https://smba.trafficmanager.net/emea/',
          conversation: { id: 'a:1' },
          n: 3,
        };
        await store.setValue('conversation-ref', 'a:1', ref);
        await store.setValue('technicians', 'channel', 'c-1');
        expect(await store.getValue('conversation-ref', 'a:1')).toEqual(ref);
        expect(await store.getValue('technicians', 'channel')).toBe('c-1');
        expect(await store.getValue('technicians', 'a:1')).toBeNull();
      });
    });

    describe('isolation', () => {
      it('returns copies, so changing a returned record changes nothing stored', async () => {
        const original = makeConversationRecord({ ticketId: 120 });
        await put(original);
        original.turns.push(makeTurn(9, 'user', 'changed after the write'));
        const first = (await store.getConversation(120))!;
        first.turns[0]!.text = 'tampered';
        first.rounds = 42;
        (await store.listLive())[0]!.state = 'resolved';
        const again = (await store.getConversation(120))!;
        expect(again.turns).toHaveLength(2);
        expect(again.turns[0]!.text).not.toBe('tampered');
        expect(again.rounds).toBe(1);
        expect(again.state).toBe('active');

        const value = { list: [1, 2] };
        await store.setValue('ns', 'k', value);
        value.list.push(3);
        (await store.getValue<{ list: number[] }>('ns', 'k'))!.list.push(4);
        expect(await store.getValue('ns', 'k')).toEqual({ list: [1, 2] });
      });
    });

    it('keeps everything across close and reopen', async (context) => {
      if (!subject.reopen) {
        // Only stores that persist (lowdb, PostgreSQL) can be reopened; the in-memory store has nothing to keep.
        context.skip();
        return;
      }
      await put(
        makeConversationRecord({ ticketId: 130, user: { ...makeConversationRecord().user!, id: 'u-130' } }),
      );
      await store.update(130, () => ({
        comments: [makeComment('pending 1'), makeComment('pending 2')],
        result: 0,
      }));
      await put(makeEndedRecord(131, '2026-03-01T10:00:00.000Z'));
      await store.claimTicket(132, claim());
      await store.setCursor('ticket-watcher', 'c-9');
      await store.setValue('conversation-ref', 'a:130', { id: 'a:130' });
      const [head] = await store.dueComments(later(1000), 10, 60_000);
      await store.markDelivered(head!.id);

      store = await subject.reopen();
      subject.store = store;
      expect((await store.getConversation(130))?.version).toBe(1);
      expect((await store.findLiveByUser('u-130')).map((r) => r.ticketId)).toEqual([130]);
      expect(
        (await store.findByThread(makeConversationRecord({ ticketId: 130 }).thread!.threadId))?.ticketId,
      ).toBe(130);
      expect((await store.getConversation(131))?.state).toBe('resolved');
      expect((await store.listEnded({ limit: 5 })).map((r) => r.ticketId)).toEqual([131]);
      expect(await store.claimTicket(132, claim())).toBe(false);
      expect(await store.getCursor('ticket-watcher')).toBe('c-9');
      expect(await store.getValue('conversation-ref', 'a:130')).toEqual({ id: 'a:130' });
      const due = await store.dueComments(later(1000), 10, 60_000);
      expect(due.map((e) => [e.seq, e.comment.text])).toEqual([[2, 'pending 2']]);
      await store.update(130, () => ({ comments: [makeComment('after reopen')], result: 0 }));
      await store.markDelivered(due[0]!.id);
      expect((await store.dueComments(later(1000), 10, 60_000)).map((e) => e.seq)).toEqual([3]);
    });
  });
}
