/**
 * When to try an Atera request again: 429, 5xx and network failures, with exponential backoff and jitter,
 * honouring Retry-After, bounded in count and in total time. Hand-written rather than cockatiel's `retry`
 * because the delay depends on the failed answer (Retry-After) and on the time budget left, which cockatiel's
 * backoff and stop conditions do not see together.
 */
export interface RetrySettings {
  /** Retries after the first attempt (0: no retry). */
  maxRetries: number;
  /** A request gives up when the next wait would end after this much time since its first attempt. */
  budgetMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetrySettings = {
  maxRetries: 5,
  budgetMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
};

/** Tests and callers that handle failure themselves. */
export const NO_RETRY: RetrySettings = { maxRetries: 0, budgetMs: 0, baseDelayMs: 0, maxDelayMs: 0 };

export interface FailedAttempt {
  /** Failed attempts so far, 1 after the first. */
  attempts: number;
  elapsedMs: number;
  /** Whether repeating the request now is safe and may help. */
  repeatable: boolean;
  retryAfterMs: number | undefined;
}

/** Milliseconds to wait before the next attempt, or null to give up. */
export function retryDelay(
  settings: RetrySettings,
  failed: FailedAttempt,
  random: () => number = Math.random,
): number | null {
  if (!failed.repeatable || failed.attempts > settings.maxRetries) return null;
  const exponential = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (failed.attempts - 1));
  // "Equal jitter": between half and all of the exponential step, so waits spread out but never collapse to 0.
  const jittered = exponential / 2 + random() * (exponential / 2);
  const delay = failed.retryAfterMs !== undefined ? Math.max(failed.retryAfterMs, jittered) : jittered;
  if (failed.elapsedMs + delay > settings.budgetMs) return null;
  return Math.round(delay);
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(header: unknown, nowMs: number): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
