/**
 * Per-provider statistics for reporting: calls, failures by reason, answer latency percentiles, tokens used.
 * Latencies are kept for the most recent answers only, so memory stays flat in a long-running bot.
 */
import type { ProviderFailureStatus, TokenUsage } from '../../ports/model.js';

export interface ProviderStats {
  provider: string;
  /** Requests actually sent to the provider (skips while its circuit is open are not calls). */
  calls: number;
  failures: Record<ProviderFailureStatus, number>;
  /** Latency of successful answers, nearest-rank percentiles; null before the first answer. */
  latencyMs: { p50: number | null; p90: number | null; p99: number | null };
  tokens: { prompt: number; completion: number };
}

const KEEP_LATENCIES = 1000;

export interface ProviderStatsRecorder {
  recordCall(): void;
  recordSuccess(latencyMs: number, usage: TokenUsage | null): void;
  recordFailure(status: ProviderFailureStatus): void;
  snapshot(): ProviderStats;
}

export function createProviderStatsRecorder(provider: string): ProviderStatsRecorder {
  let calls = 0;
  const failures: Record<ProviderFailureStatus, number> = {
    rate_limited: 0,
    unavailable: 0,
    timeout: 0,
    invalid: 0,
    circuit_open: 0,
    error: 0,
  };
  const latencies: number[] = [];
  let next = 0;
  const tokens = { prompt: 0, completion: 0 };

  return {
    recordCall() {
      calls += 1;
    },
    recordSuccess(latencyMs, usage) {
      if (latencies.length < KEEP_LATENCIES) latencies.push(latencyMs);
      else latencies[next] = latencyMs;
      next = (next + 1) % KEEP_LATENCIES;
      if (usage) {
        tokens.prompt += usage.promptTokens;
        tokens.completion += usage.completionTokens;
      }
    },
    recordFailure(status) {
      failures[status] += 1;
    },
    snapshot() {
      const sorted = [...latencies].sort((a, b) => a - b);
      return {
        provider,
        calls,
        failures: { ...failures },
        latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99) },
        tokens: { ...tokens },
      };
    },
  };
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}
