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

/** A step either measured the bot (passed or failed), or could not be trusted (the load generator or the recorder lagged). */
export type StepVerdict = 'passed' | 'failed' | 'invalid';

export interface StepResult<T> {
  level: number;
  /** 1 for the first try of a level; an invalid step is tried again. */
  attempt: number;
  verdict: StepVerdict;
  detail: T;
}

export interface StepUpResult<T> {
  /** The highest level that passed (0 when none did). */
  best: number;
  steps: StepResult<T>[];
  /**
   * Why stepping stopped: the bot failed a level, a level stayed invalid after every attempt (the best is then a
   * lower bound set by the bench, not the bot), or every level passed.
   */
  stoppedBy: 'failed' | 'invalid' | 'end';
}

/**
 * Runs `run(level, attempt)` for each level in ascending order until one fails; a level whose run was invalid is run
 * again, up to `attempts` tries, and stepping stops at a level that stays invalid (never counted as the bot's
 * failure). Returns the highest level that passed and every run.
 */
export async function stepUp<T>(
  levels: readonly number[],
  run: (level: number, attempt: number) => Promise<{ verdict: StepVerdict; detail: T }>,
  attempts = 3,
): Promise<StepUpResult<T>> {
  const steps: StepResult<T>[] = [];
  let best = 0;
  for (const level of [...levels].sort((a, b) => a - b)) {
    let verdict: StepVerdict = 'invalid';
    for (let attempt = 1; attempt <= attempts && verdict === 'invalid'; attempt += 1) {
      const outcome = await run(level, attempt);
      verdict = outcome.verdict;
      steps.push({ level, attempt, verdict, detail: outcome.detail });
    }
    if (verdict !== 'passed') return { best, steps, stoppedBy: verdict };
    best = level;
  }
  return { best, steps, stoppedBy: 'end' };
}

// --------------------------------------------------------------------------------------------------------------
// Whether a step measured the bot: the load generator's and the recorder's own lag

/** What the load generator (its own process) and the recorder (the process the answers reach) say of themselves. */
export interface StepLag {
  /** Sends the step planned, and how many went out. */
  planned: number;
  sent: number;
  /** How late the generator's sends were against their open-loop schedule (ms). */
  sendLatenessP99Ms: number;
  sendLatenessMaxMs: number;
  /** The generator's event-loop delay while the step ran (perf_hooks.monitorEventLoopDelay, ms). */
  generatorLoopP99Ms: number;
  /** The recorder's event-loop delay while the step ran: an answer is timestamped only when its loop gets to it. */
  recorderLoopP99Ms: number;
}

export interface LagLimits {
  /** p99 of send lateness and of either event-loop delay above this makes a step invalid. */
  p99Ms: number;
}

/** 10 ms: a fifth of the 50 ms p99 a step must hold; a bench that lags more would show up in the bot's p99. */
export const DEFAULT_LAG_LIMITS: LagLimits = { p99Ms: 10 };

/**
 * Whether a step can be counted: null when the generator kept its schedule and neither process lagged, otherwise
 * the reason it cannot (the step is then repeated or reported invalid, never counted as the bot's failure).
 */
export function lagReason(lag: StepLag, limits: LagLimits = DEFAULT_LAG_LIMITS): string | null {
  const over = (value: number) => !Number.isFinite(value) || value > limits.p99Ms;
  if (lag.sent < lag.planned) return `generator sent ${lag.sent} of ${lag.planned}`;
  if (over(lag.sendLatenessP99Ms)) return `generator sends late (p99 ${round(lag.sendLatenessP99Ms)} ms)`;
  if (over(lag.generatorLoopP99Ms))
    return `generator event loop lagged (p99 ${round(lag.generatorLoopP99Ms)} ms)`;
  if (over(lag.recorderLoopP99Ms))
    return `recorder event loop lagged (p99 ${round(lag.recorderLoopP99Ms)} ms)`;
  return null;
}

/** The verdict of a step: invalid when the bench lagged (whatever the bot did), else the bot's pass or fail. */
export function stepVerdict(
  summary: LatencySummary,
  lag: StepLag,
  p99LimitMs: number,
  limits: LagLimits = DEFAULT_LAG_LIMITS,
): StepVerdict {
  if (lagReason(lag, limits) !== null) return 'invalid';
  return stepPasses(summary, p99LimitMs) ? 'passed' : 'failed';
}

/**
 * Pairs each send with the first answer to reach its conversation after it (times on one clock, ms): returns the
 * latencies (answer − send − `subtractMs`) and how many sends got no answer. An answer is used once; answers that
 * came before any send of the step (late answers of an earlier one) are skipped.
 */
