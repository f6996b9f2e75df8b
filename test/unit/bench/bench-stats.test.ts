import { describe, expect, it } from 'vitest';
import {
  geometricLevels,
  lagReason,
  markersIn,
  matchDeliveries,
  maxInWindow,
  pairAnswers,
  percentile,
  ratio,
  REQUIRED_KEYS,
  reportJson,
  reportTable,
  stepPasses,
  stepUp,
  stepVerdict,
  summarise,
  turnMarker,
  type BenchReport,
  type StepLag,
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
  atera_calls_per_minute: 598,
  atera_budget_per_minute: 600,
  outbox_lag_p50_s: 2.5,
  outbox_lag_p99_s: 41,
  turns_lost: 0,
  turns_doubled: 1,
  connector_calls_per_turn: 2,
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
      return { verdict: level < 400 ? 'passed' : 'failed', detail: { level } };
    });
    expect(tried).toEqual([100, 200, 400]);
    expect(result.best).toBe(200);
    expect(result.stoppedBy).toBe('failed');
    expect(result.steps.map((s) => s.verdict)).toEqual(['passed', 'passed', 'failed']);
    expect((await stepUp([100], async () => ({ verdict: 'failed', detail: null }))).best).toBe(0);
    expect((await stepUp([100, 200], async () => ({ verdict: 'passed', detail: null }))).stoppedBy).toBe(
      'end',
    );
  });

  it('repeats a step the bench could not trust, and stops at one that stays invalid without calling it a failure', async () => {
    const tries: string[] = [];
    const result = await stepUp([100, 200, 400], async (level, attempt) => {
      tries.push(`${level}#${attempt}`);
      if (level === 100) return { verdict: attempt === 1 ? 'invalid' : 'passed', detail: null };
      return { verdict: 'invalid', detail: null };
    });
    expect(tries).toEqual(['100#1', '100#2', '200#1', '200#2', '200#3']);
    expect(result.best).toBe(100);
    expect(result.stoppedBy).toBe('invalid');
    expect(result.steps.map((s) => `${s.level}:${s.verdict}`)).toEqual([
      '100:invalid',
      '100:passed',
      '200:invalid',
      '200:invalid',
      '200:invalid',
    ]);
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

  describe('whether a step measured the bot', () => {
    const calm: StepLag = {
      planned: 100,
      sent: 100,
      sendLatenessP99Ms: 1.2,
      sendLatenessMaxMs: 3,
      generatorLoopP99Ms: 2,
      recorderLoopP99Ms: 4,
    };
    const fast = summarise([1, 2, 3], 0);
    const slow = summarise([1, 2, 80], 0);

    it('counts a calm step as the bot’s pass or failure', () => {
      expect(lagReason(calm)).toBeNull();
      expect(stepVerdict(fast, calm, 50)).toBe('passed');
      expect(stepVerdict(slow, calm, 50)).toBe('failed');
    });

    it('calls a step invalid when the generator sent late, fell short, or either event loop lagged', () => {
      expect(lagReason({ ...calm, sendLatenessP99Ms: 25 })).toMatch(/generator sends late \(p99 25 ms\)/);
      expect(lagReason({ ...calm, sent: 90 })).toBe('generator sent 90 of 100');
      expect(lagReason({ ...calm, generatorLoopP99Ms: 30 })).toMatch(/generator event loop/);
      expect(lagReason({ ...calm, recorderLoopP99Ms: 30 })).toMatch(/recorder event loop/);
      expect(lagReason({ ...calm, generatorLoopP99Ms: Number.NaN })).not.toBeNull();
      // A slow bot behind a lagging generator is not the bot's failure.
      expect(stepVerdict(slow, { ...calm, sendLatenessP99Ms: 25 }, 50)).toBe('invalid');
      expect(lagReason({ ...calm, sendLatenessP99Ms: 25 }, { p99Ms: 30 })).toBeNull();
    });

    it('pairs each send with the next answer in its conversation, skipping answers from before it', () => {
      const { latencies, unanswered } = pairAnswers(
        [
          { conversation: 'a', at: 100 },
          { conversation: 'b', at: 105 },
          { conversation: 'a', at: 200 },
          { conversation: 'c', at: 300 },
        ],
        [
          { conversation: 'a', at: 90 }, // a late answer from an earlier step
          { conversation: 'b', at: 115 },
          { conversation: 'a', at: 230 },
          { conversation: 'a', at: 130 },
        ],
        5,
      );
      expect(latencies).toEqual([25, 5, 25]);
      expect(unanswered).toBe(1);
    });
  });

  describe('the budget scenario’s matching', () => {
    it('finds every marker in a comment, a folded comment carrying several, without prefix collisions', () => {
      expect(turnMarker(7)).toBe('bench-turn-7');
      expect(
        markersIn('Megan (end user) — round 3:\nstill blank bench-turn-7\n\nMegan: again bench-turn-71'),
      ).toEqual(['bench-turn-7', 'bench-turn-71']);
      expect(markersIn('TicketZero (AI assistant): close the app [TicketZero ref tz-12-3]')).toEqual([]);
    });

    it('counts lost and doubled turns by marker, not by comment count, and measures lag to the first copy', () => {
      const sent = [1, 2, 3, 4].map((n) => ({ marker: turnMarker(n), at: n * 1000 }));
      const match = matchDeliveries(sent, [
        { text: 'user: bench-turn-1 / answer', at: 1500 },
        { text: 'user: bench-turn-2 then user: bench-turn-3 (folded)', at: 9000 },
        { text: 'user: bench-turn-2 (posted again)', at: 4000 },
      ]);
      expect(match.delivered).toBe(3);
      expect(match.lost).toEqual(['bench-turn-4']);
      expect(match.doubled).toEqual(['bench-turn-2']);
      expect(match.lagsMs).toEqual([500, 2000, 6000]);
    });

    it('takes the most requests in any rolling minute', () => {
      expect(maxInWindow([], 60_000)).toBe(0);
      expect(maxInWindow([0, 59_999, 60_000, 61_000, 119_000], 60_000)).toBe(4);
      expect(maxInWindow([5, 1, 3], 10)).toBe(3);
      expect(maxInWindow([0, 10, 20], 10)).toBe(1);
    });
  });
});
