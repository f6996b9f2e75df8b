/**
 * The ticket watcher: notices new Atera tickets and hands each one to the engine exactly once.
 *
 * - Atera's clock, not this host's: the cursor, the first-start watermark and "new" follow Atera's own data (its
 *   `Date` header, its created times, its ticket ids; see ticket-watermark.ts), so a host clock minutes ahead of or
 *   behind Atera's loses no ticket, and a ticket that comes in while TicketZero starts is taken.
 * - One request per poll when nothing is new: the feed is read from a persisted cursor (`changedSince`), Atera's
 *   time at the last answer less an overlap; the cursor never moves past a ticket noticed but not yet handed to
 *   intake, so a crash before the hand-over means the ticket is noticed again after the restart.
 * - "Already handled" means the ticket has a conversation record, or a claim says someone decided on it.
 * - Open tickets without an end-user e-mail are claimed as skipped and get an internal note saying why.
 * - Every ticket seen and not taken is logged at info with its reason (once per ticket and reason; then at debug).
 * - Intake runs through a bounded queue; nudges (webhooks) coalesce into at most one extra poll.
 */
import type { Clock } from '../ports/clock.js';
import type { ConversationStore } from '../ports/conversation-store.js';
import type { Log } from '../ports/log.js';
import type { CommentVisibility, NewComment, Ticket, TicketFeed } from '../ports/ticket-desk.js';
import { NotFoundError } from '../errors.js';
import type { EngineObserver } from './engine-deps.js';
import {
  firstStartSince,
  firstStartWatermark,
  HORIZON_SLACK_MS,
  judgeNewTicket,
  nextCursor,
  parseWatermark,
  serializeWatermark,
  type Watermark,
} from './ticket-watermark.js';

export interface TicketWatcherSettings {
  pollSeconds: number;
  maxConcurrent: number;
  backfillMinutes: number;
  instanceId: string;
  commentVisibility: CommentVisibility;
  /** The cursor is set this far before Atera's time at each answer (Atera's indexing delay). Default 60 s. */
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
  /** Atera's clock when it answered (null: it told none). */
  ateraTime: string | null;
  /** How far this host's clock is ahead of Atera's (negative: behind), to the second; null when unknown. */
  hostClockAheadMs: number | null;
  /** Tickets the feed returned. */
  fetched: number;
  /** New open tickets with an end-user e-mail, queued for intake. */
  queued: number;
  /** New open tickets without an end-user e-mail, claimed as skipped now. */
  skippedNoEmail: number;
  /** Seen before (conversation record, claim, or already queued). */
  alreadyHandled: number;
  /** Not new (created before the first start, or long before the cursor) or already resolved/closed. */
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
  const backfillMs = settings.backfillMinutes * 60_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  /** This host's clock when TicketZero started: only the time elapsed since then is used against Atera's clock. */
  const hostStartedAtMs = clock.now().getTime();

  let ready: Promise<void> | null = null;
  /** Null until Atera's first answer on the first start (then persisted). */
  let watermark: Watermark | null = null;
  let cursor = '';
  let lastPruneMs = -Infinity;
  /** Tickets logged at info as not taken, with the reason (the overlap shows them again; then they log at debug). */
  const notTakenLogged = new Map<number, string>();

  /**
   * Noticed, not yet handed to intake successfully: ticket id → where the cursor must stay for it to be seen again
   * (the later of the cursor it was seen from and its Atera created time less the overlap: both are before its
   * modified time, so a first start that read a day back is not held there while an intake is retried).
   */
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

  /**
   * Loads the persisted watermark and cursor. On the first start there is no watermark yet: the first poll reads a
   * day back and takes it from Atera's answer. A bare-time watermark from an earlier version (this host's clock)
   * is kept, and its cursor rewound by the horizon once, in case that clock ran ahead of Atera's.
   */
  const init = () =>
    (ready ??= (async () => {
      const stored = await store.getCursor(WATCHER_WATERMARK);
      const storedCursor = await store.getCursor(WATCHER_CURSOR);
      const parsed = stored ? parseWatermark(stored) : null;
      if (stored && !parsed) log.warn({}, 'stored ticket watermark unreadable; taking a new one from Atera');
      if (!parsed) {
        watermark = null;
        cursor = firstStartSince(hostStartedAtMs, backfillMs);
        log.info(
          { since: cursor },
          'ticket watcher first start: the watermark comes from Atera’s first answer',
        );
        return;
      }
      watermark = parsed;
      const cursorMs = storedCursor ? Date.parse(storedCursor) : NaN;
      cursor = Number.isNaN(cursorMs) ? iso(Date.parse(parsed.at) - backfillMs - overlapMs) : iso(cursorMs);
      const writtenByEarlierVersion = stored !== null && !stored.trim().startsWith('{');
      if (writtenByEarlierVersion) {
        cursor = iso(Date.parse(cursor) - HORIZON_SLACK_MS);
        await store.setCursor(WATCHER_WATERMARK, serializeWatermark(parsed));
        log.info(
          { watermark: parsed, cursor },
          'ticket watermark from an earlier version kept; cursor rewound',
        );
      }
      log.info({ watermark, cursor }, 'ticket watcher ready');
    })().catch((error: unknown) => {
      ready = null;
      throw error;
    }));

  const remember = (ticketId: number) => {
    if (decided.size >= DECIDED_CACHE_LIMIT) decided.clear();
    decided.add(ticketId);
  };

