/**
 * The comment outbox: delivers the comments the engine recorded (store.update → outbox entries) to Atera,
 * in order per ticket and exactly once as Atera sees it, in as few Atera calls as it can.
 *
 * Folding. When it takes a ticket's next entry (the head `dueComments` leased to it), it takes every entry queued
 * behind it too and writes them as one comment (`foldComments`: each part's words, attribution, time and marker, in
 * order), split into several comments only past `MAX_COMMENT_CHARS` or where the visibility changes. A user's
 * message the AI is answering (`awaitsAnswer`) waits for its answer, at most `answerWaitMs`, so a round is one
 * comment; a message no answer follows (a hand-over, a confirmation) goes at once, and one whose answer does not come
 * in time (the model failed or is slow, the conversation moved on) goes alone once the wait is over. When comments
 * queue up (Atera slow, 429s, a burst) the backlog of a ticket therefore drains in one call per comment-sized fold,
 * while the Atera client's rate limit keeps every call — reads included — within the configured budget.
 *
 * Exactly once. Atera has no idempotency key, so the head's attempt is recorded before the POST (attempts > 0, which
 * includes a process killed mid-request); a head with attempts > 0 is first looked for among the ticket's comments
 * by its marker — and so is every entry behind it, since a folded comment carries them all — and only what is not
 * there is posted. After a write, the fold's entries are marked delivered in one atomic store write: until it
 * lands, the read-back finds the whole fold again. Failures back off exponentially with jitter. A
 * ticket whose comments Atera refuses for good (deleted ticket, 4xx) is not given up silently: after the attempt
 * budget its head entry is retried at the longest backoff and every failure is logged as an error.
 */
import type { Clock } from '../ports/clock.js';
import type { ConversationStore, OutboxEntry } from '../ports/conversation-store.js';
import type { Log } from '../ports/log.js';
import { markersOf, type TicketDesk } from '../ports/ticket-desk.js';
import { NotFoundError, TicketZeroError } from '../errors.js';
import { foldComments, foldedPart, FOLD_SEPARATOR, MAX_COMMENT_CHARS } from './atera-comment-text.js';

export interface CommentOutboxSettings {
  intervalMs: number;
  batchSize: number;
  leaseMs: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Failed attempts after which an entry Atera refuses for good is retried only at maxBackoffMs. Default 8. */
  attemptBudget?: number;
  /**
   * How long a user's message the AI is answering waits for the answer, so the round is one comment. Default
   * 20 s, never more than half the lease (the head stays leased meanwhile); 0 never waits.
   */
  answerWaitMs?: number;
}

export interface CommentOutboxDeps {
  store: ConversationStore;
  desk: TicketDesk;
  clock: Clock;
  log: Log;
  settings: CommentOutboxSettings;
  /** For jitter; tests may pin it. */
  random?: () => number;
}

export interface CommentOutbox {
  start(): void;
  stop(): Promise<void>;
  /** Deliver soon (new comments were recorded). Coalesced. */
  kick(): void;
  /** Delivers everything due now, ticket queues in order; resolves with the number of entries delivered. */
  drain(): Promise<number>;
}

/** The most queued entries of one ticket looked at (and folded) at once. */
export const FOLD_LIMIT = 50;
const DEFAULT_ANSWER_WAIT_MS = 20_000;

const IN_PROGRESS = 'delivery in progress';

