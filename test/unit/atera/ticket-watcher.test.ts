import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AteraClient } from '../../../src/adapters/atera/atera-client.js';
import { AteraTicketDesk } from '../../../src/adapters/atera/atera-ticket-desk.js';
import type { RetrySettings } from '../../../src/adapters/atera/retry-policy.js';
import { createInMemoryConversationStore } from '../../../src/adapters/store/in-memory-store.js';
import { createLowdbConversationStore } from '../../../src/adapters/store/lowdb-store.js';
import { createTicketWatcher, type TicketWatcherSettings } from '../../../src/engine/ticket-watcher.js';
import type { ConversationStore } from '../../../src/ports/conversation-store.js';
import { silentLog } from '../../../src/ports/log.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { Ticket } from '../../../src/ports/ticket-desk.js';
import {
  defaultSeedFixture,
  type SeedFixture,
  type SeedTicket,
} from '../../../src/sandboxes/atera/seed-fixture.js';
import { startAteraSandbox, type AteraSandbox } from '../../../src/sandboxes/atera/atera-sandbox.js';
import { intakeInto } from './support/atera-test-kit.js';

const FAST_RETRY: RetrySettings = { maxRetries: 2, budgetMs: 5_000, baseDelayMs: 5, maxDelayMs: 20 };
const SETTINGS: TicketWatcherSettings = {
  pollSeconds: 15,
  maxConcurrent: 10,
  backfillMinutes: 0,
  instanceId: 'test-instance',
  commentVisibility: 'internal',
};

/** An account holding many old tickets: an idle poll must cost one request however many there are. */
function bigOldAccount(count: number): SeedFixture {
  const tickets: SeedTicket[] = Array.from({ length: count }, (_, i) => ({
    TicketID: 2000 + i,
    title: `Old ticket ${i}`,
    description: 'Long done.',
    endUserEmail: 'megan.bowen@contoso.example',
    customerId: 101,
    status: i % 3 === 0 ? 'Open' : 'Closed',
    priority: 'Low',
    createdMinutesAgo: 60 * 24 + i,
  }));
  return { ...defaultSeedFixture, tickets };
}

