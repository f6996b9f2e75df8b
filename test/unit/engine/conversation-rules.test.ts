import { describe, expect, it } from 'vitest';
import type { ConversationState, PendingStep } from '../../../src/ports/conversation-store.js';
import {
  countsAsRound,
  decideAfterAnswer,
  decideUserMessage,
  hasTimedOut,
  limitNotice,
  limitReached,
  mayConfirm,
  readUserMessage,
  type LimitSettings,
  type UserSaid,
} from '../../../src/engine/conversation-rules.js';

const settings: LimitSettings = { maxRounds: 10, maxMinutes: 30, warnRoundsLeft: 2 };
const now = new Date('2025-03-04T10:00:00Z');
const inMinutes = (minutes: number) => new Date(now.getTime() + minutes * 60_000).toISOString();

function conversation(state: ConversationState, rounds = 3, deadlineAt: string | null = inMinutes(20)) {
  return { state, rounds, deadlineAt, pendingStep: null as PendingStep | null };
}

function decide(
  record: ReturnType<typeof conversation>,
  said: string | UserSaid,
  options = { overRateLimit: false },
) {
  return decideUserMessage(record, typeof said === 'string' ? { words: said } : said, now, settings, options);
}

describe('what counts as a round', () => {
  it('is a reply for the model to answer, and only that', () => {
    expect(countsAsRound('reply')).toBe(true);
    for (const reading of [
      'not_talking',
      'past_deadline',
      'over_rate_limit',
      'asks_for_human',
      'confirms_fix',
      'says_it_works',
      'no_question',
    ] as const) {
      expect(countsAsRound(reading), reading).toBe(false);
    }
  });

  it('adds one round for a reply, whether written, e-mailed or "still broken" pressed after the question', () => {
    expect(decide(conversation('active', 3), 'Outlook still asks for my password').rounds).toBe(4);
    expect(decide(conversation('awaiting_confirmation', 3), 'no, still broken').rounds).toBe(4);
    expect(decide(conversation('awaiting_confirmation', 3), { button: 'still_broken' }).rounds).toBe(4);
  });

  it('adds none for asking for a person, confirming, saying it works, flooding, or writing after the hand-over', () => {
    expect(decide(conversation('active', 3), 'I want to talk to a technician').rounds).toBe(3);
    expect(decide(conversation('awaiting_confirmation', 3), 'yes').rounds).toBe(3);
    expect(decide(conversation('active', 3), 'it works now, thanks').rounds).toBe(3);
    expect(decide(conversation('active', 3), 'another detail', { overRateLimit: true }).rounds).toBe(3);
    expect(decide(conversation('escalated', 3), 'are you there?').rounds).toBe(3);
    expect(decide(conversation('active', 3), { button: 'confirm_fixed' }).rounds).toBe(3);
    expect(decide(conversation('active', 3), { button: 'still_broken' }).rounds).toBe(3);
  });
});

describe('the round limit', () => {
  it('is not passed by messages right behind the hand-over at the limit, before it is carried out', () => {
    const ending = decide(conversation('awaiting_confirmation', 10), 'no, still broken');
    expect(ending).toMatchObject({ rounds: 11, next: { kind: 'escalate' } });
    const behind = { ...conversation(ending.state, ending.rounds) };
    const pending = { ...behind, pendingStep: ending.next as PendingStep };
    expect(decide(pending, 'hello??')).toMatchObject({ rounds: 11, next: 'record_only' });
    expect(decide(pending, 'yes it works now')).toMatchObject({ rounds: 11, next: 'record_only' });
  });

  it('lets the 10th reply be answered and hands the ticket over at an 11th', () => {
    expect(decide(conversation('active', 9), 'still no luck')).toMatchObject({ rounds: 10, next: 'answer' });
    expect(decide(conversation('awaiting_confirmation', 10), 'no, still broken')).toMatchObject({
      rounds: 11,
      state: 'active',
      next: { kind: 'escalate', reason: 'still_broken_at_limit' },
    });
  });

  it('hands over after the answer of the last round, unless the model asks "is it fixed?" first', () => {
    const plain = { askConfirmation: false, step: null };
    expect(decideAfterAnswer({ rounds: 9 }, { rounds: 9 }, plain, settings).step).toBeNull();
    expect(decideAfterAnswer({ rounds: 10 }, { rounds: 10 }, plain, settings).step).toEqual({
      kind: 'escalate',
      reason: 'round_limit',
    });
    expect(
      decideAfterAnswer({ rounds: 10 }, { rounds: 10 }, { askConfirmation: true, step: null }, settings),
    ).toEqual({ answerAgain: false, askConfirmation: true, step: null });
  });

  it('answers a reply written while the model worked before anything else', () => {
    expect(
      decideAfterAnswer({ rounds: 9 }, { rounds: 10 }, { askConfirmation: true, step: null }, settings),
    ).toEqual({ answerAgain: true, askConfirmation: false, step: null });
  });

  it('lets an ending the answer implies (the model asked for a person) win over everything', () => {
    const step = { kind: 'escalate', reason: 'model_needs_human' } as const;
    expect(
      decideAfterAnswer({ rounds: 3 }, { rounds: 4 }, { askConfirmation: true, step }, settings),
    ).toEqual({ answerAgain: false, askConfirmation: false, step });
  });

  it('keeps a technician from handing the conversation back when no rounds or no time are left', () => {
    expect(limitReached({ rounds: 9, deadlineAt: inMinutes(5) }, now, settings)).toBe(false);
    expect(limitReached({ rounds: 10, deadlineAt: inMinutes(5) }, now, settings)).toBe(true);
    expect(limitReached({ rounds: 2, deadlineAt: inMinutes(0) }, now, settings)).toBe(true);
  });
});

