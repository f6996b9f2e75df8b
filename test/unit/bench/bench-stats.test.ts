import { describe, expect, it } from 'vitest';
import {
  geometricLevels,
  percentile,
  ratio,
  REQUIRED_KEYS,
  reportJson,
  reportTable,
  stepPasses,
  stepUp,
  summarise,
  type BenchReport,
} from '../../../bench/bench-stats.js';

const report: BenchReport = {
  store: 'lowdb',
  machine: { cores: 2, cpu: 'Test CPU', node: 'v20.0.0', platform: 'linux' },
  quick: true,
  auth: true,
  model_delay_ms: 300,
  turn_overhead_p50_ms: 4.2,
  turn_overhead_p99_ms: 12.5,
  echo_p50_ms: 3.1,
  echo_p99_ms: 9,
  overhead_ratio_p50: 1.35,
  turn_cost_ratio_10k_vs_100: 1.02,
  turn_time_ratio_10k_vs_100: 1.02,
  turn_bytes_ratio_10k_vs_100: 1,
  max_concurrent_conversations: 2000,
  max_turns_per_s: 400,
  echo_max_turns_per_s: 800,
  turns_per_s_ratio: 0.5,
  rss_mb_per_1000_conversations: Number.NaN as unknown as number,
  atera_calls_per_idle_poll: 1,
  atera_calls_per_turn: 2,
  ticket_to_first_message_ms: 520,
  ticket_to_first_message_webhook_ms: 40,
  atera_comment_to_chat_ms: 500,
  atera_comment_to_chat_webhook_ms: 12,
  atera_calls_per_minute_idle_live: 60,
  details: {},
};

describe('the benchmark’s arithmetic', () => {
  it('takes nearest-rank percentiles of unsorted samples', () => {
    const samples = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10];
    expect(percentile(samples, 50)).toBe(5);
    expect(percentile(samples, 99)).toBe(10);
    expect(percentile(samples, 0)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarises latencies with their errors, and a step passes only with no error and p99 under the limit', () => {
    const fast = summarise([1, 2, 3, 4], 0);
    expect(fast).toEqual({ count: 4, errors: 0, p50: 2, p99: 4, max: 4 });
    expect(stepPasses(fast, 50)).toBe(true);
    expect(stepPasses(summarise([1, 2, 3, 4], 1), 50)).toBe(false);
    expect(stepPasses(summarise([1, 2, 60], 0), 50)).toBe(false);
    expect(stepPasses(summarise([], 0), 50)).toBe(false);
  });

  it('steps a load up until a level fails and keeps the highest that passed', async () => {
    const tried: number[] = [];
    const result = await stepUp([400, 100, 200, 800], async (level) => {
      tried.push(level);
      return { passed: level < 400, detail: { level } };
    });
    expect(tried).toEqual([100, 200, 400]);
    expect(result.best).toBe(200);
    expect(result.steps.map((s) => s.passed)).toEqual([true, true, false]);
    expect((await stepUp([100], async () => ({ passed: false, detail: null }))).best).toBe(0);
  });

  it('builds geometric levels and ratios that refuse to divide by nothing', () => {
    expect(geometricLevels(100, 2, 1000)).toEqual([100, 200, 400, 800]);
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeNaN();
  });

  it('prints one JSON line with every key issue 10 asks for, NaN as null', () => {
    const line = reportJson(report);
    expect(line).not.toContain('\n');
    const parsed = JSON.parse(line) as Record<string, unknown>;
    for (const key of REQUIRED_KEYS) expect(parsed).toHaveProperty(key);
    expect(parsed['rss_mb_per_1000_conversations']).toBeNull();
    expect(parsed['machine']).toEqual({ cores: 2, cpu: 'Test CPU', node: 'v20.0.0', platform: 'linux' });
  });

  it('prints a table with the store, the machine and each measure against its target', () => {
    const table = reportTable(report);
    expect(table).toContain('store: lowdb · 2 cores (Test CPU) · Node v20.0.0');
    expect(table).toMatch(/\| turn overhead p99 \(TicketZero\) +\| +12\.5 ms \| ≤ 20 ms/);
    expect(table).toMatch(/\| max concurrent conversations \(p99 < 50 ms\) +\| +2000 \| ≥ 1000/);
  });
});