describe('the ticket watcher', () => {
  let sandbox: AteraSandbox;
  let desk: AteraTicketDesk;
  let store: ConversationStore;

  beforeEach(async () => {
    sandbox = await startAteraSandbox({ seed: bigOldAccount(500) });
    desk = new AteraTicketDesk(
      new AteraClient({ baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey, retry: FAST_RETRY }),
      { technicianId: 9 },
    );
    store = createInMemoryConversationStore();
  });
  afterEach(() => sandbox.close());

  const watcherWith = (
    intake: (t: Ticket) => Promise<unknown>,
    settings: Partial<TicketWatcherSettings> = {},
    on: ConversationStore = store,
  ) =>
    createTicketWatcher({
      feed: desk,
      store: on,
      clock: systemClock,
      log: silentLog,
      intake,
      settings: { ...SETTINGS, ...settings },
    });

  it('costs one Atera request per poll when nothing is new, in an account of 500 tickets', async () => {
    const taken: number[] = [];
    const watcher = watcherWith(intakeInto(store, taken));
    await watcher.pollNow();
    sandbox.resetRequests();
    const report = await watcher.pollNow();
    expect(sandbox.requests).toEqual([
      expect.objectContaining({ method: 'GET', path: '/tickets/lastmodified', status: 200 }),
    ]);
    expect(sandbox.requests[0]!.query).toContain('itemsInPage=50');
    expect(report).toMatchObject({ fetched: 0, queued: 0 });
    expect(taken).toEqual([]);
  });

  it('hands a new ticket to intake once and only once', async () => {
    const taken: number[] = [];
    const watcher = watcherWith(intakeInto(store, taken));
    await watcher.pollNow();
    const ticket = sandbox.createTicket({
      title: 'Laptop fan is loud',
      description: 'Very loud.',
      endUserEmail: 'adele.vance@fabrikam.example',
    });
    const first = await watcher.pollNow();
    await watcher.whenIdle();
    expect(first.queued).toBe(1);
    expect(taken).toEqual([ticket.TicketID]);

    // Our own comment modifies the ticket: it shows up again, and is not taken again.
    await desk.addComment(ticket.TicketID, {
      text: 'Hello',
      visibility: 'internal',
      author: 'ticketzero',
      timestampUtc: new Date().toISOString(),
      marker: 'tz-x-1',
    });
    const second = await watcher.pollNow();
    await watcher.whenIdle();
    expect(second).toMatchObject({ fetched: 1, queued: 0, alreadyHandled: 1 });
    expect(taken).toEqual([ticket.TicketID]);
  });

  it('hands 50 tickets arriving at once to intake with one request, never more than maxConcurrent at a time', async () => {
    let running = 0;
    let most = 0;
    const taken: number[] = [];
    const recordIt = intakeInto(store, taken);
    const watcher = watcherWith(
      async (t) => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        await recordIt(t);
        running -= 1;
      },
      { maxConcurrent: 4 },
    );
    await watcher.pollNow();
    for (let i = 0; i < 50; i++) {
      sandbox.createTicket({
        title: `Outage ${i}`,
        description: 'Mail is down',
        endUserEmail: 'pradeep.gupta@fabrikam.example',
      });
    }
    sandbox.resetRequests();
    const report = await watcher.pollNow();
    await watcher.whenIdle();
    expect(report.queued).toBe(50);
    expect(sandbox.requests).toHaveLength(1);
    expect(new Set(taken).size).toBe(50);
    expect(most).toBe(4);
  });

  it('does not take tickets created before its first start, nor resolved or closed ones', async () => {
    const taken: number[] = [];
    const watcher = watcherWith(intakeInto(store, taken));
    await watcher.pollNow();
    // An old open ticket modified now (e.g. by our own comment) is not new.
    await desk.updateTicket(2000, { priority: 'High' });
    const closed = sandbox.createTicket({
      title: 'x',
      description: 'y',
      endUserEmail: 'megan.bowen@contoso.example',
    });
    await desk.updateTicket(closed.TicketID, { status: 'Closed' });
    const report = await watcher.pollNow();
    await watcher.whenIdle();
    expect(report).toMatchObject({ fetched: 2, ignored: 2, queued: 0 });
    expect(taken).toEqual([]);
  });

  it('takes recent open tickets from before its first start when given a backfill window', async () => {
    await sandbox.close();
    sandbox = await startAteraSandbox();
    desk = new AteraTicketDesk(
      new AteraClient({ baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey, retry: FAST_RETRY }),
      { technicianId: 9 },
    );
    const taken: number[] = [];
    const watcher = watcherWith(intakeInto(store, taken), { backfillMinutes: 200 });
    const report = await watcher.pollNow();
    await watcher.whenIdle();
    // Seeded: 1002 (180 min), 1004 (95), 1005 (60), 1009 (20) open with e-mail; 1006 and 1007 without one.
    expect(taken.sort()).toEqual([1002, 1004, 1005, 1009]);
    expect(report.skippedNoEmail).toBe(2);
  });

  it('claims an open ticket without an end-user e-mail as skipped and queues one internal note saying why', async () => {
    const taken: number[] = [];
    const watcher = watcherWith(intakeInto(store, taken));
    await watcher.pollNow();
    const ticket = sandbox.createTicket({ title: 'Phone call', description: 'Printer jam, called in' });
    expect(ticket.EndUserEmail).toBe('');
    const first = await watcher.pollNow();
    const again = await watcher.pollNow();
    expect(first.skippedNoEmail).toBe(1);
    expect(again.skippedNoEmail).toBe(0);
    expect(taken).toEqual([]);
    const due = await store.dueComments(new Date(Date.now() + 1000).toISOString(), 10, 1000);
    expect(due).toHaveLength(1);
    expect(due[0]).toMatchObject({
      ticketId: ticket.TicketID,
      comment: { visibility: 'internal', author: 'ticketzero' },
    });
    expect(due[0]!.comment.text).toContain('no end-user e-mail');
    expect(
      await store.claimTicket(ticket.TicketID, {
        by: 'other',
        at: '',
        decision: 'taken',
        ticketCreatedAt: '',
      }),
    ).toBe(false);
  });

  it('coalesces a flood of nudges into at most one poll in flight and one queued', async () => {
    const watcher = watcherWith(intakeInto(store, []));
    await watcher.pollNow();
    sandbox.resetRequests();
    sandbox.faults.inject({ kind: 'slow', delayMs: 100, match: { path: '/tickets/lastmodified' } });
    for (let i = 0; i < 25; i++) watcher.nudge();
    await watcher.whenIdle();
    expect(sandbox.requests.filter((r) => r.path === '/tickets/lastmodified')).toHaveLength(2);

    sandbox.resetRequests();
    const ticket = sandbox.createTicket({
      title: 'a',
      description: 'b',
      endUserEmail: 'megan.bowen@contoso.example',
    });
    for (let i = 0; i < 25; i++) watcher.nudge(ticket.TicketID);
    await watcher.whenIdle();
    expect(sandbox.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /tickets/${ticket.TicketID}`]);
  });

  describe('across a restart', () => {
    let dataDir: string;
    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'tz-watcher-'));
    });
    afterEach(() => rm(dataDir, { recursive: true, force: true }));

    it('does not hand the same ticket on again after a restart', async () => {
      const taken: number[] = [];
      let lowdb = await createLowdbConversationStore({ dataDir, fsync: false });
      const before = watcherWith(intakeInto(lowdb, taken), {}, lowdb);
      await before.pollNow();
      const ticket = sandbox.createTicket({
        title: 't',
        description: 'd',
        endUserEmail: 'megan.bowen@contoso.example',
      });
      await before.pollNow();
      await before.stop();
      await lowdb.close();

      lowdb = await createLowdbConversationStore({ dataDir, fsync: false });
      const after = watcherWith(intakeInto(lowdb, taken), {}, lowdb);
      const report = await after.pollNow();
      const newer = sandbox.createTicket({
        title: 'n',
        description: 'd',
        endUserEmail: 'adele.vance@fabrikam.example',
      });
      await after.pollNow();
      await after.whenIdle();
      expect(report).toMatchObject({ queued: 0, alreadyHandled: 1 });
      expect(taken).toEqual([ticket.TicketID, newer.TicketID]);
      await lowdb.close();
    });

    it('notices again after a restart the tickets it had not handed over when the process died', async () => {
      const taken: number[] = [];
      let lowdb = await createLowdbConversationStore({ dataDir, fsync: false });
      // The first process never finishes an intake: it "dies" with one running and one queued.
      const stuck = watcherWith(() => new Promise(() => {}), { maxConcurrent: 1, overlapSeconds: 0 }, lowdb);
      await stuck.pollNow();
      const a = sandbox.createTicket({
        title: 'a',
        description: 'd',
        endUserEmail: 'megan.bowen@contoso.example',
      });
      const b = sandbox.createTicket({
        title: 'b',
        description: 'd',
        endUserEmail: 'adele.vance@fabrikam.example',
      });
      // Let the clock move on, so a cursor set at the poll's start would lie after both tickets.
      await new Promise((r) => setTimeout(r, 20));
      const dying = await stuck.pollNow();
      expect(dying.queued).toBe(2);
      await lowdb.close();

      lowdb = await createLowdbConversationStore({ dataDir, fsync: false });
      const restarted = watcherWith(intakeInto(lowdb, taken), { overlapSeconds: 0 }, lowdb);
      const report = await restarted.pollNow();
      await restarted.whenIdle();
      expect(report.queued).toBe(2);
      expect(taken.sort()).toEqual([a.TicketID, b.TicketID].sort());
      await lowdb.close();
    });
  });
});