  /** Logs a ticket seen and not taken, at info the first time for that ticket and reason. */
  function notTaken(ticket: Ticket, reason: string, fields: Record<string, unknown> = {}): void {
    const line = { ticketId: ticket.id, reason, ...fields };
    if (notTakenLogged.get(ticket.id) === reason) {
      log.debug(line, 'ticket not taken');
      return;
    }
    if (notTakenLogged.size >= DECIDED_CACHE_LIMIT) notTakenLogged.clear();
    notTakenLogged.set(ticket.id, reason);
    log.info(line, 'ticket not taken');
  }

  /** Where the cursor must stay for a ticket to be seen again: not after its created time less the overlap. */
  const holdFor = (ticket: Ticket, since: string): string => {
    const created = Date.parse(ticket.createdAt) - overlapMs;
    return Number.isNaN(created) || created <= Date.parse(since) ? since : iso(created);
  };

  type Verdict = 'queued' | 'skippedNoEmail' | 'alreadyHandled' | 'ignored';

  async function consider(ticket: Ticket, since: string, mark: Watermark): Promise<Verdict> {
    // Decided in this process (taken, or skipped and logged then): seen again through the overlap, said nothing.
    if (queuedOrActive.has(ticket.id) || decided.has(ticket.id)) return 'alreadyHandled';
    const status = String(ticket.status);
    if (CLOSED_STATUSES.has(status.toLowerCase())) {
      // A ticket whose intake kept failing and that a technician then closed no longer holds the cursor back.
      if (pending.has(ticket.id)) settle(ticket.id);
      notTaken(ticket, 'closed', { status });
      return 'ignored';
    }
    const verdict = judgeNewTicket(ticket, { watermark: mark, backfillMs, since });
    if (!verdict.isNew) {
      notTaken(ticket, verdict.reason, {
        createdAt: ticket.createdAt,
        ...(verdict.reason === 'created_before_first_start'
          ? {
              watermarkAt: mark.at,
              watermarkTicketId: mark.ticketId,
              backfillMinutes: settings.backfillMinutes,
            }
          : { since }),
      });
      return 'ignored';
    }
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
      if (!claimed) {
        notTaken(ticket, 'claimed_before');
        return 'alreadyHandled';
      }
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
      notTaken(ticket, 'conversation_exists');
      return 'alreadyHandled';
    }
    enqueue(ticket, since);
    return 'queued';
  }

  function enqueue(ticket: Ticket, since: string): void {
    if (!pending.has(ticket.id)) pending.set(ticket.id, holdFor(ticket, since));
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

  async function advanceCursor(answer: { ateraTime: string | null; tickets: Ticket[] }): Promise<void> {
    const next = nextCursor({
      current: cursor,
      ateraTime: answer.ateraTime,
      tickets: answer.tickets,
      overlapMs,
      holdAt: pending.values(),
    });
    if (next === cursor) return;
    cursor = next;
    await store.setCursor(WATCHER_CURSOR, cursor);
  }

  /** The first start's watermark, from Atera's first answer; persisted before any ticket is handed over. */
  async function takeWatermark(
    answer: { ateraTime: string | null; tickets: Ticket[] },
    hostAnsweredAtMs: number,
  ): Promise<Watermark> {
    const taken = firstStartWatermark({
      tickets: answer.tickets,
      ateraTime: answer.ateraTime,
      hostStartedAtMs,
      hostAnsweredAtMs,
    });
    await store.setCursor(WATCHER_WATERMARK, serializeWatermark(taken));
    watermark = taken;
    if (taken.clock === 'host') {
      log.warn(
        { watermark: taken },
        'Atera’s answer told no time (no Date header): the first-start watermark is this host’s clock',
      );
    } else log.info({ watermark: taken }, 'first-start watermark taken from Atera');
    return taken;
  }

  async function prune(nowMs: number): Promise<void> {
    if (nowMs - lastPruneMs < PRUNE_EVERY_MS) return;
    lastPruneMs = nowMs;
    try {
      const removed = await store.pruneClaims(
        iso(Date.parse(cursor) - HORIZON_SLACK_MS - CLAIM_RETENTION_MS),
      );
      if (removed > 0) log.debug({ removed }, 'ticket claims pruned');
    } catch (error) {
      log.warn({ err: error }, 'ticket claims prune failed');
    }
  }

  async function poll(): Promise<PollReport> {
    await init();
    const since = cursor;
    const answer = await feed.changedSince(since);
    const hostAnsweredMs = clock.now().getTime();
    const mark = watermark ?? (await takeWatermark(answer, hostAnsweredMs));
    const tickets = [...answer.tickets].sort(
      (a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.id - b.id,
    );
    const ateraMs = answer.ateraTime === null ? NaN : Date.parse(answer.ateraTime);
    const report: PollReport = {
      since,
      ateraTime: answer.ateraTime,
      hostClockAheadMs: Number.isNaN(ateraMs) ? null : Math.round((hostAnsweredMs - ateraMs) / 1000) * 1000,
      fetched: tickets.length,
      queued: 0,
      skippedNoEmail: 0,
      alreadyHandled: 0,
      ignored: 0,
      cursor: since,
    };
    for (const ticket of tickets) report[await consider(ticket, since, mark)] += 1;
    await advanceCursor(answer);
    await prune(hostAnsweredMs);
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
      if (!watermark) {
        // Nothing to judge against before Atera's first answer: a poll takes the watermark and sees the ticket.
        fetchIds.clear();
        await requestPoll();
        return;
      }
      while (fetchIds.size > 0 && !stopped) {
        const ids = [...fetchIds];
        fetchIds.clear();
        for (const id of ids) {
          try {
            await consider(await feed.getTicket(id), cursor, watermark);
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
