/**
 * Transcript retention: every hour (and once at start-up) ended conversations whose end lies more than
 * TRANSCRIPT_RETENTION_DAYS in the past are deleted from the store, transcripts and all. Live conversations are
 * never touched, whatever their age.
 */
import type { Clock } from '../ports/clock.js';
import type { ConversationStore } from '../ports/conversation-store.js';
import type { Log } from '../ports/log.js';

const DAY_MS = 24 * 60 * 60 * 1000;
export const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

export interface RetentionJobDeps {
  store: Pick<ConversationStore, 'deleteEndedBefore'>;
  clock: Clock;
  log: Log;
  retentionDays: number;
  /** How often the job runs (default hourly). */
  intervalMs?: number;
}

export interface RetentionJob {
  /** Deletes what has expired now; returns how many conversations were deleted. */
  runOnce(): Promise<number>;
  /** Runs once right away, then every interval. */
  start(): void;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/** The end time before which an ended conversation has expired. */
export function retentionCutoff(now: Date, retentionDays: number): string {
  return new Date(now.getTime() - retentionDays * DAY_MS).toISOString();
}

export function createRetentionJob(deps: RetentionJobDeps): RetentionJob {
  const log = deps.log.child({ component: 'retention' });
  const intervalMs = deps.intervalMs ?? RETENTION_INTERVAL_MS;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;

  async function deleteExpired(): Promise<number> {
    const cutoff = retentionCutoff(deps.clock.now(), deps.retentionDays);
    const deleted = await deps.store.deleteEndedBefore(cutoff);
    if (deleted > 0) log.info({ deleted, cutoff }, 'expired transcripts deleted');
    return deleted;
  }

  function runOnce(): Promise<number> {
    // One run at a time: a slow store is not asked twice.
    running ??= deleteExpired().finally(() => {
      running = null;
    });
    return running;
  }

  function runInBackground(): void {
    runOnce().catch((error: unknown) => log.error({ err: error }, 'retention run failed'));
  }

  return {
    runOnce,
    start() {
      if (timer) return;
      runInBackground();
      timer = setInterval(runInBackground, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await running?.catch(() => 0);
    },
  };
}
