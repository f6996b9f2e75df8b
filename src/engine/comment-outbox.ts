/**
 * The comment outbox: delivers the comments the engine recorded (store.update → outbox entries) to Atera,
 * in order per ticket and exactly once as Atera sees it.
 *
 * Atera has no idempotency key, so an entry whose delivery may have reached Atera before (attempts > 0, which
 * includes a process killed mid-request: the attempt is recorded before the POST) is first looked for among the
 * ticket's comments by its marker, and only posted when it is not there. Failures back off exponentially with
 * jitter. A ticket whose comments Atera refuses for good (deleted ticket, 4xx) is not given up silently: after the
 * attempt budget its head entry is retried at the longest backoff and every failure is logged as an error.
 */
import type { Clock } from '../ports/clock.js';
import type { ConversationStore, OutboxEntry } from '../ports/conversation-store.js';
import type { Log } from '../ports/log.js';
import type { TicketDesk } from '../ports/ticket-desk.js';
import { NotFoundError, TicketZeroError } from '../errors.js';

export interface CommentOutboxSettings {
  intervalMs: number;
  batchSize: number;
  leaseMs: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Failed attempts after which an entry Atera refuses for good is retried only at maxBackoffMs. Default 8. */
  attemptBudget?: number;
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
  /** Delivers everything due now, ticket queues in order; resolves with the number delivered. */
  drain(): Promise<number>;
}

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

  function backoffMs(failedAttempts: number, permanent: boolean): number {
    if (permanent && failedAttempts >= attemptBudget) return settings.maxBackoffMs;
    const exponential = Math.min(
      settings.maxBackoffMs,
      settings.baseBackoffMs * 2 ** Math.max(0, failedAttempts - 1),
    );
    return Math.round(exponential / 2 + random() * (exponential / 2));
  }

  async function deliver(entry: OutboxEntry): Promise<boolean> {
    const entryLog = log.child({ ticketId: entry.ticketId, seq: entry.seq, entryId: entry.id });
    // Attempts recorded in the store, counting the one this call records before posting.
    let attempts = entry.attempts;
    try {
      if (entry.attempts > 0) {
        const comments = await desk.listComments(entry.ticketId);
        if (comments.some((c) => containsMarker(c.text, entry.comment.marker))) {
          await store.markDelivered(entry.id);
          entryLog.info({ attempts }, 'comment found delivered');
          return true;
        }
      }
      // Recorded before the POST: if the process dies mid-request, the next attempt reads back first.
      await store.markFailed(entry.id, IN_PROGRESS, iso(clock.now().getTime() + settings.leaseMs));
      attempts += 1;
      await desk.addComment(entry.ticketId, entry.comment);
      await store.markDelivered(entry.id);
      entryLog.debug({ attempts }, 'comment delivered');
      return true;
    } catch (error) {
      const failed = Math.max(1, attempts);
      const permanent = isPermanent(error);
      const delay = backoffMs(failed, permanent);
      const fields = { err: error, attempts: failed, retryInMs: delay };
      if (permanent && failed >= attemptBudget) entryLog.error(fields, 'comment parked: atera refuses it');
      else if (permanent) entryLog.error(fields, 'comment refused by atera');
      else entryLog.warn(fields, 'comment delivery failed');
      try {
        await store.markFailed(entry.id, describe(error), iso(clock.now().getTime() + delay));
      } catch (storeError) {
        entryLog.error({ err: storeError }, 'outbox failure not recorded');
      }
      return false;
    }
  }

  async function drainOnce(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const due = await store.dueComments(clock.now().toISOString(), settings.batchSize, settings.leaseMs);
      if (due.length === 0 || stopping) return delivered;
      // Different tickets in parallel; one ticket's entries come one at a time (the store leases its head only).
      const results = await Promise.all(due.map(deliver));
      const ok = results.filter(Boolean).length;
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
