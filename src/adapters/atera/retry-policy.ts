/**
 * When to try an Atera request again, as the settings say it (ATERA_MAX_RETRIES, ATERA_RETRY_BUDGET_MS): 429, 5xx
 * and network failures, with exponential backoff and jitter, waiting at least a 429's Retry-After, bounded in count
 * and in total time. The Atera client hands these to its resilience policy (src/adapters/resilience).
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
