/**
 * The client-side budget under Atera's reported 700 requests per minute per account: no more than `perMinute`
 * requests start in any rolling minute (p-queue's strict mode, a sliding window), and a 429's Retry-After holds
 * back every request of the client until it has passed, not only the one that got it.
 */
import PQueue from 'p-queue';

export interface AteraRateLimit {
  /** Runs `request` when the budget allows (at once when it has room and no pause is on). */
  schedule<T>(request: () => Promise<T>): Promise<T>;
  /** Starts nothing for this long (from now); a longer pause already on is kept. */
  pauseFor(ms: number): void;
}

export function createAteraRateLimit(perMinute: number): AteraRateLimit {
  const queue = new PQueue({ intervalCap: perMinute, interval: 60_000, strict: true });
  let pausedUntil = 0;
  let resume: NodeJS.Timeout | undefined;

  return {
    schedule: (request) => queue.add(request),
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
