import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAteraRateLimit } from '../../../src/adapters/atera/atera-rate-limit.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Schedules `count` requests and records when (fake ms since start) each one started. */
function burst(limit: ReturnType<typeof createAteraRateLimit>, count: number, startedAt: number[]) {
  const t0 = Date.now();
  return Array.from({ length: count }, () =>
    limit.schedule(async () => {
      startedAt.push(Date.now() - t0);
    }),
  );
}

describe('the Atera client-side rate limit', () => {
  it('starts no more than its budget in any rolling minute', async () => {
    const limit = createAteraRateLimit(3);
    const started: number[] = [];
    const done = burst(limit, 5, started);
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([0, 0, 0]);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(started).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(done);
    expect(started).toEqual([0, 0, 0, 60_000, 60_000]);
  });

  it('keeps the window rolling: no boundary where a second budget gets through at once', async () => {
    const limit = createAteraRateLimit(2);
    const started: number[] = [];
    const t0 = Date.now();
    const record = () =>
      limit.schedule(async () => {
        started.push(Date.now() - t0);
      });
    void record();
    await vi.advanceTimersByTimeAsync(50_000);
    void record();
    await vi.advanceTimersByTimeAsync(5_000);
    const last = [record(), record()];
    await vi.advanceTimersByTimeAsync(5_000);
    // The slot of the request at 0 s comes free at 60 s, the one at 50 s only at 110 s. A fixed one-minute window
    // would have started both at 60 s: three requests within ten seconds on a budget of two per minute.
    expect(started).toEqual([0, 50_000, 60_000]);
    await vi.advanceTimersByTimeAsync(50_000);
    await Promise.all(last);
    expect(started).toEqual([0, 50_000, 60_000, 110_000]);
  });

  it('counts a slow request for a minute after Atera answered it, so no more than the budget arrive in any minute', async () => {
    const limit = createAteraRateLimit(1);
    const started: number[] = [];
    const t0 = Date.now();
    // Started at 0 s, answered at 20 s: it may have reached Atera at any moment in between.
    let answer = () => {};
    const slow = limit.schedule(async () => {
      started.push(Date.now() - t0);
      await new Promise<void>((resolve) => (answer = resolve));
    });
    const next = limit.schedule(async () => {
      started.push(Date.now() - t0);
    });
    await vi.advanceTimersByTimeAsync(20_000);
    answer();
    await slow; // the caller has its answer when Atera gave it, not a minute later
    await vi.advanceTimersByTimeAsync(59_999);
    expect(started).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    await next;
    expect(started).toEqual([0, 80_000]);
  });

  it('passes a failed request’s error to its caller and frees its slot a minute later', async () => {
    const limit = createAteraRateLimit(1);
    const failed = limit.schedule(() => Promise.reject(new Error('atera said 500')));
    await expect(failed).rejects.toThrow('atera said 500');
    const started: number[] = [];
    const t0 = Date.now();
    const next = limit.schedule(async () => {
      started.push(Date.now() - t0);
    });
    await vi.advanceTimersByTimeAsync(60_000);
    await next;
    expect(started).toEqual([60_000]);
  });

  it('lets a poll of the ticket feed go before a backlog of comments queued earlier', async () => {
    const limit = createAteraRateLimit(1);
    const order: string[] = [];
    const run = (name: string, deferrable: boolean) =>
      limit.schedule(
        async () => {
          order.push(name);
        },
        { deferrable },
      );
    const all = [run('comment 1', true), run('comment 2', true), run('comment 3', true), run('poll', false)];
    await vi.advanceTimersByTimeAsync(180_000);
    await Promise.all(all);
    expect(order).toEqual(['comment 1', 'poll', 'comment 2', 'comment 3']);
  });

  it('holds every request back while a 429’s Retry-After lasts, not only the one that got it', async () => {
    const limit = createAteraRateLimit(100);
    const started: number[] = [];
    limit.pauseFor(5_000);
    const done = burst(limit, 3, started);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(started).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(done);
    expect(started).toEqual([5_000, 5_000, 5_000]);
  });

  it('keeps a longer pause already on when a shorter one is asked for', async () => {
    const limit = createAteraRateLimit(100);
    const started: number[] = [];
    limit.pauseFor(10_000);
    limit.pauseFor(1_000);
    const done = burst(limit, 1, started);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(started).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(done);
    expect(started).toEqual([10_000]);
  });
});
