/**
 * Sandbox data for the dashboard: two weeks of an MSP's TicketZero conversations (resolved, escalated for various
 * reasons, timed out, ended in Atera, declined) and four live ones, written through the ConversationStore port.
 * Deterministic, so the page (and its screenshot) are the same on every run.
 */
import type { ConversationRecord, OutcomeKind, Turn } from '../../../../src/ports/conversation-store.js';
import type { ConversationStore } from '../../../../src/ports/conversation-store.js';
import { makeConversationRecord } from '../../../contract/fixtures.js';

export const DASHBOARD_NOW = new Date('2026-03-14T10:00:00.000Z');

const USERS = [
  'Megan Bowen',
  'Adele Vance',
  'Alex Wilber',
  'Diego Siciliani',
  'Isaiah Langer',
  'Johanna Lorenz',
  'Lynne Robbins',
  'Nestor Wilke',
];
const TITLES: Record<string, string> = {
  outlook: 'Outlook shows no new mail',
  vpn: 'VPN does not connect from home',
  printer: 'Printer on floor 3 prints blank pages',
  password_mfa: 'Locked out after MFA phone change',
  wifi: 'Laptop drops the office Wi-Fi',
  onedrive_teams_sync: 'OneDrive stuck on “processing changes”',
  slow_pc: 'PC very slow since the update',
};

interface EndedSpec {
  daysAgo: number;
  kind: OutcomeKind;
  reason: string;
  category: string | null;
  rounds: number;
  minutes: number;
  providers: (string | null)[];
}

/** [days ago, outcome, reason, category, rounds, minutes, providers of the assistant turns]. */
const ENDED: EndedSpec[] = (
  [
    [13, 'resolved', 'user_confirmed', 'outlook', 3, 9, ['local', 'local', 'local']],
    [13, 'escalated', 'model_needs_human', 'printer', 4, 14, ['local', 'local', 'azure', 'azure']],
    [12, 'resolved', 'user_confirmed', 'vpn', 2, 6, ['local', 'local']],
    [11, 'resolved', 'user_confirmed', 'outlook', 4, 12, ['azure', 'azure', 'azure', 'azure']],
    [11, 'declined', 'user_not_found', null, 0, 0, []],
    [10, 'escalated', 'user_asked', 'password_mfa', 1, 3, ['local']],
    [9, 'resolved', 'user_confirmed', 'wifi', 5, 17, ['local', 'local', 'local', 'local', 'local']],
    [9, 'resolved', 'user_confirmed', 'onedrive_teams_sync', 3, 8, ['local', 'azure', 'azure']],
    [8, 'timed_out', 'time_limit', 'slow_pc', 6, 30, ['local', 'local', 'local', 'local', 'local', 'local']],
    [7, 'resolved', 'user_confirmed', 'outlook', 2, 5, ['local', 'local']],
    [7, 'escalated', 'model_needs_human', 'password_mfa', 1, 2, ['azure']],
    [6, 'resolved', 'user_confirmed', 'vpn', 3, 11, ['local', 'local', 'local']],
    [5, 'ended_in_atera', 'ticket_closed_in_atera', 'printer', 2, 7, ['local', 'local']],
    [5, 'resolved', 'user_confirmed', 'printer', 4, 13, ['local', 'local', 'local', 'local']],
    [4, 'escalated', 'all_providers_failed', 'outlook', 2, 4, ['local', null]],
    [4, 'resolved', 'user_confirmed', 'outlook', 1, 3, ['openai']],
    [3, 'resolved', 'user_confirmed', 'wifi', 3, 10, ['local', 'local', 'local']],
    [3, 'declined', 'unmapped_customer', null, 0, 0, []],
    [2, 'escalated', 'round_limit', 'slow_pc', 10, 26, Array<string>(10).fill('local')],
    [2, 'resolved', 'user_confirmed', 'onedrive_teams_sync', 2, 6, ['azure', 'azure']],
    [1, 'resolved', 'user_confirmed', 'vpn', 3, 9, ['local', 'local', 'local']],
    [1, 'timed_out', 'time_limit', 'outlook', 5, 30, ['local', 'local', 'local', 'local', 'local']],
    [1, 'escalated', 'user_asked', 'printer', 2, 5, ['local', 'local']],
    [0, 'resolved', 'user_confirmed', 'outlook', 2, 7, ['local', 'local']],
  ] as const
).map(([daysAgo, kind, reason, category, rounds, minutes, providers]) => ({
  daysAgo,
  kind,
  reason,
  category,
  rounds,
  minutes,
  providers: [...providers],
}));

