/**
 * What an end user's message in the 1:1 chat leads to — decided here and nowhere else. Pure (no I/O), so the
 * message and the decision are recorded in one write, and recovery finds the decision when the process dies
 * right after it.
 *
 * The user decides, never the model's format: plain words that say it works lead to "is it fixed?" at any point,
 * "yes" to that question resolves, asking for a person hands over. Everything else is a round for the model.
 */
import type { ConversationRecord, ConversationState, PendingStep } from '../ports/conversation-store.js';
import { isPastDeadline, type LimitSettings } from './conversation-limits.js';
import { asksForHuman, readConfirmation, saysItWorks } from './plain-words.js';

export interface UserMessageDecision {
  /** The message counts as a round (and the model answers it). */
  countsAsRound: boolean;
  /** The conversation's state once the message is recorded. */
  state: ConversationState;
  /**
   * What follows the recording: nothing more, the model's answer, the confirmation question, or an ending
   * (recorded as the pending step and carried out at once).
   */
  next: 'record_only' | 'answer' | 'ask_confirmation' | PendingStep;
  /** Why, for the log. */
  why: string;
}

export function decideUserMessage(
  record: Pick<ConversationRecord, 'state' | 'rounds' | 'deadlineAt'>,
  text: string,
  now: Date,
  settings: LimitSettings,
  options: { overRateLimit: boolean },
): UserMessageDecision {
  const keep = (why: string): UserMessageDecision => ({
    countsAsRound: false,
    state: record.state,
    next: 'record_only',
    why,
  });
  const talking = record.state === 'active' || record.state === 'awaiting_confirmation';
  if (!talking) return keep(`the conversation is ${record.state}`);
  if (isPastDeadline(record, now)) {
    return {
      countsAsRound: false,
      state: record.state,
      next: { kind: 'time_out' },
      why: 'past the deadline',
    };
  }
  if (options.overRateLimit) return keep('over the rate limit');
  if (asksForHuman(text)) {
    return {
      countsAsRound: false,
      state: record.state,
      next: { kind: 'escalate', reason: 'user_asked' },
      why: 'the user asked for a person',
    };
  }
  if (record.state === 'awaiting_confirmation' && readConfirmation(text) === 'yes') {
    return {
      countsAsRound: false,
      state: record.state,
      next: { kind: 'resolve', reason: 'user_confirmed' },
      why: 'the user confirmed the fix',
    };
  }
  if (record.state === 'active' && saysItWorks(text)) {
    return {
      countsAsRound: false,
      state: 'awaiting_confirmation',
      next: 'ask_confirmation',
      why: 'the user says it works',
    };
  }
  // A reply to the model (or "no, still broken" to the question): a round, answered by the model.
  if (record.rounds + 1 > settings.maxRounds) {
    return {
      countsAsRound: true,
      state: 'active',
      next: { kind: 'escalate', reason: 'still_broken_at_limit' },
      why: 'no rounds left',
    };
  }
  return { countsAsRound: true, state: 'active', next: 'answer', why: 'a round for the model' };
}
