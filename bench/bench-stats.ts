/**
 * The arithmetic of the benchmark, kept apart from the HTTP so it can be unit-tested: percentiles, stepping a load
 * up until a limit fails, and the report (human table and the one-line JSON object).
 */

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface LatencySummary {
  count: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarise(samples: readonly number[], errors: number): LatencySummary {
  return {
    count: samples.length,
    errors,
    p50: round(percentile(samples, 50)),
    p99: round(percentile(samples, 99)),
    max: round(samples.length ? Math.max(...samples) : Number.NaN),
  };
}

export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A step passes when it completed turns, none failed, and its p99 stayed under the limit. */
export function stepPasses(summary: LatencySummary, p99LimitMs: number): boolean {
  return summary.count > 0 && summary.errors === 0 && summary.p99 < p99LimitMs;
}

export interface StepResult<T> {
  level: number;
  passed: boolean;
  detail: T;
}

/**
 * Runs `run(level)` for each level in ascending order until one fails; returns the highest level that passed
 * (0 when the first failed) and every step run.
 */
export async function stepUp<T>(
  levels: readonly number[],
  run: (level: number) => Promise<{ passed: boolean; detail: T }>,
): Promise<{ best: number; steps: StepResult<T>[] }> {
  const steps: StepResult<T>[] = [];
  let best = 0;
  for (const level of [...levels].sort((a, b) => a - b)) {
    const outcome = await run(level);
    steps.push({ level, passed: outcome.passed, detail: outcome.detail });
    if (!outcome.passed) break;
    best = level;
  }
  return { best, steps };
}

/** Levels from `start`, multiplying by `factor`, up to and including `max`. */
export function geometricLevels(start: number, factor: number, max: number): number[] {
  const levels: number[] = [];
  for (let level = start; level <= max; level = Math.round(level * factor)) levels.push(level);
  return levels;
}

export function ratio(numerator: number, denominator: number): number {
  if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator <= 0) return Number.NaN;
  return round(numerator / denominator);
}

/** The keys issue 10 asks for; every run prints exactly these (NaN/absent values as null). */
export interface BenchReport {
  store: 'lowdb' | 'postgres';
  machine: { cores: number; cpu: string; node: string; platform: string };
  quick: boolean;
  auth: boolean;
  model_delay_ms: number;
  turn_overhead_p50_ms: number | null;
  turn_overhead_p99_ms: number | null;
  echo_p50_ms: number | null;
  echo_p99_ms: number | null;
  overhead_ratio_p50: number | null;
  turn_cost_ratio_10k_vs_100: number | null;
  turn_time_ratio_10k_vs_100: number | null;
  turn_bytes_ratio_10k_vs_100: number | null;
  max_concurrent_conversations: number;
  max_turns_per_s: number;
  echo_max_turns_per_s: number;
  turns_per_s_ratio: number | null;
  rss_mb_per_1000_conversations: number | null;
  atera_calls_per_idle_poll: number | null;
  atera_calls_per_turn: number | null;
  ticket_to_first_message_ms: number | null;
  ticket_to_first_message_webhook_ms: number | null;
  /** A technician's reply written in Atera → the message in the user's chat (poll every 1 s / webhook nudge). */
  atera_comment_to_chat_ms: number | null;
  atera_comment_to_chat_webhook_ms: number | null;
  /** Atera calls a minute with 100 live conversations and nobody writing (counted over a few seconds). */
  atera_calls_per_minute_idle_live: number | null;
  details: Record<string, unknown>;
}

export const REQUIRED_KEYS = [
  'turn_overhead_p50_ms',
  'turn_overhead_p99_ms',
  'echo_p50_ms',
  'echo_p99_ms',
  'overhead_ratio_p50',
  'turn_cost_ratio_10k_vs_100',
  'max_concurrent_conversations',
  'max_turns_per_s',
  'echo_max_turns_per_s',
  'turns_per_s_ratio',
  'rss_mb_per_1000_conversations',
  'atera_calls_per_idle_poll',
  'atera_calls_per_turn',
  'ticket_to_first_message_ms',
  'store',
  'machine',
] as const satisfies ReadonlyArray<keyof BenchReport>;