/** Whether the marker occurs as a whole token (`tz-7-1` must not match `tz-7-12`). */
export function containsMarker(text: string, marker: string): boolean {
  const escaped = marker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w-])${escaped}(?![\\w-])`).test(text);
}

/** A failure retrying cannot fix by itself: the ticket is gone, or Atera refuses the request (4xx other than 429). */
function isPermanent(error: unknown): boolean {
  if (error instanceof NotFoundError) return true;
  return error instanceof TicketZeroError && (error as { retryable?: unknown }).retryable === false;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 500);
  return String(error).slice(0, 500);
}

export function createCommentOutbox(deps: CommentOutboxDeps): CommentOutbox {
  const { store, desk, clock, settings } = deps;
  const log = deps.log.child({ component: 'comment-outbox' });
  const random = deps.random ?? Math.random;
  const attemptBudget = settings.attemptBudget ?? 8;
  const iso = (ms: number) => new Date(ms).toISOString();

  let timer: ReturnType<typeof setInterval> | null = null;
  let draining: Promise<number> | null = null;
  let stopping = false;
  let again = false;
  const answerWaitMs = Math.max(
    0,
    Math.min(settings.answerWaitMs ?? DEFAULT_ANSWER_WAIT_MS, Math.floor(settings.leaseMs / 2)),
  );
  /** Heads (leased to this outbox) waiting for the answer queued behind them, by ticket. */
  const waiting = new Map<number, { head: OutboxEntry; since: number }>();

  function backoffMs(failedAttempts: number, permanent: boolean): number {
    if (permanent && failedAttempts >= attemptBudget) return settings.maxBackoffMs;
    const exponential = Math.min(
      settings.maxBackoffMs,
      settings.baseBackoffMs * 2 ** Math.max(0, failedAttempts - 1),
    );
    return Math.round(exponential / 2 + random() * (exponential / 2));
  }

  /** The head and the entries behind it that go in its comment: same visibility, within the size cap. */
  function foldable(pending: readonly OutboxEntry[]): OutboxEntry[] {
    const [head, ...rest] = pending;
    if (!head) return [];
    const fold = [head];
    let chars = foldedPart(head.comment).length;
    for (const entry of rest) {
      if (entry.comment.visibility !== head.comment.visibility) break;
      chars += FOLD_SEPARATOR.length + foldedPart(entry.comment).length;
      if (chars > MAX_COMMENT_CHARS) break;
      fold.push(entry);
    }
    return fold;
  }

  /** All of a fold's entries in one store write: see the header. */
  async function markAllDelivered(entries: readonly OutboxEntry[]): Promise<void> {
    await store.markDelivered(...entries.map((e) => e.id));
  }

  /**
   * Delivers the ticket's queued comments from `leased` (its head, leased to this outbox) on, one comment's worth;
   * resolves with the number of entries delivered (0 after a failure, or while the head waits for an answer).
   * `waitingSince`: when this head began waiting for an answer.
   */
  async function deliver(leased: OutboxEntry, waitingSince?: number): Promise<number> {
    const entryLog = log.child({ ticketId: leased.ticketId, seq: leased.seq, entryId: leased.id });
    let head = leased;
    // Attempts recorded in the store, counting the one this call records before posting.
    let attempts = head.attempts;
    try {
      const listed = await store.pendingComments(head.ticketId, FOLD_LIMIT);
      if (!listed.some((e) => e.id === leased.id)) return 0; // delivered meanwhile
      let pending = listed[0]!.id === leased.id ? listed : [leased];
      head = pending[0]!;
      attempts = head.attempts;
      let delivered = 0;
      if (head.attempts > 0) {
        const comments = await desk.listComments(head.ticketId);
        const found = pending.filter((e) =>
          markersOf(e.comment).every((m) => comments.some((c) => containsMarker(c.text, m))),
        );
        if (found.length > 0) {
          await markAllDelivered(found);
          entryLog.info({ attempts, entries: found.length }, 'comment found delivered');
          delivered = found.length;
          pending = pending.filter((e) => !found.includes(e));
          // The head went with them: the next head is handed out (and leased) by the store as usual.
          if (pending[0] !== head) return delivered;
        }
      }
      const nowMs = clock.now().getTime();
      const last = pending.at(-1)!;
      // Only before the first attempt: a head tried before has had its wait (or must not wait behind a failure).
      if (
        answerWaitMs > 0 &&
        head.attempts === 0 &&
        last.comment.awaitsAnswer &&
        pending.length < FOLD_LIMIT
      ) {
        const since = waitingSince ?? nowMs;
        if (nowMs - since < answerWaitMs) {
          waiting.set(head.ticketId, { head, since });
          return delivered;
        }
      }
      const fold = foldable(pending);
      // Recorded before the POST: if the process dies mid-request, the next attempt reads back first.
      await store.markFailed(head.id, IN_PROGRESS, iso(nowMs + settings.leaseMs));
      attempts += 1;
      await desk.addComment(head.ticketId, foldComments(fold.map((e) => e.comment)));
      await markAllDelivered(fold);
      entryLog.debug({ attempts, entries: fold.length }, 'comment delivered');
      return delivered + fold.length;
    } catch (error) {
      const failed = Math.max(1, attempts);
      const permanent = isPermanent(error);
      const delay = backoffMs(failed, permanent);
      const fields = { err: error, attempts: failed, retryInMs: delay };
      if (permanent && failed >= attemptBudget) entryLog.error(fields, 'comment parked: atera refuses it');
      else if (permanent) entryLog.error(fields, 'comment refused by atera');
      else entryLog.warn(fields, 'comment delivery failed');
      try {
        await store.markFailed(head.id, describe(error), iso(clock.now().getTime() + delay));
      } catch (storeError) {
        entryLog.error({ err: storeError }, 'outbox failure not recorded');
      }
      return 0;
    }
  }

  async function drainOnce(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const due = await store.dueComments(clock.now().toISOString(), settings.batchSize, settings.leaseMs);
      // Heads waiting for an answer are still leased to this outbox: looked at again on every pass.
      const heads = new Map<number, { head: OutboxEntry; since?: number }>(waiting);
      for (const head of due) if (!heads.has(head.ticketId)) heads.set(head.ticketId, { head });
      if (heads.size === 0 || stopping) return delivered;
      waiting.clear();
      // Different tickets in parallel; one ticket's entries one comment at a time (the store leases its head only).
      const results = await Promise.all([...heads.values()].map((h) => deliver(h.head, h.since)));
      const ok = results.reduce((sum, n) => sum + n, 0);
      delivered += ok;
      if (ok === 0) return delivered;
    }
  }

  function drain(): Promise<number> {
    if (draining) {
      again = true;
      return draining;
    }
    draining = (async () => {
      let total = 0;
      do {
        again = false;
        total += await drainOnce();
      } while (again);
      return total;
    })().finally(() => {
      draining = null;
    });
    return draining;
  }

  function kick(): void {
    drain().catch((error: unknown) => log.error({ err: error }, 'outbox drain failed'));
  }

  return {
    start() {
      if (timer) return;
      timer = setInterval(kick, settings.intervalMs);
      timer.unref?.();
      kick();
    },
    /** Stops after the batch in flight; what is left stays queued in the store for the next start. */
    async stop() {
      stopping = true;
      if (timer) clearInterval(timer);
      timer = null;
      if (draining) await draining.catch(() => 0);
      stopping = false;
    },
    kick,
    drain,
  };
}
