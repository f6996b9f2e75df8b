/**
 * The conversation rules, decided here and nowhere else: what counts as a round, the round and time limits, when
 * the user may confirm the fix, what a user's message leads to and what follows the model's answer. Pure (no
 * I/O): the parts of the engine call these wherever a turn happens and record the decision with the turn, so
 * recovery finds it when the process dies right after.
 *
 * The user decides, never the model's format: plain words that say it works lead to "is it fixed?" at any point,
 * "yes" to that question resolves, asking for a person hands over. Everything else is a round for the model, at
 * most `maxRounds` of them within `maxMinutes` of the first message to the user (10 and 30 by default).
 */
import type { ConversationRecord, ConversationState, PendingStep } from '../ports/conversation-store.js';
import type { UserCardVerb } from '../ports/support-engine.js';
import { asksForHuman, readConfirmation, saysItWorks } from './plain-words.js';

export interface LimitSettings {
  maxRounds: number;
  maxMinutes: number;
  /** Say the limit is near when this many rounds are left. */
  warnRoundsLeft: number;
}

// ——— The limits ———

/** The AI talks with the user in these states; in every other state a message is only recorded. */
export function isTalking(state: ConversationState): boolean {
  return state === 'active' || state === 'awaiting_confirmation';
}

/** When the time limit ends, counted from the first message that reached the user. */
export function deadlineFrom(startedAt: Date, settings: Pick<LimitSettings, 'maxMinutes'>): string {
  return new Date(startedAt.getTime() + settings.maxMinutes * 60_000).toISOString();
}

/** The time limit: reached at the deadline (a conversation that has not started has none). */
export function isPastDeadline(record: Pick<ConversationRecord, 'deadlineAt'>, now: Date): boolean {
  return record.deadlineAt !== null && now.getTime() >= Date.parse(record.deadlineAt);
}

/** The round limit: every round was used (the next reply would be one too many). */
export function roundLimitReached(
  record: Pick<ConversationRecord, 'rounds'>,
  settings: Pick<LimitSettings, 'maxRounds'>,
): boolean {
  return record.rounds >= settings.maxRounds;
}

/** Either limit: the AI may not take the conversation (back). */
export function limitReached(
  record: Pick<ConversationRecord, 'rounds' | 'deadlineAt'>,
  now: Date,
  settings: Pick<LimitSettings, 'maxRounds'>,
): boolean {
  return roundLimitReached(record, settings) || isPastDeadline(record, now);
}

/** A conversation the AI is talking in whose time ran out: it ends as timed out. */
export function hasTimedOut(record: Pick<ConversationRecord, 'state' | 'deadlineAt'>, now: Date): boolean {
  return isTalking(record.state) && isPastDeadline(record, now);
}

export function roundsLeft(
  record: Pick<ConversationRecord, 'rounds'>,
  settings: Pick<LimitSettings, 'maxRounds'>,
): number {
  return Math.max(0, settings.maxRounds - record.rounds);
}

export function minutesLeft(record: Pick<ConversationRecord, 'deadlineAt'>, now: Date): number {
  if (!record.deadlineAt) return Infinity;
  return Math.max(0, (Date.parse(record.deadlineAt) - now.getTime()) / 60_000);
}

