/**
 * What the dashboard shows, computed from the conversation store (and the provider chain's statistics): the live
 * conversations, and outcomes over a window of days. Plain data, so the page, its JSON twin and the tests read the
 * same numbers.
 */
import type { ProviderStats } from '../adapters/ai/provider-stats.js';
import type { ConversationRecord, ConversationStore } from '../ports/conversation-store.js';

export interface LiveRow {
  ticketId: number;
  ticketNumber: string;
  title: string;
  user: string | null;
  state: string;
  rounds: number;
  maxRounds: number;
  /** Seconds until the time limit; null before the conversation started. */
  secondsLeft: number | null;
  provider: string | null;
  startedAt: string | null;
}

export interface Count {
  label: string;
  count: number;
}

export interface DayOutcomes {
  /** YYYY-MM-DD (UTC). */
  day: string;
  resolved: number;
  escalated: number;
  timedOut: number;
  /** Ended in Atera (closed or reassigned there). */
  other: number;
  /** resolved / all four; null on a day without ended conversations. */
  resolutionRate: number | null;
}

export interface ProviderFailureRate {
  provider: string;
  calls: number;
  failures: number;
  /** failures / calls; null before the first call. */
  rate: number | null;
}

export interface OutcomeReport {
  from: string;
  to: string;
  days: number;
  /** Conversations that ended in the window (declined tickets are counted apart: no conversation took place). */
  ended: number;
  resolved: number;
  escalated: number;
  timedOut: number;
  endedInAtera: number;
  declined: number;
  /** resolved / ended; null when nothing ended. */
  resolutionRate: number | null;
  escalationReasons: Count[];
  medianRoundsToResolution: number | null;
  medianMinutesToResolution: number | null;
  categories: Count[];
  /** Assistant answers by the provider that gave them ("fallback" when every provider failed). */
  providerShare: Count[];
  providerFailureRates: ProviderFailureRate[];
  minutesSavedPerTicket: number;
  minutesSaved: number;
  daily: DayOutcomes[];
}

export interface DashboardData {
  generatedAt: string;
  live: LiveRow[];
  report: OutcomeReport;
}

export interface DashboardDataOptions {
  now: Date;
  maxRounds: number;
  minutesSavedPerTicket: number;
  providerStats: ProviderStats[];
  /** Window of the outcome report; default 14 days. */
  days?: number;
  /** Most ended conversations read; default 5000. */
  limit?: number;
}

export async function loadDashboardData(
  store: ConversationStore,
  options: DashboardDataOptions,
): Promise<DashboardData> {
  const days = options.days ?? 14;
  const from = startOfDayUtc(new Date(options.now.getTime() - (days - 1) * 86_400_000));
  const [live, ended] = await Promise.all([
    store.listLive(),
    store.listEnded({ limit: options.limit ?? 5000, since: from.toISOString() }),
  ]);
  return {
    generatedAt: options.now.toISOString(),
    live: liveRows(live, options.now, options.maxRounds),
    report: outcomeReport(ended, { ...options, from, days }),
  };
}

export function liveRows(records: ConversationRecord[], now: Date, maxRounds: number): LiveRow[] {
  return [...records]
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.ticketId - b.ticketId)
    .map((r) => ({
      ticketId: r.ticketId,
      ticketNumber: r.ticket.number,
      title: r.ticket.title,
      user: r.user?.displayName ?? r.ticket.endUser.email ?? null,
      state: r.state,
      rounds: r.rounds,
      maxRounds,
      secondsLeft: r.deadlineAt ? Math.round((Date.parse(r.deadlineAt) - now.getTime()) / 1000) : null,
      provider: r.lastProvider,
      startedAt: r.startedAt,
    }));
}

export function outcomeReport(
  records: ConversationRecord[],
  options: DashboardDataOptions & { from: Date; days: number },
): OutcomeReport {
  const counts = { resolved: 0, escalated: 0, timed_out: 0, ended_in_atera: 0, declined: 0 };
  const reasons = new Map<string, number>();
  const categories = new Map<string, number>();
  const share = new Map<string, number>();
  const resolvedRounds: number[] = [];
  const resolvedMinutes: number[] = [];
  const daily = new Map<string, DayOutcomes>();
  for (let i = 0; i < options.days; i++) {
    const day = new Date(options.from.getTime() + i * 86_400_000).toISOString().slice(0, 10);
    daily.set(day, { day, resolved: 0, escalated: 0, timedOut: 0, other: 0, resolutionRate: null });
  }

  for (const r of records) {
    const outcome = r.outcome;
    if (!outcome) continue;
    counts[outcome.kind] += 1;
    if (outcome.kind === 'declined') continue;
    const day = daily.get(outcome.at.slice(0, 10));
    if (day) {
      if (outcome.kind === 'resolved') day.resolved += 1;
      else if (outcome.kind === 'escalated') day.escalated += 1;
      else if (outcome.kind === 'timed_out') day.timedOut += 1;
      else day.other += 1;
    }
    if (outcome.kind === 'escalated') increment(reasons, outcome.reason);
    if (r.category) increment(categories, r.category);
    for (const turn of r.turns) {
      if (turn.role === 'assistant') increment(share, turn.provider ?? 'fallback');
    }
    if (outcome.kind === 'resolved') {
      resolvedRounds.push(r.rounds);
      const start = Date.parse(r.startedAt ?? r.createdAt);
      const end = Date.parse(outcome.at);
      if (Number.isFinite(start) && Number.isFinite(end))
        resolvedMinutes.push(Math.max(0, (end - start) / 60_000));
    }
  }
  for (const day of daily.values()) {
    const total = day.resolved + day.escalated + day.timedOut + day.other;
    day.resolutionRate = total === 0 ? null : day.resolved / total;
  }

  const ended = counts.resolved + counts.escalated + counts.timed_out + counts.ended_in_atera;
  return {
    from: options.from.toISOString(),
    to: options.now.toISOString(),
    days: options.days,
    ended,
    resolved: counts.resolved,
    escalated: counts.escalated,
    timedOut: counts.timed_out,
    endedInAtera: counts.ended_in_atera,
    declined: counts.declined,
    resolutionRate: ended === 0 ? null : counts.resolved / ended,
    escalationReasons: sorted(reasons),
    medianRoundsToResolution: median(resolvedRounds),
    medianMinutesToResolution: median(resolvedMinutes),
    categories: sorted(categories).slice(0, 10),
    providerShare: sorted(share),
    providerFailureRates: options.providerStats.map((s) => {
      // Skips while a circuit is open are not calls, so they are not failures either.
      const failures = Object.entries(s.failures)
        .filter(([status]) => status !== 'circuit_open')
        .reduce((sum, [, n]) => sum + n, 0);
      return {
        provider: s.provider,
        calls: s.calls,
        failures,
        rate: s.calls === 0 ? null : failures / s.calls,
      };
    }),
    minutesSavedPerTicket: options.minutesSavedPerTicket,
    minutesSaved: counts.resolved * options.minutesSavedPerTicket,
    daily: [...daily.values()],
  };
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function sorted(map: Map<string, number>): Count[] {
  return [...map.entries()]
    .map(([label, count]) => ({ label, count }))
    .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function startOfDayUtc(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}
