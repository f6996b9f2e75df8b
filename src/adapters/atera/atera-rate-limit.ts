/**
 * The client-side budget under Atera's reported 700 requests per minute per account: no more than `perMinute`
 * requests reach Atera in any rolling minute, and a 429's Retry-After holds back every request of the client until
 * it has passed, not only the one that got it.
 *
 * Each request holds one of `perMinute` slots (p-queue's concurrency) from its start until a minute after Atera
 * answered it. Counting starts alone is not enough: a request started at 0 s may reach Atera seconds later (busy
 * event loop, sockets all in use), so a window of starts lets more than the budget arrive within one of Atera's
 * minutes. Measured in the bench's budget scenario: 610 arrivals in Atera's busiest minute against a budget of 600
 * with a sliding window of starts. With the slot held until a minute after the answer, every request that arrives
 * in a minute still holds its slot at that minute's end, so at most `perMinute` arrive in any minute.
 *
 * Comments wait behind everything else: in the same scenario a backlog of comment writes, queued first, held the
 * ticket feed's polls back (20 polls in 6 minutes instead of 24 with the sliding window, none with the slots).
 */
import PQueue from 'p-queue';

export interface AteraRateLimit {
  /**
   * Runs `request` when the budget allows (at once when it has room and no pause is on). A `deferrable` request
   * (a comment to write) waits behind every other one queued.
   */
  schedule<T>(request: () => Promise<T>, options?: { deferrable?: boolean }): Promise<T>;
  /** Starts nothing for this long (from now); a longer pause already on is kept. */
  pauseFor(ms: number): void;
}

const MINUTE_MS = 60_000;

/** Resolves after `ms` without keeping a stopping process alive (a held slot matters only while it runs). */
function holdFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function createAteraRateLimit(perMinute: number): AteraRateLimit {
  const queue = new PQueue({ concurrency: perMinute });
  let pausedUntil = 0;
  let resume: NodeJS.Timeout | undefined;

  return {
    schedule: <T>(request: () => Promise<T>, options: { deferrable?: boolean } = {}) =>
      new Promise<T>((resolve, reject) => {
        void queue.add(
          async () => {
            // The caller has its answer at once; the slot stays taken for a minute after it.
            await request().then(resolve, reject);
            await holdFor(MINUTE_MS);
          },
          { priority: options.deferrable ? 0 : 1 },
        );
      }),
    pauseFor(ms) {
      const until = Date.now() + ms;
      if (ms <= 0 || until <= pausedUntil) return;
      pausedUntil = until;
      queue.pause();
      clearTimeout(resume);
      resume = setTimeout(() => queue.start(), ms);
      // A pause must not keep a stopping process alive; queued requests are held by their callers.
      resume.unref();
    },
  };
}