describe('the time limit', () => {
  it('times the conversation out from its deadline on, before anything the message says', () => {
    expect(decide(conversation('active', 3, inMinutes(0)), 'I want a technician').next).toEqual({
      kind: 'time_out',
    });
    expect(decide(conversation('active', 3, inMinutes(1)), 'still broken').next).toBe('answer');
  });

  it('applies only while the AI talks: a paused or taken-over conversation does not time out', () => {
    expect(hasTimedOut({ state: 'active', deadlineAt: inMinutes(-1) }, now)).toBe(true);
    expect(hasTimedOut({ state: 'awaiting_confirmation', deadlineAt: inMinutes(0) }, now)).toBe(true);
    expect(hasTimedOut({ state: 'paused', deadlineAt: inMinutes(-1) }, now)).toBe(false);
    expect(hasTimedOut({ state: 'taken_over', deadlineAt: inMinutes(-1) }, now)).toBe(false);
    expect(hasTimedOut({ state: 'active', deadlineAt: null }, now)).toBe(false);
  });

  it('warns near either limit, and says nothing once no rounds are left (the hand-over says it)', () => {
    expect(limitNotice({ rounds: 5, deadlineAt: inMinutes(20) }, now, settings)).toBeNull();
    expect(limitNotice({ rounds: 8, deadlineAt: inMinutes(20) }, now, settings)).toMatch(/2 more rounds/);
    expect(limitNotice({ rounds: 9, deadlineAt: inMinutes(20) }, now, settings)).toMatch(/last round/);
    expect(limitNotice({ rounds: 10, deadlineAt: inMinutes(20) }, now, settings)).toBeNull();
    expect(limitNotice({ rounds: 3, deadlineAt: inMinutes(4) }, now, settings)).toMatch(/about 4 minute/);
  });
});

describe('when the user may confirm the fix', () => {
  it('in words only as the answer to "is it fixed?"', () => {
    expect(mayConfirm('awaiting_confirmation', 'words')).toBe(true);
    expect(mayConfirm('active', 'words')).toBe(false);
    expect(decide(conversation('awaiting_confirmation'), 'yes').next).toEqual({
      kind: 'resolve',
      reason: 'user_confirmed',
    });
    // A bare "yes" mid-conversation answers the model's question, not "is it fixed?".
    expect(decide(conversation('active'), 'yes')).toMatchObject({ next: 'answer', rounds: 4 });
  });

  it('is asked "is it fixed?" when they say it works while the AI works on it', () => {
    expect(decide(conversation('active'), 'das geht wieder, danke')).toMatchObject({
      state: 'awaiting_confirmation',
      next: 'ask_confirmation',
    });
  });

  it('with the “It’s fixed” button at any point while the AI talks, and never after', () => {
    expect(mayConfirm('active', 'button')).toBe(true);
    expect(mayConfirm('awaiting_confirmation', 'button')).toBe(true);
    expect(mayConfirm('paused', 'button')).toBe(false);
    expect(decide(conversation('active'), { button: 'confirm_fixed' }).next).toEqual({
      kind: 'resolve',
      reason: 'user_confirmed',
    });
    expect(decide(conversation('paused'), { button: 'confirm_fixed' }).next).toBe('record_only');
    expect(decide(conversation('active', 3, inMinutes(-1)), { button: 'confirm_fixed' }).next).toEqual({
      kind: 'time_out',
    });
  });
});

describe('what a message leads to otherwise', () => {
  it('hands over when the user asks for a person, in words or with the button', () => {
    for (const said of ['Can I speak to a human please?', { button: 'ask_human' } as const]) {
      expect(decide(conversation('active'), said).next).toEqual({ kind: 'escalate', reason: 'user_asked' });
    }
  });

  it('only records a message over the rate limit, in a conversation the AI is not in, or a stale “still broken”', () => {
    expect(decide(conversation('active'), 'more', { overRateLimit: true }).next).toBe('record_only');
    expect(decide(conversation('taken_over'), 'hello?').next).toBe('record_only');
    expect(decide(conversation('active'), { button: 'still_broken' }).next).toBe('record_only');
    // “Still broken” with no question asked says nothing, even past the deadline.
    expect(
      readUserMessage(conversation('active', 3, inMinutes(-5)), { button: 'still_broken' }, now, {
        overRateLimit: false,
      }),
    ).toBe('no_question');
  });
});
