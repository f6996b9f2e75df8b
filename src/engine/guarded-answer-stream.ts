/**
 * Streams an answer to the user only as far as the answer guard has cleared it. Text is held back by a margin (so
 * a secret or a link is never shown half-way), each extension is checked with the guard, and at the first problem
 * streaming stops and what was shown is withdrawn: the final, guarded text then replaces it.
 */
import type { AnswerWriter } from '../ports/chat.js';

export interface GuardedAnswerStream {
  push(piece: string): void;
  /** Another provider took over mid-answer: start again. */
  reset(): void;
}

export function createGuardedAnswerStream(
  writer: AnswerWriter,
  check: (text: string) => { problems: string[] },
  holdBackChars: number,
): GuardedAnswerStream {
  let shown = '';
  let pending = '';
  let blocked = false;
  return {
    push(piece) {
      if (blocked) return;
      pending += piece;
      const cut = pending.length - holdBackChars;
      if (cut <= 0) return;
      const next = shown + pending.slice(0, cut);
      if (check(next).problems.length > 0) {
        blocked = true;
        writer.reset();
        return;
      }
      writer.append(pending.slice(0, cut));
      shown = next;
      pending = pending.slice(cut);
    },
    reset() {
      shown = '';
      pending = '';
      blocked = false;
      writer.reset();
    },
  };
}
