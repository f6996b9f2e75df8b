/** Small real parts the Atera tests share: a settable clock, a log that keeps what it was told, an engine stand-in. */
import type { Clock } from '../../../../src/ports/clock.js';
import type { ConversationRecord, ConversationStore } from '../../../../src/ports/conversation-store.js';
import type { Log } from '../../../../src/ports/log.js';
import type { Ticket } from '../../../../src/ports/ticket-desk.js';
import { makeConversationRecord } from '../../../contract/fixtures.js';

export interface SettableClock extends Clock {
  set(iso: string | Date): void;
  advance(ms: number): void;
}

export function settableClock(start: Date = new Date()): SettableClock {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    set: (at) => {
      now = new Date(at).getTime();
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

export function keepingLog(
  entries: LogEntry[] = [],
  bindings: Record<string, unknown> = {},
): Log & { entries: LogEntry[] } {
  const write = (level: LogEntry['level']) => (fields: object, message: string) => {
    entries.push({ level, message, fields: { ...bindings, ...(fields as Record<string, unknown>) } });
  };
  return {
    entries,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => keepingLog(entries, { ...bindings, ...more }),
  };
}

/**
 * What the engine's startTicket does first, and all the watcher relies on: atomically create the conversation
 * record (a second call for the same ticket changes nothing).
 */
export function intakeInto(store: ConversationStore, taken: number[]): (ticket: Ticket) => Promise<void> {
  return async (ticket) => {
    await store.update(ticket.id, (current) => {
      if (current) return { result: undefined };
      taken.push(ticket.id);
      return { conversation: conversationFor(ticket), result: undefined };
    });
  };
}

export function conversationFor(ticket: Ticket): ConversationRecord {
  const now = new Date().toISOString();
  return makeConversationRecord({
    ticketId: ticket.id,
    ticket,
    user: null,
    devices: [],
    state: 'active',
    chatConversationId: null,
    thread: null,
    createdAt: now,
    startedAt: null,
    deadlineAt: null,
    turns: [],
    updatedAt: now,
  });
}
