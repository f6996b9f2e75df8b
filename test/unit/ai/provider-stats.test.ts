import { describe, expect, it } from 'vitest';
import { createProviderStatsRecorder, percentile } from '../../../src/adapters/ai/provider-stats.js';

describe('provider statistics', () => {
  it('gives nearest-rank percentiles of answer latency', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99)]).toEqual([50, 90, 99]);
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 99)).toBe(7);
  });

  it('counts calls, failures by reason and tokens', () => {
    const stats = createProviderStatsRecorder('local');
    stats.recordCall();
    stats.recordFailure('timeout');
    stats.recordCall();
    stats.recordSuccess(120, { promptTokens: 900, completionTokens: 80 });
    stats.recordSuccess(80, null);
    stats.recordFailure('circuit_open');
    expect(stats.snapshot()).toEqual({
      provider: 'local',
      calls: 2,
      failures: { rate_limited: 0, unavailable: 0, timeout: 1, invalid: 0, circuit_open: 1, error: 0 },
      latencyMs: { p50: 80, p90: 120, p99: 120 },
      tokens: { prompt: 900, completion: 80 },
    });
  });

  it('keeps memory flat: only the most recent 1000 latencies count', () => {
    const stats = createProviderStatsRecorder('local');
    for (let i = 0; i < 1000; i++) stats.recordSuccess(10_000, null);
    for (let i = 0; i < 1000; i++) stats.recordSuccess(5, null);
    expect(stats.snapshot().latencyMs).toEqual({ p50: 5, p90: 5, p99: 5 });
  });
});