function turnsFor(start: number, providers: (string | null)[], userText: (i: number) => string): Turn[] {
  const turns: Turn[] = [];
  providers.forEach((provider, i) => {
    turns.push({
      seq: turns.length + 1,
      role: 'assistant',
      text: `Step ${i + 1}: please try this and tell me what you see.`,
      at: new Date(start + i * 120_000).toISOString(),
      ...(provider ? { provider } : {}),
    });
    turns.push({
      seq: turns.length + 1,
      role: 'user',
      text: userText(i),
      at: new Date(start + i * 120_000 + 60_000).toISOString(),
      inboundId: `act-${start}-${i}`,
    });
  });
  return turns;
}

export function dashboardEndedRecords(now: Date = DASHBOARD_NOW): ConversationRecord[] {
  return ENDED.map((spec, index) => {
    const ticketId = 5100 + index;
    const end = now.getTime() - spec.daysAgo * 86_400_000 - (index % 5) * 3_600_000 - 1_800_000;
    const start = end - spec.minutes * 60_000;
    const at = new Date(end).toISOString();
    const base = makeConversationRecord({ ticketId, createdAt: new Date(start - 60_000).toISOString() });
    const user = USERS[index % USERS.length]!;
    return {
      ...base,
      ticket: {
        ...base.ticket,
        title: TITLES[spec.category ?? 'outlook'] ?? 'Other',
        number: String(ticketId),
      },
      user: spec.kind === 'declined' ? null : { ...base.user!, displayName: user },
      state: spec.kind,
      startedAt: spec.kind === 'declined' ? null : new Date(start).toISOString(),
      deadlineAt: spec.kind === 'declined' ? null : new Date(start + 30 * 60_000).toISOString(),
      rounds: spec.rounds,
      turns: turnsFor(start, spec.providers, () => 'I tried that, here is what I see.'),
      awaitingAnswer: false,
      outcome: { kind: spec.kind, reason: spec.reason, at },
      category: spec.category,
      lastProvider: spec.providers.filter((p): p is string => p !== null).at(-1) ?? null,
      updatedAt: at,
    };
  });
}

/** Live conversations; the first has a title and a user reply with markup in them (the page must escape it). */
export function dashboardLiveRecords(now: Date = DASHBOARD_NOW): ConversationRecord[] {
  const minutesAgo = (m: number) => now.getTime() - m * 60_000;
  const live = (
    ticketId: number,
    state: ConversationRecord['state'],
    startedMinutesAgo: number | null,
    rounds: number,
    provider: string | null,
    title: string,
    user: string,
  ): ConversationRecord => {
    const base = makeConversationRecord({ ticketId });
    const start = startedMinutesAgo === null ? null : minutesAgo(startedMinutesAgo);
    return {
      ...base,
      ticket: { ...base.ticket, title, number: String(ticketId) },
      user: { ...base.user!, displayName: user },
      state,
      createdAt: new Date(minutesAgo((startedMinutesAgo ?? 1) + 1)).toISOString(),
      startedAt: start === null ? null : new Date(start).toISOString(),
      deadlineAt: start === null ? null : new Date(start + 30 * 60_000).toISOString(),
      rounds,
      turns:
        start === null
          ? []
          : turnsFor(start, Array<string | null>(Math.max(1, rounds)).fill(provider), (i) =>
              i === 0
                ? 'The dialog says <b>"Need password"</b> & then <script>alert(1)</script>'
                : 'Still the same.',
            ).slice(0, Math.max(1, rounds) * 2),
      awaitingAnswer: false,
      outcome: null,
      category: 'outlook',
      lastProvider: provider,
      updatedAt: now.toISOString(),
      ...(state === 'taken_over' ? { takenOverBy: { id: 'aad-dana', name: 'Dana Tech' } } : {}),
    };
  };
  return [
    live(
      5201,
      'active',
      12,
      3,
      'local',
      'Outlook <script>alert("x")</script> & “Need password”',
      'Megan Bowen',
    ),
    live(5202, 'awaiting_confirmation', 21, 5, 'azure', 'VPN drops every 10 minutes', 'Alex Wilber'),
    live(5203, 'taken_over', 33, 7, 'local', 'Teams camera not detected', 'Lynne Robbins'),
    live(5204, 'queued', null, 0, null, 'Second screen stays black', 'Alex Wilber'),
  ];
}

export async function seedDashboardStore(store: ConversationStore, now: Date = DASHBOARD_NOW): Promise<void> {
  for (const record of [...dashboardEndedRecords(now), ...dashboardLiveRecords(now)]) {
    await store.update(record.ticketId, () => ({ conversation: record, result: undefined }));
  }
}
