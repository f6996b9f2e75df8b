import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CircuitOpenError,
  createOutsideSystemPolicy,
  type OutsideSystemPolicyOptions,
} from '../../../src/adapters/resilience/outside-system-policy.js';
import { parseRetryAfter } from '../../../src/adapters/resilience/retry-after.js';
import { silentLog } from '../../../src/ports/log.js';

class Answered extends Error {
  constructor(
    readonly status: number,
    readonly retryAfter?: string,
  ) {
    super(`answered ${status}`);
  }
}

function policyWith(overrides: Partial<OutsideSystemPolicyOptions> = {}) {
  return createOutsideSystemPolicy({
    system: 'atera',
    timeoutMs: 1000,
    retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 40 },
    breaker: { failures: 3, halfOpenAfterMs: 30_000 },
    isTransient: (error) => error instanceof Answered && (error.status === 429 || error.status >= 500),
    retryAfterMs: (error) => (error instanceof Answered ? parseRetryAfter(error.retryAfter) : undefined),
    log: silentLog,
    random: () => 0,
    ...overrides,
  });
}

/** A call that fails with these answers in turn, then succeeds; counts its attempts. */
function scripted(...failures: Answered[]) {
  const calls = { count: 0 };
  const run = async () => {
    const failure = failures[calls.count];
    calls.count += 1;
    if (failure) throw failure;
    return 'ok';
  };
  return { calls, run };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('an outside system’s policy', () => {
  it('waits the Retry-After a 429 asked for before trying again, not its own shorter backoff', async () => {
    const policy = policyWith();
    const { calls, run } = scripted(new Answered(429, '2'));
    const result = policy.execute(run);
    await vi.advanceTimersByTimeAsync(1999);
    expect(calls.count).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.count).toBe(2);
    await expect(result).resolves.toBe('ok');
  });

  it('reads Retry-After as an HTTP date too', async () => {
    const policy = policyWith();
    const at = new Date(Date.now() + 3000).toUTCString();
    const { calls, run } = scripted(new Answered(503, at));
    const result = policy.execute(run);
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls.count).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    await expect(result).resolves.toBe('ok');
    expect(calls.count).toBe(2);
  });

  it('gives up at once on a Retry-After beyond its ceiling or its time budget', async () => {
    const ceiling = policyWith({
      retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 40, maxRetryAfterMs: 60_000 },
    });
    const first = scripted(new Answered(429, '120'));
    await expect(ceiling.execute(first.run)).rejects.toMatchObject({ status: 429 });
    expect(first.calls.count).toBe(1);

    const budget = policyWith({
      retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 40, budgetMs: 500 },
    });
    const second = scripted(new Answered(429, '30'));
    await expect(budget.execute(second.run)).rejects.toMatchObject({ status: 429 });
    expect(second.calls.count).toBe(1);
  });

  it('does not repeat a call the caller says may not be repeated, nor a failure that is not transient', async () => {
    const policy = policyWith();
    const post = scripted(new Answered(500));
    await expect(policy.execute(post.run, { mayRepeat: () => false })).rejects.toMatchObject({ status: 500 });
    expect(post.calls.count).toBe(1);
    const missing = scripted(new Answered(404));
    await expect(policy.execute(missing.run)).rejects.toMatchObject({ status: 404 });
    expect(missing.calls.count).toBe(1);
  });

  it('times each attempt out through its signal', async () => {
    const policy = policyWith({ retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 } });
    const result = policy.execute(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('timed out')))),
    );
    const settled = expect(result).rejects.toThrow('timed out');
    await vi.advanceTimersByTimeAsync(1000);
    await settled;
  });

  it('opens its circuit after N failed calls in a row, refuses calls without trying them, and says so', async () => {
    const policy = policyWith({ retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 } });
    expect(policy.circuit()).toEqual({ system: 'atera', status: 'closed', refusing: false });
    for (let i = 0; i < 3; i++) {
      await expect(policy.execute(scripted(new Answered(500)).run)).rejects.toMatchObject({ status: 500 });
    }
    expect(policy.circuit()).toEqual({ system: 'atera', status: 'open', refusing: true });
    const refused = scripted();
    await expect(policy.execute(refused.run)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(refused.calls.count).toBe(0);
  });

  it('does not count failures that are not transient (a 404) towards opening', async () => {
    const policy = policyWith({ retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 } });
    for (let i = 0; i < 5; i++) {
      await expect(policy.execute(scripted(new Answered(404)).run)).rejects.toMatchObject({ status: 404 });
    }
    expect(policy.circuit().refusing).toBe(false);
  });

  it('lets one probe through after the cooldown and closes on its success', async () => {
    const policy = policyWith({ retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 } });
    for (let i = 0; i < 3; i++) await policy.execute(scripted(new Answered(502)).run).catch(() => undefined);
    vi.advanceTimersByTime(29_999);
    expect(policy.circuit().refusing).toBe(true);
    vi.advanceTimersByTime(1);
    expect(policy.circuit()).toEqual({ system: 'atera', status: 'half_open', refusing: false });
    await expect(policy.execute(scripted().run)).resolves.toBe('ok');
    expect(policy.circuit()).toEqual({ system: 'atera', status: 'closed', refusing: false });
  });

  it('counts answers the system marks as failed (model providers’ status results) towards opening', async () => {
    const policy = policyWith({
      retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 },
      breaker: { failures: 2, halfOpenAfterMs: 1000 },
      isFailedResult: (r) => (r as { status: string }).status !== 'ok',
    });
    await policy.execute(async () => ({ status: 'unavailable' }));
    expect(policy.circuit().refusing).toBe(false);
    await policy.execute(async () => ({ status: 'unavailable' }));
    expect(policy.circuit().refusing).toBe(true);
  });
});

describe('Retry-After', () => {
  it('is delta-seconds or an HTTP date, and nothing else', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('Retry-After parsing', () => {
  it('lives in one module: every other part of src that reads the header goes through it', () => {
    const src = join(import.meta.dirname, '../../../src');
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) return entry.name === 'sandboxes' ? [] : files(path);
        return entry.name.endsWith('.ts') ? [path] : [];
      });
    const own = join(src, 'adapters/resilience/retry-after.ts');
    const parsingElsewhere = files(src)
      .filter((path) => path !== own)
      .filter((path) => {
        const text = readFileSync(path, 'utf8');
        return /retry-after['"]/i.test(text) && !text.includes('resilience/retry-after.js');
      })
      .map((path) => relative(src, path));
    expect(parsingElsewhere).toEqual([]);
  });
});
