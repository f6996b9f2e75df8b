/**
 * Where a ticket stands, in the end user's words — the one place for them. A pressed card keeps this line once its
 * buttons no longer apply, and a button on an old card (the conversation ended, or went on without it) answers with
 * it: "Ticket #1011 is already resolved (you confirmed it at 14:02)." rather than nothing.
 */
import { isLive, type ConversationRecord, type Outcome } from '../ports/conversation-store.js';

export interface StandingOptions {
  now: Date;
  /** The user's IANA time zone (Teams reports it with each activity); times are given in UTC without one. */
  timeZone?: string;
  /** Said about an old card: an ending happened before this press ("already resolved"). */
  already?: boolean;
}

/** The conversation has ended, or its ending is recorded and about to be carried out. */
export function hasEnded(record: Pick<ConversationRecord, 'state' | 'pendingStep'>): boolean {
  return !isLive(record.state) || Boolean(record.pendingStep);
}

export function ticketStanding(record: ConversationRecord, options: StandingOptions): string {
  const ticket = `ticket #${record.ticket.number}`;
  const Ticket = `Ticket #${record.ticket.number}`;
  const already = options.already ? 'already ' : '';
  const outcome = outcomeOf(record);
  if (outcome) {
    const at = timeOf(outcome.at, options);
    switch (outcome.kind) {
      case 'resolved':
        return outcome.reason === 'user_confirmed'
          ? `${Ticket} is ${already}resolved (you confirmed it ${at}).`
          : `${Ticket} is ${already}resolved (${at}).`;
      case 'escalated':
      case 'timed_out':
        return `${Ticket} is ${already}with a technician (${handOverReason(outcome)} ${at}). They will contact you here or by phone.`;
      case 'ended_in_atera': {
        const status = /^ticket_(\w+)_in_atera$/.exec(outcome.reason)?.[1];
        if (status) return `${Ticket} was ${status} by your IT team ${at}, so we are done here.`;
        const technician = record.ticket.technician.fullName ?? 'a technician from your IT team';
        return `${Ticket} is ${already}with ${technician} (reassigned ${at}); they will continue with you.`;
      }
      case 'declined':
        return `Your IT team is handling ${ticket} directly; I am not working on it.`;
    }
  }
  switch (record.state) {
    case 'queued':
      return `I will start on ${ticket} as soon as we are done with your other ticket.`;
    case 'paused':
      return `${Ticket} is paused while your IT team looks at it; I will tell you here when we continue.`;
    case 'taken_over':
      return `${record.takenOverBy?.name ?? 'A technician'} is handling ${ticket} now; just write here.`;
    case 'awaiting_confirmation':
      return `${Ticket} is waiting for your answer: is the problem fixed?`;
    default:
      return `We are still working on ${ticket} together: tell me here what you see.`;
  }
}

/** The outcome the record has, or the one its recorded pending step is about to give it. */
function outcomeOf(record: ConversationRecord): Pick<Outcome, 'kind' | 'reason' | 'at' | 'by'> | null {
  if (record.outcome) return record.outcome;
  const step = record.pendingStep;
  if (!step) return null;
  const at = record.turns.at(-1)?.at ?? record.updatedAt;
  switch (step.kind) {
    case 'resolve':
      return { kind: 'resolved', reason: step.reason, at };
    case 'escalate':
      return { kind: 'escalated', reason: step.reason, at };
    case 'time_out':
      return { kind: 'timed_out', reason: 'time_limit', at };
  }
}

function handOverReason(outcome: Pick<Outcome, 'kind' | 'reason' | 'by'>): string {
  if (outcome.kind === 'timed_out') return 'our time in this chat ran out';
  switch (outcome.reason) {
    case 'user_asked':
      return 'you asked for one';
    case 'technician':
      return `${outcome.by ?? 'a technician'} took it over`;
    default:
      return 'handed over';
  }
}

/** "at 14:02" today, "on 3 Dec at 14:02" another day, in the user's time zone (or UTC, said so). */
function timeOf(iso: string, options: StandingOptions): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return 'earlier';
  const timeZone = validTimeZone(options.timeZone);
  const zone = timeZone ?? 'UTC';
  const day = (d: Date) =>
    new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short' }).format(d);
  const date = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(d);
  const time = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
  const suffix = timeZone ? '' : ' UTC';
  return date(at) === date(options.now) ? `at ${time}${suffix}` : `on ${day(at)} at ${time}${suffix}`;
}

function validTimeZone(timeZone: string | undefined): string | undefined {
  if (!timeZone) return undefined;
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
    return timeZone;
  } catch {
    // Not a zone this runtime knows (the activity's value is not trusted): times are given in UTC.
    return undefined;
  }
}