export function pairAnswers(
  sends: ReadonlyArray<{ conversation: string; at: number }>,
  answers: ReadonlyArray<{ conversation: string; at: number }>,
  subtractMs = 0,
): { latencies: number[]; unanswered: number } {
  const byConversation = new Map<string, number[]>();
  for (const a of answers) {
    const list = byConversation.get(a.conversation);
    if (list) list.push(a.at);
    else byConversation.set(a.conversation, [a.at]);
  }
  for (const list of byConversation.values()) list.sort((x, y) => x - y);
  const next = new Map<string, number>();
  const latencies: number[] = [];
  let unanswered = 0;
  for (const s of [...sends].sort((x, y) => x.at - y.at)) {
    const list = byConversation.get(s.conversation) ?? [];
    let i = next.get(s.conversation) ?? 0;
    while (i < list.length && list[i]! < s.at) i += 1;
    if (i < list.length) {
      latencies.push(list[i]! - s.at - subtractMs);
      next.set(s.conversation, i + 1);
    } else {
      unanswered += 1;
      next.set(s.conversation, i);
    }
  }
  return { latencies, unanswered };
}

// --------------------------------------------------------------------------------------------------------------
// The budget scenario: every turn in Atera, once, within the per-account budget

/** The token a budget-scenario turn carries in its text, found again in the comment bodies Atera holds. */
export function turnMarker(n: number): string {
  return `bench-turn-${n}`;
}

/** Every turn marker in a comment body, in order (a folded comment carries several). */
export function markersIn(text: string): string[] {
  return [...text.matchAll(/bench-turn-(\d+)(?!\d)/g)].map((m) => `bench-turn-${m[1]}`);
}

export interface DeliveryMatch {
  delivered: number;
  /** Markers sent (and accepted by the bot) that no comment carries. */
  lost: string[];
  /** Markers carried more than once (over all comments). */
  doubled: string[];
  /** From each delivered turn's send to the first comment carrying it (ms). */
  lagsMs: number[];
}

/**
 * Matches the turns the generator sent to the comments in Atera by the marker in their text (not by counting
 * comments: the outbox may fold several turns into one).
 */
export function matchDeliveries(
  sent: ReadonlyArray<{ marker: string; at: number }>,
  comments: ReadonlyArray<{ text: string; at: number }>,
): DeliveryMatch {
  const seen = new Map<string, { count: number; first: number }>();
  for (const c of comments) {
    for (const marker of markersIn(c.text)) {
      const s = seen.get(marker);
      if (s) {
        s.count += 1;
        s.first = Math.min(s.first, c.at);
      } else seen.set(marker, { count: 1, first: c.at });
    }
  }
  const lost: string[] = [];
  const doubled: string[] = [];
  const lagsMs: number[] = [];
  for (const turn of sent) {
    const s = seen.get(turn.marker);
    if (!s) {
      lost.push(turn.marker);
      continue;
    }
    if (s.count > 1) doubled.push(turn.marker);
    lagsMs.push(s.first - turn.at);
  }
  return { delivered: lagsMs.length, lost, doubled, lagsMs };
}

/** The most events in any window of `windowMs` (times in ms, any order): Atera's "requests in a rolling minute". */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end += 1) {
    while (sorted[end]! - sorted[start]! >= windowMs) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
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
  /**
   * The budget scenario (live conversations, each user replying about once a minute, the Atera sandbox refusing
   * beyond 700 requests a minute): the most Atera requests TicketZero made in any rolling minute, against the
   * budget it was configured with (ATERA_REQUESTS_PER_MINUTE).
   */
  atera_calls_per_minute: number | null;
  atera_budget_per_minute: number;
  /** From a user's reply to the Atera comment carrying it (s). */
  outbox_lag_p50_s: number | null;
  outbox_lag_p99_s: number | null;
  /** Turns accepted by the bot that no Atera comment carries, and turns carried more than once. */
  turns_lost: number | null;
  turns_doubled: number | null;
  /** Calls to the Teams connector's v3 API (answers, typing, …) per user turn. */
  connector_calls_per_turn: number | null;
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
  'atera_calls_per_minute',
  'atera_budget_per_minute',
  'outbox_lag_p50_s',
  'outbox_lag_p99_s',
  'turns_lost',
  'turns_doubled',
  'connector_calls_per_turn',
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
    {
      measure: 'Atera calls in any minute (budget scenario)',
      value: v(report.atera_calls_per_minute),
      target: `≤ ${report.atera_budget_per_minute}`,
    },
    { measure: 'outbox lag p50 (turn → Atera)', value: v(report.outbox_lag_p50_s, ' s'), target: '' },
    { measure: 'outbox lag p99 (turn → Atera)', value: v(report.outbox_lag_p99_s, ' s'), target: '≤ 60 s' },
    {
      measure: 'turns lost / doubled in Atera',
      value: `${v(report.turns_lost)} / ${v(report.turns_doubled)}`,
      target: '0 / 0',
    },
    { measure: 'Teams connector calls per turn', value: v(report.connector_calls_per_turn), target: '' },
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
