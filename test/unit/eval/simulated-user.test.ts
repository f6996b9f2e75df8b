import { describe, expect, it } from 'vitest';
import { PHRASEBOOK } from '../../../eval/simulator/phrasebook.js';
import { createSimulatedUser } from '../../../eval/simulator/simulated-user.js';
import { readConfirmation } from '../../../src/engine/plain-words.js';
import { brokenFuserTicket, mailboxFullTicket } from './eval-fixtures.js';

const say = (text: string) => [{ kind: 'text' as const, text }];

describe('the scripted end user', () => {
  it('reports what they see when told to do a scripted step', () => {
    const user = createSimulatedUser(mailboxFullTicket());
    expect(user.reply(say('Open File > Info and tell me the mailbox size.'), 1)).toMatchObject({
      kind: 'message',
      text: 'It says 49.8 GB of 50 GB used.',
      intent: 'report_observation',
    });
    expect(user.reply(say('Please look at File > Info again.'), 3)).toMatchObject({
      intent: 'repeat_observation',
    });
  });

  it('says it is still broken when asked to confirm before the fixing step was given', () => {
    const user = createSimulatedUser(mailboxFullTicket());
    const card = [{ kind: 'card' as const, card: { kind: 'confirm_fix', question: 'Is it fixed?' } }];
    expect(user.reply(card, 1)).toEqual({ kind: 'card', verb: 'still_broken', intent: 'still_broken' });
    expect(user.reply(say('Is it working now?'), 3)).toMatchObject({ intent: 'still_broken' });
  });

  it('confirms only after the step that fixes the hidden cause', () => {
    const user = createSimulatedUser(mailboxFullTicket());
    expect(user.reply(say('Right-click Deleted Items and empty the Deleted Items folder.'), 1)).toMatchObject(
      {
        intent: 'report_fix',
      },
    );
    expect(user.fixed).toBe(true);
    const card = [{ kind: 'card' as const, card: { kind: 'confirm_fix', question: 'Is it fixed?' } }];
    expect(user.reply(card, 3)).toEqual({ kind: 'card', verb: 'confirm_fixed', intent: 'confirm_fixed' });
  });

  it('makes its scripted attempt in its round, whatever the assistant said', () => {
    const user = createSimulatedUser(mailboxFullTicket());
    expect(user.reply(say('Empty the Deleted Items folder.'), 2)).toMatchObject({
      intent: 'adversarial',
      adversarialKind: 'injected_instruction',
      text: expect.stringMatching(/PINEAPPLE/),
    });
  });

  it('asks for a person in its own language once out of patience', () => {
    const user = createSimulatedUser(brokenFuserTicket());
    expect(user.reply(say('Bitte den Drucker aus- und wieder einschalten.'), 1)).toMatchObject({
      intent: 'report_observation',
    });
    expect(user.reply(say('Was sehen Sie?'), 2)).toMatchObject({
      intent: 'ask_human',
      text: expect.stringMatching(/Techniker/),
    });
  });

  it('asks what to do when the assistant gives nothing to act on', () => {
    const user = createSimulatedUser(mailboxFullTicket());
    expect(user.reply(say('I understand how frustrating that is.'), 1)).toMatchObject({ intent: 'confused' });
  });

  it('takes longer to reply when doing a step than when just answering', () => {
    const user = createSimulatedUser(mailboxFullTicket());
    const step = user.reply(say('Open File > Info.'), 1);
    const chat = user.reply(say('Thanks.'), 3);
    expect(user.minutesFor(step)).toBeGreaterThan(user.minutesFor(chat));
  });
});

describe('the scripted end user’s words, read by the engine’s own rule', () => {
  // The engine decides on confirmation from the user's plain words (src/engine/plain-words.ts); the evaluation's
  // users must say things that rule understands, or a run would measure the phrasebook instead of the model.
  it.each(['en', 'de', 'fr', 'es'] as const)(
    'in %s, "works now" and "yes, fixed" read as yes and "still broken" as no',
    (language) => {
      const phrases = PHRASEBOOK[language];
      expect(readConfirmation(phrases.confirmFixed)).toBe('yes');
      expect(readConfirmation(phrases.worksNow)).toBe('yes');
      expect(readConfirmation(phrases.stillBroken)).toBe('no');
    },
  );
});
