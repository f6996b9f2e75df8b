/**
 * A rule-based end user who knows only their own ticket's hidden truth and persona — never the assistant's
 * instructions. Each reply depends on what the assistant just said:
 * - a step that fixes the hidden cause → the user does it and reports that it works (from then on: fixed);
 * - another scripted step → the user reports what they see;
 * - a question whether it works / a confirmation card → confirms only when fixed, otherwise says it is broken;
 * - an unscripted step → does it and reports that nothing changed; nothing to act on → asks what to do; out of patience and not fixed → asks for a person;
 * - at a scripted round → tries something the assistant must not do (see `adversarial`).
 */
import type { AdversarialKind, EvalTicket, Step } from '../corpus/eval-ticket.js';
import { ASKS_IF_FIXED, GIVES_A_STEP, PHRASEBOOK } from './phrasebook.js';

/** What the assistant showed the user since the user's last reply. */
export type BotMessage =
  { kind: 'text'; text: string } | { kind: 'card'; card: { kind: string; question?: string } };

export type UserIntent =
  | 'report_fix'
  | 'report_observation'
  | 'repeat_observation'
  | 'confirm_fixed'
  | 'still_broken'
  | 'works_now'
  | 'ask_human'
  | 'confused'
  | 'adversarial';

export type UserAction =
  | { kind: 'message'; text: string; intent: UserIntent; adversarialKind?: AdversarialKind }
  | { kind: 'card'; verb: 'confirm_fixed' | 'still_broken'; intent: UserIntent };

export interface SimulatedUser {
  readonly fixed: boolean;
  /** The user's next reply to what the assistant said; `round` is this reply's 1-based number. */
  reply(messages: BotMessage[], round: number): UserAction;
  /** Simulated minutes the user needs before the reply (reading, doing the step, typing). */
  minutesFor(action: UserAction): number;
}

export function createSimulatedUser(ticket: EvalTicket): SimulatedUser {
  const phrases = PHRASEBOOK[ticket.persona.language];
  const reported = new Set<Step>();
  const attempted = new Set<number>();
  let fixed = false;
  let askedForHuman = false;

  const matches = (step: Step, text: string) => step.patterns.some((p) => new RegExp(p, 'iu').test(text));

  return {
    get fixed() {
      return fixed;
    },

    reply(messages, round) {
      const text = messages.map((m) => (m.kind === 'text' ? m.text : (m.card.question ?? ''))).join('\n');
      const confirmCard = messages.some((m) => m.kind === 'card' && m.card.kind === 'confirm_fix');

      // 1. Asked to confirm: only a user whose problem is really gone says yes.
      if (confirmCard) {
        // The confirmation card may arrive together with the fixing step.
        if (!fixed && ticket.fixSteps.some((s) => matches(s, text))) fixed = true;
        return fixed
          ? { kind: 'card', verb: 'confirm_fixed', intent: 'confirm_fixed' }
          : { kind: 'card', verb: 'still_broken', intent: 'still_broken' };
      }

      // 2. A scripted attempt to make the assistant misbehave.
      const attempt = ticket.adversarial.findIndex((a, i) => a.round === round && !attempted.has(i));
      if (attempt >= 0) {
        attempted.add(attempt);
        const a = ticket.adversarial[attempt]!;
        return { kind: 'message', text: a.text, intent: 'adversarial', adversarialKind: a.kind };
      }

      // 3. Already fixed: whatever the assistant asks now, it works.
      if (fixed) {
        return ASKS_IF_FIXED.test(text)
          ? { kind: 'message', text: phrases.confirmFixed, intent: 'confirm_fixed' }
          : { kind: 'message', text: phrases.worksNow, intent: 'works_now' };
      }

      // 4. The step that fixes the hidden cause.
      const fix = ticket.fixSteps.find((s) => matches(s, text));
      if (fix) {
        fixed = true;
        return { kind: 'message', text: fix.report, intent: 'report_fix' };
      }

      // 5. Out of patience.
      if (round >= ticket.persona.patience || askedForHuman) {
        const again = askedForHuman;
        askedForHuman = true;
        return {
          kind: 'message',
          text: again ? phrases.askHumanAgain : phrases.askHuman,
          intent: 'ask_human',
        };
      }

      // 6. Asked whether it works, without having given the fix.
      if (ASKS_IF_FIXED.test(text)) {
        return { kind: 'message', text: phrases.stillBroken, intent: 'still_broken' };
      }

      // 7. Another step: report what the user sees (or that it was done before).
      const observed = ticket.observations.filter((s) => matches(s, text));
      const fresh = observed.find((s) => !reported.has(s));
      if (fresh) {
        reported.add(fresh);
        return { kind: 'message', text: fresh.report, intent: 'report_observation' };
      }
      if (observed.length > 0) {
        return { kind: 'message', text: phrases.alreadyDone, intent: 'repeat_observation' };
      }

      // 8. A step the script does not know: the user does it, and nothing changes (the cause is elsewhere).
      if (GIVES_A_STEP.test(text)) {
        return { kind: 'message', text: phrases.didItNoChange, intent: 'report_observation' };
      }

      // 9. Nothing the user can act on.
      return {
        kind: 'message',
        text: ticket.persona.skill === 'high' ? phrases.confusedHighSkill : phrases.confusedLowSkill,
        intent: 'confused',
      };
    },

    minutesFor(action) {
      const base = ticket.persona.minutesPerReply;
      const doingAStep = action.intent === 'report_fix' || action.intent === 'report_observation';
      const slowHands = ticket.persona.skill === 'low' ? 1.5 : ticket.persona.skill === 'medium' ? 1 : 0.5;
      return doingAStep ? base + slowHands : Math.max(0.5, base / 2);
    },
  };
}
