/**
 * How a test waits. No spec under test/ synchronises with a sleep (test/unit/ship/spec-folders.test.ts checks it):
 * a test waits for the condition it needs, and time passes on purpose only through the helpers below, each named
 * for what it means. This is the one file under test/ that may wait on a timer.
 *
 * - `eventually(check)`: polls until `check` passes (returns without throwing); fails with its last error.
 * - `until(what, check)`: polls until `check` returns a truthy value and returns it; fails naming `what`.
 * - `expectNothingWithin(ms, check)`: the behaviour under test is that nothing (more) happens for `ms`;
 *   `check` must hold at every poll during that window and at its end.
 * - `runFor(ms)`: real time passes on purpose because its passing is the behaviour under test: a gap between two
 *   updates of a stream, a crash at a random moment. Never a way to wait for something to happen: use
 *   `eventually` or `until` for that.
 */
import { setTimeout as timer } from 'node:timers/promises';

export interface PollOptions {
  /** How long to keep trying (ms). */
  timeoutMs?: number;
  /** Time between tries (ms). */
  intervalMs?: number;
}

/** Waits until `check` passes (polling), failing with the last assertion error. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeout: number | PollOptions = 20_000,
): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 50 } =
    typeof timeout === 'number' ? { timeoutMs: timeout } : timeout;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw lastError;
    await timer(intervalMs);
  }
}

/**
 * Waits until `check` returns something truthy (polling) and returns it. Fails with `timed out waiting for <what>`,
 * plus `describe()` and the last error `check` threw, if any.
 */
export async function until<T>(
  what: string,
  check: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  options: PollOptions & { describe?: () => string } = {},
): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 50, describe } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = [describe?.(), lastError ? String(lastError) : ''].filter(Boolean).join('; ');
      throw new Error(`timed out waiting for ${what}${detail ? `: ${detail}` : ''}`);
    }
    await timer(intervalMs);
  }
}

/** Asserts that `check` holds throughout the next `ms` (polled), e.g. that no second copy of a message arrives. */
export async function expectNothingWithin(
  ms: number,
  check: () => void | Promise<void>,
  intervalMs = Math.min(100, ms),
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    await check();
    const left = end - Date.now();
    if (left <= 0) return;
    await timer(Math.min(intervalMs, left));
  }
}

/** Lets `ms` of real time pass when that passing is what is under test (a stream gap, a crash at a random moment). */
export async function runFor(ms: number): Promise<void> {
  await timer(ms);
}
