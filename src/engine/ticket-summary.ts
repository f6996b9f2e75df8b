import type { CardSpec, ConversationPhase, TicketSummary } from '../ports/chat.js';
import type { ConversationRecord, ConversationState } from '../ports/conversation-store.js';
import type { LimitSettings } from './conversation-rules.js';

const PHASES: Record<ConversationState, ConversationPhase> = {
  queued: 'waiting',
  active: 'talking',
  awaiting_confirmation: 'awaiting_confirmation',
  paused: 'paused',
  taken_over: 'taken_over',
  resolved: 'resolved',
  escalated: 'escalated',
  timed_out: 'timed_out',
  ended_in_atera: 'ended',
  declined: 'ended',
};

export function phaseOf(state: ConversationState): ConversationPhase {
  return PHASES[state];
}

export function ticketSummary(record: ConversationRecord, maxRounds: number): TicketSummary {
  const t = record.ticket;
  const endUserName =
    record.user?.displayName ??
    (`${t.endUser.firstName} ${t.endUser.lastName}`.trim() || t.endUser.email || 'unknown');
  return {
    ticketId: t.id,
    number: t.number,
    title: t.title,
    priority: String(t.priority),
    customerName: t.customer.name,
    endUserName,
    endUserEmail: t.endUser.email,
    technicianName: t.technician.fullName ?? t.technician.email,
    phase: phaseOf(record.state),
    round: record.rounds,
    maxRounds,
    deadlineAt: record.deadlineAt,
    userContext: record.user
      ? {
          jobTitle: record.user.jobTitle,
          department: record.user.department,
          devices: [
            ...(record.user.managedDevices ?? []).map(
              (d) => `${d.name} (${d.operatingSystem}, ${d.complianceState})`,
            ),
            ...record.devices.map((d) => `${d.name} (${d.os}, ${d.online ? 'online' : 'offline'})`),
          ],
        }
      : undefined,
  };
}

/** The ticket card, the user's first message; `settled` once its buttons no longer apply. */
export function ticketIntroCard(
  record: ConversationRecord,
  settings: Pick<LimitSettings, 'maxRounds' | 'maxMinutes'>,
  settled?: string,
): Extract<CardSpec, { kind: 'ticket_intro' }> {
  return {
    kind: 'ticket_intro',
    ticket: ticketSummary(record, settings.maxRounds),
    maxRounds: settings.maxRounds,
    maxMinutes: settings.maxMinutes,
    ...(settled ? { settled } : {}),
  };
}
