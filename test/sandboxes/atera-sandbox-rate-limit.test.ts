import { afterEach, describe, expect, it, vi } from 'vitest';
import { startAteraSandbox, type AteraSandbox } from '../../src/sandboxes/atera/atera-sandbox.js';

/** The Atera sandbox's per-account limit, which the benchmark's budget scenario runs against. */
describe('the Atera sandbox’s requests-per-minute limit', () => {
  let sandbox: AteraSandbox | null = null;
  afterEach(async () => {
    vi.useRealTimers();
    await sandbox?.close();
    sandbox = null;
  });
  const get = (s: AteraSandbox) => fetch(`${s.baseUrl}/tickets`, { headers: { 'X-API-KEY': s.apiKey } });

  it('answers 429 with a Retry-After beyond the limit in a rolling minute, and admits again once it has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-01T10:00:00Z'));
    sandbox = await startAteraSandbox({ requestsPerMinute: 3 });
    for (let i = 0; i < 3; i += 1) expect((await get(sandbox)).status).toBe(200);
    vi.setSystemTime(new Date('2026-03-01T10:00:20Z'));
    const refused = await get(sandbox);
    expect(refused.status).toBe(429);
    // The oldest admitted request leaves the window 40 s from now.
    expect(refused.headers.get('retry-after')).toBe('40');
    expect(sandbox.requests.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    // Each request carries when it arrived, so a rolling minute can be counted from the log alone.
    expect(sandbox.requests.map((r) => new Date(r.at).toISOString())).toEqual([
      '2026-03-01T10:00:00.000Z',
      '2026-03-01T10:00:00.000Z',
      '2026-03-01T10:00:00.000Z',
      '2026-03-01T10:00:20.000Z',
    ]);
    // Refused requests do not count: once the minute has passed, all three are admitted again.
    vi.setSystemTime(new Date('2026-03-01T10:01:00.001Z'));
    for (let i = 0; i < 3; i += 1) expect((await get(sandbox)).status).toBe(200);
    expect((await get(sandbox)).status).toBe(429);
  });

  it('has no limit unless asked, and can be set or lifted while running', async () => {
    sandbox = await startAteraSandbox();
    for (let i = 0; i < 5; i += 1) expect((await get(sandbox)).status).toBe(200);
    sandbox.setRequestsPerMinute(1);
    expect((await get(sandbox)).status).toBe(200);
    expect((await get(sandbox)).status).toBe(429);
    sandbox.setRequestsPerMinute(null);
    expect((await get(sandbox)).status).toBe(200);
    expect(() => sandbox!.setRequestsPerMinute(0)).toThrow(RangeError);
  });
});