/** A finite number, or null (JSON has no NaN). */
export function finiteOrNull(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

/** The JSON line: the report with NaN turned into null; always one line. */
export function reportJson(report: BenchReport): string {
  return JSON.stringify(report, (_key, value: unknown) =>
    typeof value === 'number' && !Number.isFinite(value) ? null : value,
  );
}

interface Row {
  measure: string;
  value: string;
  target: string;
}

/** The human-readable table (Markdown, so docs/performance.md can hold it as printed). */
export function reportTable(report: BenchReport): string {
  const v = (n: number | null, unit = '') => (n === null ? 'n/a' : `${n}${unit}`);
  const rows: Row[] = [
    { measure: 'turn overhead p50 (TicketZero)', value: v(report.turn_overhead_p50_ms, ' ms'), target: '' },
    {
      measure: 'turn overhead p99 (TicketZero)',
      value: v(report.turn_overhead_p99_ms, ' ms'),
      target: '≤ 20 ms',
    },
    { measure: 'echo p50 (floor)', value: v(report.echo_p50_ms, ' ms'), target: '' },
    { measure: 'echo p99 (floor)', value: v(report.echo_p99_ms, ' ms'), target: '' },
    {
      measure: 'overhead ratio p50 (TicketZero / echo)',
      value: v(report.overhead_ratio_p50),
      target: '≤ 1.5',
    },
    {
      measure: 'turn cost ratio, 10,000 vs 100 stored tickets',
      value: v(report.turn_cost_ratio_10k_vs_100),
      target: '≤ 1.3',
    },
    { measure: '… of which time', value: v(report.turn_time_ratio_10k_vs_100), target: '' },
    { measure: '… of which bytes written', value: v(report.turn_bytes_ratio_10k_vs_100), target: '' },
    {
      measure: 'max concurrent conversations (p99 < 50 ms)',
      value: String(report.max_concurrent_conversations),
      target: '≥ 1000',
    },
    { measure: 'max turns/s (TicketZero, p99 < 50 ms)', value: String(report.max_turns_per_s), target: '' },
    { measure: 'max turns/s (echo, p99 < 50 ms)', value: String(report.echo_max_turns_per_s), target: '' },
    { measure: 'turns/s ratio (TicketZero / echo)', value: v(report.turns_per_s_ratio), target: '≥ 0.5' },
    {
      measure: 'RSS per 1,000 live conversations',
      value: v(report.rss_mb_per_1000_conversations, ' MB'),
      target: '',
    },
    { measure: 'Atera calls per idle poll', value: v(report.atera_calls_per_idle_poll), target: '= 1' },
    { measure: 'Atera calls per turn', value: v(report.atera_calls_per_turn), target: '≤ 2' },
    {
      measure: 'ticket → first message (poll every 1 s)',
      value: v(report.ticket_to_first_message_ms, ' ms'),
      target: '',
    },
    {
      measure: 'Atera comment → chat (poll every 1 s)',
      value: v(report.atera_comment_to_chat_ms, ' ms'),
      target: '≤ 1 poll',
    },
    {
      measure: 'Atera comment → chat (webhook)',
      value: v(report.atera_comment_to_chat_webhook_ms, ' ms'),
      target: '',
    },
    {
      measure: 'Atera calls/min, 100 live conversations, idle',
      value: v(report.atera_calls_per_minute_idle_live),
      target: '≤ 600',
    },
    {
      measure: 'ticket → first message (webhook)',
      value: v(report.ticket_to_first_message_webhook_ms, ' ms'),
      target: '',
    },
  ];
  const header = `store: ${report.store} · ${report.machine.cores} cores (${report.machine.cpu}) · Node ${report.machine.node} · model delay ${report.model_delay_ms} ms (subtracted) · inbound auth ${report.auth ? 'on' : 'off'}${report.quick ? ' · quick run' : ''}`;
  const width = (key: keyof Row, title: string) => Math.max(title.length, ...rows.map((r) => r[key].length));
  const wm = width('measure', 'measure');
  const wv = width('value', 'value');
  const wt = width('target', 'target');
  const line = (r: Row) => `| ${r.measure.padEnd(wm)} | ${r.value.padStart(wv)} | ${r.target.padEnd(wt)} |`;
  return [
    header,
    '',
    line({ measure: 'measure', value: 'value', target: 'target' }),
    `| ${'-'.repeat(wm)} | ${'-'.repeat(wv - 1)}: | ${'-'.repeat(wt)} |`,
    ...rows.map(line),
  ].join('\n');
}
