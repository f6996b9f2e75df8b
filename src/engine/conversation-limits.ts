/**
 * The conversation limits: at most `maxRounds` rounds (a round is a user reply and the answer to it) and
 * `maxMinutes` from the first message to the user. Both are settings (10 and 30 by default).
 */
import type { ConversationRecord } from '../ports/conversation-store.js';

export interface LimitSettings {
  maxRounds: number;
  maxMinutes: number;
  /** Say the limit is near when this many rounds are left. */
  warnRoundsLeft: number;
}

export function deadlineFrom(startedAt: Date, settings: LimitSettings): string {
  return new Date(startedAt.getTime() + settings.maxMinutes * 60_000).toISOString();
}

export function roundsLeft(record: ConversationRecord, settings: LimitSettings): number {
  return Math.max(0, settings.maxRounds - record.rounds);
}

export function minutesLeft(record: ConversationRecord, now: Date): number {
  if (!record.deadlineAt) return Infinity;
  return Math.max(0, (Date.parse(record.deadlineAt) - now.getTime()) / 60_000);
}

export function isPastDeadline(record: Pick<ConversationRecord, 'deadlineAt'>, now: Date): boolean {
  return record.deadlineAt !== null && now.getTime() >= Date.parse(record.deadlineAt);
}

export function roundLimitReached(record: ConversationRecord, settings: LimitSettings): boolean {
  return record.rounds >= settings.maxRounds;
}

/** A short notice appended to the answer when either limit is near, or null. */
export function limitNotice(record: ConversationRecord, now: Date, settings: LimitSettings): string | null {
  const rounds = roundsLeft(record, settings);
  const minutes = minutesLeft(record, now);
  const nearMinutes = Math.max(2, Math.round(settings.maxMinutes / 6));
  if (rounds === 0) return null; // the hand-over message says it
  if (rounds <= settings.warnRoundsLeft) {
    return rounds === 1
      ? 'This is our last round together: if this does not fix it, I will hand your ticket to a technician.'
      : `We have ${rounds} more rounds before I hand your ticket to a technician.`;
  }
  if (minutes <= nearMinutes) {
    return `We have about ${Math.max(1, Math.floor(minutes))} minute(s) left before I hand your ticket to a technician.`;
  }
  return null;
}