/** A short notice appended to the answer when either limit is near, or null. */
export function limitNotice(
  record: Pick<ConversationRecord, 'rounds' | 'deadlineAt'>,
  now: Date,
  settings: LimitSettings,
): string | null {
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

// ——— A user's message ———

/** What the user sent: words (in the chat or by e-mail to the ticket) or a press of a card's button. */
export type UserSaid = { words: string } | { button: UserCardVerb };

/** How a user's message reads, before the limits apply. */
export type MessageReading =
  /** The AI is not talking in this conversation (queued, paused, taken over, handed over, ended or ending). */
  | 'not_talking'
  | 'past_deadline'
  | 'over_rate_limit'
  | 'asks_for_human'
  | 'confirms_fix'
  | 'says_it_works'
  /** “It’s still broken” pressed when no question was asked. */
  | 'no_question'
  /** A reply to the model (or "no, still broken" to the question). */
  | 'reply';

/**
 * What counts as a round: a reply for the model to answer. The first answer, before any reply, is round 0.
 * (`decideAfterAnswer` reads rounds that grew during the model call as a reply still to answer.)
 */
export function countsAsRound(reading: MessageReading): boolean {
  return reading === 'reply';
}

/**
 * When the user may confirm the fix: in words only as the answer to "is it fixed?"; with the “It’s fixed”
 * button (on the ticket card and on the question) at any point while the AI talks.
 */
export function mayConfirm(state: ConversationState, by: 'words' | 'button'): boolean {
  return by === 'button' ? isTalking(state) : state === 'awaiting_confirmation';
}

/** When the user is asked "is it fixed?" because they said it works: only while the AI is working on it. */
export function mayAskConfirmation(state: ConversationState): boolean {
  return state === 'active';
}

export function readUserMessage(
  record: Pick<ConversationRecord, 'state' | 'deadlineAt' | 'pendingStep'>,
  said: UserSaid,
  now: Date,
  options: { overRateLimit: boolean },
): MessageReading {
  // An ending already decided (and about to be carried out) is not decided again by a message right behind it.
  if (!isTalking(record.state) || record.pendingStep) return 'not_talking';
  if ('button' in said) return readButton(record, said.button, now);
  if (isPastDeadline(record, now)) return 'past_deadline';
  if (options.overRateLimit) return 'over_rate_limit';
  const text = said.words;
  if (asksForHuman(text)) return 'asks_for_human';
  if (mayConfirm(record.state, 'words') && readConfirmation(text) === 'yes') return 'confirms_fix';
  if (mayAskConfirmation(record.state) && saysItWorks(text)) return 'says_it_works';
  return 'reply';
}

/** A button says exactly what the user means, whatever its words would be read as; a press is never rate limited. */
function readButton(
  record: Pick<ConversationRecord, 'state' | 'deadlineAt'>,
  button: UserCardVerb,
  now: Date,
): MessageReading {
  // “It’s still broken” answers "is it fixed?"; with no question asked it says nothing, even past the deadline.
  if (button === 'still_broken' && record.state !== 'awaiting_confirmation') return 'no_question';
  if (isPastDeadline(record, now)) return 'past_deadline';
  switch (button) {
    case 'ask_human':
      return 'asks_for_human';
    case 'confirm_fixed':
      return mayConfirm(record.state, 'button') ? 'confirms_fix' : 'not_talking';
    case 'still_broken':
      return 'reply';
  }
}

export interface UserMessageDecision {
  reading: MessageReading;
  /** The conversation's rounds once the message is recorded. */
  rounds: number;
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

/** What a user's message leads to. */
export function decideUserMessage(
  record: Pick<ConversationRecord, 'state' | 'rounds' | 'deadlineAt' | 'pendingStep'>,
  said: UserSaid,
  now: Date,
  settings: Pick<LimitSettings, 'maxRounds'>,
  options: { overRateLimit: boolean },
): UserMessageDecision {
  const reading = readUserMessage(record, said, now, options);
  const rounds = countsAsRound(reading) ? record.rounds + 1 : record.rounds;
  const decision = (
    next: UserMessageDecision['next'],
    why: string,
    state: ConversationState = record.state,
  ): UserMessageDecision => ({ reading, rounds, state, next, why });
  const pressed = 'button' in said;
  switch (reading) {
    case 'not_talking':
      return decision(
        'record_only',
        record.pendingStep
          ? `its ending (${record.pendingStep.kind}) is recorded`
          : `the conversation is ${record.state}`,
      );
    case 'past_deadline':
      return decision({ kind: 'time_out' }, 'past the deadline');
    case 'over_rate_limit':
      return decision('record_only', 'over the rate limit');
    case 'no_question':
      return decision('record_only', 'no question to answer');
    case 'asks_for_human':
      return decision(
        { kind: 'escalate', reason: 'user_asked' },
        pressed ? 'the user pressed “Talk to a technician”' : 'the user asked for a person',
      );
    case 'confirms_fix':
      return decision(
        { kind: 'resolve', reason: 'user_confirmed' },
        pressed ? 'the user pressed “It’s fixed”' : 'the user confirmed the fix',
      );
    case 'says_it_works':
      return decision('ask_confirmation', 'the user says it works', 'awaiting_confirmation');
    case 'reply':
      // A round when every round was used already: the ticket goes to a technician.
      if (roundLimitReached(record, settings)) {
        return decision({ kind: 'escalate', reason: 'still_broken_at_limit' }, 'no rounds left', 'active');
      }
      return decision('answer', 'a round for the model', 'active');
  }
}

// ——— The model's answer ———

/** What the model's answer proposes; the rules below decide what of it happens. */
export interface AnswerProposal {
  /** The model thinks it is fixed and proposes asking "is it fixed?". */
  askConfirmation: boolean;
  /** An ending the answer implies (the model asked for a human, or no provider could answer). */
  step: PendingStep | null;
}

export interface AfterAnswer {
  /** The user replied while the model worked: that reply still needs its own answer. */
  answerAgain: boolean;
  /** Ask "is it fixed?" after the answer. */
  askConfirmation: boolean;
  /** The ending recorded with the answer, if any (the answer of the last round hands over). */
  step: PendingStep | null;
}

/**
 * What follows the model's answer, given the conversation when the model was asked and as it is now. The model
 * only proposes; a reply written meanwhile comes first, and the answer of the last round hands the ticket over.
 */
export function decideAfterAnswer(
  asked: Pick<ConversationRecord, 'rounds'>,
  current: Pick<ConversationRecord, 'rounds'>,
  proposal: AnswerProposal,
  settings: Pick<LimitSettings, 'maxRounds'>,
): AfterAnswer {
  if (proposal.step) return { answerAgain: false, askConfirmation: false, step: proposal.step };
  if (current.rounds > asked.rounds) return { answerAgain: true, askConfirmation: false, step: null };
  if (proposal.askConfirmation) return { answerAgain: false, askConfirmation: true, step: null };
  if (roundLimitReached(current, settings)) {
    return { answerAgain: false, askConfirmation: false, step: { kind: 'escalate', reason: 'round_limit' } };
  }
  return { answerAgain: false, askConfirmation: false, step: null };
}
