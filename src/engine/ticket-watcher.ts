/**
 * The ticket watcher: notices new Atera tickets and hands each one to the engine exactly once.
 *
 * - One request per poll when nothing is new: the feed is read from a persisted cursor (`changedSince`), with a
 *   small overlap for clock skew; the cursor never moves past a ticket noticed but not yet handed to intake, so a
 *   crash before the hand-over means the ticket is noticed again after the restart.
 * - "New" means created at/after the first-start watermark minus the backfill window (persisted, so old tickets our
 *   own comments modify are never re-taken) and, in steady state, created not long before the cursor.
 * - "Already handled" means the ticket has a conversation record, or a claim says someone decided on it.
 * - Open tickets without an end-user e-mail are claimed as skipped and get an internal note saying why.
 * - Intake runs through a bounded queue; nudges (webhooks) coalesce into at most one extra poll.
 */
import type { Clock } from '../ports/clock.js';
import type { ConversationStore } from '../ports/conversation-store.js';
import type { Log } from '../ports/log.js';
import type { CommentVisibility, NewComment, Ticket, TicketFeed } from '../ports/ticket-desk.js';
import { NotFoundError } from '../errors.js';
import type { EngineObserver } from './conversation-engine.js';

export interface TicketWatcherSettings {
  pollSeconds: number;
  maxConcurrent: number;
  backfillMinutes: number;
  instanceId: string;
  commentVisibility: CommentVisibility;
  /** The cursor is set this far before each poll's start (clock skew, Atera's indexing delay). Default 60 s. */
  overlapSeconds?: number;
}

export interface TicketWatcherDeps {
  feed: TicketFeed;
  store: ConversationStore;
  clock: Clock;
  log: Log;
  /** The engine's startTicket: creates the conversation record atomically, so calling it twice is harmless. */
  intake: (ticket: Ticket) => Promise<unknown>;
  settings: TicketWatcherSettings;
  /** Told about tickets the watcher decides not to hand over (metrics). */
  observer?: Pick<EngineObserver, 'ticketSkipped'>;
}

export interface PollReport {
  /** The cursor this poll read from. */
  since: string;
  /** Tickets the feed returned. */
  fetched: number;
  /** New open tickets with an end-user e-mail, queued for intake. */
  queued: number;
  /** New open tickets without an end-user e-mail, claimed as skipped now. */
  skippedNoEmail: number;
  /** Seen before (conversation record, claim, or already queued). */
  alreadyHandled: number;
  /** Not new (created before the horizon) or already resolved/closed. */
  ignored: number;
  /** The cursor after the poll. */
  cursor: string;
}

export interface TicketWatcher {
  start(): void;
  /** Stops polling and waits for the intakes already running (queued ones are noticed again after a restart). */
  stop(): Promise<void>;
  pollNow(): Promise<PollReport>;
  /** A hint that something changed (webhook). With a ticket id, that ticket is fetched. Coalesced. */
  nudge(ticketId?: number): void;
  /** Resolves when no poll, fetch or intake is running or queued (tests, shutdown). */
  whenIdle(): Promise<void>;
}

export const WATCHER_CURSOR = 'atera-watcher:cursor';
export const WATCHER_WATERMARK = 'atera-watcher:watermark';

const DEFAULT_OVERLAP_SECONDS = 60;
/** A ticket created this long before the cursor is no longer "new" (the cursor passed it long ago). */
const HORIZON_SLACK_MS = 60 * 60_000;
/** Claims of tickets created this long before the horizon are pruned. */
const CLAIM_RETENTION_MS = 24 * 60 * 60_000;
const PRUNE_EVERY_MS = 60 * 60_000;
/** An intake that keeps failing is given up after this many attempts (claimed as skipped, logged as error). */
const MAX_INTAKE_FAILURES = 5;
const DECIDED_CACHE_LIMIT = 10_000;

const CLOSED_STATUSES = new Set(['resolved', 'closed']);

export function noEmailNote(ticketId: number, at: string): NewComment {
  return {
    text:
      'TicketZero did not take this ticket: it has no end-user e-mail address, so TicketZero cannot find the ' +
      'user in Microsoft 365 to chat with them. A technician needs to handle it.',
    visibility: 'internal',
    author: 'ticketzero',
    timestampUtc: at,
    marker: `tz-${ticketId}-not-taken`,
  };
}

export function createTicketWatcher(deps: TicketWatcherDeps): TicketWatcher {
  const { feed, store, clock, settings } = deps;
  const log = deps.log.child({ component: 'ticket-watcher' });
  const overlapMs = (settings.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS) * 1000;
  const iso = (ms: number) => new Date(ms).toISOString();

  let ready: Promise<void> | null = null;
  let watermarkMs = 0;
  let cursor = '';
  let lastPruneMs = -Infinity;

  /** Noticed, not yet handed to intake successfully: ticket id → the cursor it was seen from. */
  const pending = new Map<number, string>();
  /** Queued or running intakes (dedupe within this process). */
  const queuedOrActive = new Set<number>();
  const queue: Ticket[] = [];
  const active = new Map<number, Promise<void>>();
  const failures = new Map<number, number>();
  /** Tickets decided in this process, so the overlap window does not cost store reads on every poll. */
  const decided = new Set<number>();

  let started = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let currentPoll: Promise<PollReport> | null = null;
  let queuedPoll: Promise<PollReport> | null = null;
  const fetchIds = new Set<number>();
  let fetching: Promise<void> | null = null;

  const init = () =>
    (ready ??= (async () => {
      const savedWatermark = await store.getCursor(WATCHER_WATERMARK);
      if (savedWatermark) {
        watermarkMs = Date.parse(savedWatermark);
      } else {
        watermarkMs = clock.now().getTime();
        await store.setCursor(WATCHER_WATERMARK, iso(watermarkMs));
      }
      cursor =
        (await store.getCursor(WATCHER_CURSOR)) ?? iso(watermarkMs - settings.backfillMinutes * 60_000);
      log.info({ watermark: iso(watermarkMs), cursor }, 'ticket watcher ready');
    })().catch((error: unknown) => {
      ready = null;
      throw error;
    }));

  const horizonMs = (since: string) =>
    Math.max(watermarkMs - settings.backfillMinutes * 60_000, Date.parse(since) - HORIZON_SLACK_MS);

  const remember = (ticketId: number) => {
    if (decided.size >= DECIDED_CACHE_LIMIT) decided.clear();
    decided.add(ticketId);
  };

  type Verdict = 'queued' | 'skippedNoEmail' | 'alreadyHandled' | 'ignored';

  async function consider(ticket: Ticket, since: string): Promise<Verdict> {
    if (Date.parse(ticket.createdAt) < horizonMs(since)) return 'ignored';
    if (CLOSED_STATUSES.has(String(ticket.status).toLowerCase())) return 'ignored';
    if (queuedOrActive.has(ticket.id) || decided.has(ticket.id)) return 'alreadyHandled';
    if (pending.has(ticket.id)) {
      // Its intake failed earlier; try again.
      enqueue(ticket, pending.get(ticket.id)!);
      return 'queued';
    }
    if (!ticket.endUser.email) {
      const claimed = await store.claimTicket(ticket.id, {
        by: settings.instanceId,
        at: clock.now().toISOString(),
        decision: 'skipped',
        reason: 'no_end_user_email',
        ticketCreatedAt: ticket.createdAt,
      });
      remember(ticket.id);
      if (!claimed) return 'alreadyHandled';
      await store.update(ticket.id, () => ({
        comments: [noEmailNote(ticket.id, clock.now().toISOString())],
        result: undefined,
      }));
      log.info({ ticketId: ticket.id, reason: 'no_end_user_email' }, 'ticket not taken');
      deps.observer?.ticketSkipped?.(ticket, 'no_end_user_email');
      return 'skippedNoEmail';
    }
    if (await store.getConversation(ticket.id)) {
      remember(ticket.id);
      return 'alreadyHandled';
    }
    enqueue(ticket, since);
    return 'queued';
  }

  function enqueue(ticket: Ticket, since: string): void {
    if (!pending.has(ticket.id)) pending.set(ticket.id, since);
    queuedOrActive.add(ticket.id);
    queue.push(ticket);
    pump();
  }

  function pump(): void {
    while (!stopped && active.size < settings.maxConcurrent && queue.length > 0) {
      const ticket = queue.shift()!;
      const run = handOver(ticket).finally(() => {
        active.delete(ticket.id);
        queuedOrActive.delete(ticket.id);
        pump();
      });
      active.set(ticket.id, run);
    }
  }

  async function handOver(ticket: Ticket): Promise<void> {
    const ticketLog = log.child({ ticketId: ticket.id });
    try {
      await deps.intake(ticket);
    } catch (error) {
      const count = (failures.get(ticket.id) ?? 0) + 1;
      failures.set(ticket.id, count);
      if (count < MAX_INTAKE_FAILURES) {
        ticketLog.warn({ err: error, attempt: count }, 'ticket intake failed');
        return;
      }
      ticketLog.error({ err: error, attempts: count }, 'ticket intake gave up');
      await store
        .claimTicket(ticket.id, {
          by: settings.instanceId,
          at: clock.now().toISOString(),
          decision: 'skipped',
          reason: 'intake_failed',
          ticketCreatedAt: ticket.createdAt,
        })
        .catch((claimError: unknown) => ticketLog.error({ err: claimError }, 'ticket claim failed'));
      deps.observer?.ticketSkipped?.(ticket, 'intake_failed');
      settle(ticket.id);
      return;
    }
    settle(ticket.id);
    try {
      await store.claimTicket(ticket.id, {
        by: settings.instanceId,
        at: clock.now().toISOString(),
        decision: 'taken',
        ticketCreatedAt: ticket.createdAt,
      });
    } catch (error) {
      ticketLog.warn({ err: error }, 'ticket claim failed');
    }
    ticketLog.info({}, 'ticket handed to intake');
  }

  function settle(ticketId: number): void {
    pending.delete(ticketId);
    failures.delete(ticketId);
    remember(ticketId);
  }

  async function advanceCursor(pollStartedMs: number): Promise<void> {
    let target = pollStartedMs - overlapMs;
    for (const seenFrom of pending.values()) target = Math.min(target, Date.parse(seenFrom));
    if (target <= Date.parse(cursor)) return;
    cursor = iso(target);
    await store.setCursor(WATCHER_CURSOR, cursor);
  }

  async function prune(nowMs: number): Promise<void> {
    if (nowMs - lastPruneMs < PRUNE_EVERY_MS) return;
    lastPruneMs = nowMs;
    try {
      const removed = await store.pruneClaims(iso(horizonMs(cursor) - CLAIM_RETENTION_MS));
      if (removed > 0) log.debug({ removed }, 'ticket claims pruned');
    } catch (error) {
      log.warn({ err: error }, 'ticket claims prune failed');
    }
  }

  async function poll(): Promise<PollReport> {
    await init();
    const startedMs = clock.now().getTime();
    const since = cursor;
    const { tickets } = await feed.changedSince(since);
    tickets.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.id - b.id);
    const report: PollReport = {
      since,
      fetched: tickets.length,
      queued: 0,
      skippedNoEmail: 0,
      alreadyHandled: 0,
      ignored: 0,
      cursor: since,
    };
    for (const ticket of tickets) report[await consider(ticket, since)] += 1;
    await advanceCursor(startedMs);
    await prune(startedMs);
    report.cursor = cursor;
    if (report.queued > 0 || report.skippedNoEmail > 0)
      log.info({ ...report }, 'atera poll found new tickets');
    else log.debug({ ...report }, 'atera poll');
    return report;
  }

  function requestPoll(): Promise<PollReport> {
    if (!currentPoll) {
      currentPoll = poll().finally(() => {
        currentPoll = null;
      });
      return currentPoll;
    }
    // One poll running, at most one queued behind it: every request meanwhile shares the queued one.
    queuedPoll ??= currentPoll
      .catch(() => undefined)
      .then(() => {
        queuedPoll = null;
        return requestPoll();
      });
    return queuedPoll;
  }

  function requestFetch(): void {
    if (fetching) return;
    fetching = (async () => {
      await init();
      while (fetchIds.size > 0 && !stopped) {
        const ids = [...fetchIds];
        fetchIds.clear();
        for (const id of ids) {
          try {
            await consider(await feed.getTicket(id), cursor);
          } catch (error) {
            if (error instanceof NotFoundError) log.debug({ ticketId: id }, 'nudged ticket not found');
            else log.warn({ ticketId: id, err: error }, 'nudged ticket fetch failed');
          }
        }
      }
    })()
      .catch((error: unknown) => log.warn({ err: error }, 'nudged ticket fetch failed'))
      .finally(() => {
        fetching = null;
        if (fetchIds.size > 0 && !stopped) requestFetch();
      });
  }

  function scheduleNext(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      requestPoll()
        .catch((error: unknown) => log.warn({ err: error }, 'atera poll failed'))
        .finally(scheduleNext);
    }, settings.pollSeconds * 1000);
    timer.unref?.();
  }

  return {
    start() {
      if (started) return;
      started = true;
      stopped = false;
      requestPoll()
        .catch((error: unknown) => log.warn({ err: error }, 'atera poll failed'))
        .finally(scheduleNext);
    },
    async stop() {
      stopped = true;
      started = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await Promise.allSettled([currentPoll, queuedPoll, fetching, ...active.values()]);
    },
    pollNow: requestPoll,
    nudge(ticketId?: number) {
      if (ticketId !== undefined && Number.isInteger(ticketId) && ticketId > 0) {
        fetchIds.add(ticketId);
        requestFetch();
        return;
      }
      requestPoll().catch((error: unknown) => log.warn({ err: error }, 'atera poll failed'));
    },
    async whenIdle() {
      for (;;) {
        const busy = [currentPoll, queuedPoll, fetching, ...active.values()].filter(Boolean);
        if (busy.length === 0 && (queue.length === 0 || stopped)) return;
        await Promise.allSettled(busy);
        if (busy.length === 0) await new Promise((r) => setTimeout(r, 0));
      }
    },
  };
}
