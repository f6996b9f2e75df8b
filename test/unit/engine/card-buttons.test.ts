/**
 * The buttons on the end user's cards: a press on a live conversation is the user's words and leads where the words
 * would (one resolution summary, one hand-over notice, from the chat outbox); the pressed card then shows where the
 * ticket stands. A button that no longer applies answers with where the ticket stands — never with nothing.
 */
import { describe, expect, it } from 'vitest';
import type { CardSpec } from '../../../src/ports/chat.js';
import type { UserCardAction } from '../../../src/ports/support-engine.js';
import { continueAnswer, makeTicket } from '../../support/in-memory-ports.js';
import { createHarness, drainComments, type Harness } from './engine-harness.js';

const MEGAN = 'aad-megan';

function press(
  ticketId: number,
  verb: UserCardAction['verb'],
  card: UserCardAction['card'] | null,
  overrides: Partial<UserCardAction> = {},
): UserCardAction {
  return {
    conversationId: `a:chat-${MEGAN}`,
    userId: MEGAN,
    tenantId: '11111111-1111-4111-8111-111111111111',
    ticketId,
    verb,
    ...(card ? { card } : {}),
    timeZone: 'Europe/Berlin',
    ...overrides,
  };
}

/** A conversation with its first answer, the user saying it works and being asked "is it fixed?". */
async function askedIfFixed(id: number): Promise<Harness> {
  const h = createHarness();
  h.desk.add(makeTicket({ id }));
  h.model.push(continueAnswer('Restart Outlook.'));
  await h.engine.startTicket(makeTicket({ id }));
  await h.say('works now');
  expect(h.chat.cards('confirm_fix')).toHaveLength(1);
  return h;
}

function settledOf(answer: Awaited<ReturnType<Harness['engine']['onUserCardAction']>>): {
  kind: CardSpec['kind'];
  settled: string | undefined;
  buttons: boolean;
} {
  if (answer.kind !== 'card') throw new Error(`expected a card, got the message "${answer.text}"`);
  const settled = 'settled' in answer.card ? answer.card.settled : undefined;
  return { kind: answer.card.kind, settled, buttons: settled === undefined };
}

describe('“Yes, it’s fixed” on the question card', () => {
  it('resolves with one summary in the chat; the pressed card shows the ticket resolved, without buttons', async () => {
    const h = await askedIfFixed(200);
    const answer = await h.engine.onUserCardAction(press(200, 'confirm_fixed', 'confirm_fix'));

    expect(settledOf(answer)).toEqual({
      kind: 'confirm_fix',
      settled: 'Ticket #200 is resolved (you confirmed it at 10:00).',
      buttons: false,
    });
    expect((await h.store.getConversation(200))?.state).toBe('resolved');
    expect(h.chat.cards('resolution_summary')).toHaveLength(1);
    expect(h.desk.changes).toEqual([{ ticketId: 200, change: { status: 'Resolved' } }]);
    const userTurns = (await drainComments(h.store, 200)).filter((c) => c.startsWith('Megan Bowen'));
    expect(userTurns.at(-1)).toMatch(/\nYes, it’s fixed\.$/);
    expect(userTurns.filter((c) => /Yes, it’s fixed/.test(c))).toHaveLength(1);
  });

  it('gives the same one summary when the user types “yes” instead', async () => {
    const h = await askedIfFixed(201);
    await h.say('yes');
    expect(h.chat.cards('resolution_summary')).toHaveLength(1);
    expect(h.chat.cards()).toHaveLength(3); // the ticket card, the question, the summary
  });

  it('pressed twice before the ending was carried out still sends one summary, and the second press says so', async () => {
    const h = await askedIfFixed(202);
    const first = await h.unsettled.onUserCardAction(press(202, 'confirm_fixed', 'confirm_fix'));
    const second = await h.unsettled.onUserCardAction(press(202, 'confirm_fixed', 'confirm_fix'));
    await h.engine.idle();
    expect(settledOf(first).settled).toBe('Ticket #202 is resolved (you confirmed it at 10:00).');
    expect(settledOf(second).settled).toMatch(
      /^Ticket #202 is (already )?resolved \(you confirmed it at 10:00\)\.$/,
    );
    expect(h.chat.cards('resolution_summary')).toHaveLength(1);
    expect(h.desk.changes).toHaveLength(1);
  });

  it('is answered at once: the user’s next ticket, opened after the ending, does not hold the press up', async () => {
    const h = await askedIfFixed(203);
    await h.engine.startTicket(makeTicket({ id: 204, title: 'Printer jammed' }));
    const modelAnswersNextTicket = h.model.hold();
    let answered = false;
    const pressed = h.unsettled
      .onUserCardAction(press(203, 'confirm_fixed', 'confirm_fix'))
      .then((answer) => {
        answered = true;
        return answer;
      });
    await modelAnswersNextTicket.started;
    expect(answered).toBe(true);
    modelAnswersNextTicket.release();
    expect(settledOf(await pressed).kind).toBe('confirm_fix');
    await h.engine.idle();
    expect((await h.store.getConversation(204))?.state).toBe('active');
    expect(h.chat.cards('resolution_summary')).toHaveLength(1);
  });
});

describe('“Talk to a technician” on the ticket card', () => {
  it('hands over with one hand-over notice; the ticket card shows a technician has it', async () => {
    const h = createHarness();
    h.model.push(continueAnswer('Restart Outlook.'));
    await h.engine.startTicket(makeTicket({ id: 210 }));
    const answer = await h.engine.onUserCardAction(press(210, 'ask_human', 'ticket_intro'));

    expect(settledOf(answer)).toEqual({
      kind: 'ticket_intro',
      settled:
        'Ticket #210 is with a technician (you asked for one at 10:00). They will contact you here or by phone.',
      buttons: false,
    });
    expect((await h.store.getConversation(210))?.outcome).toMatchObject({
      kind: 'escalated',
      reason: 'user_asked',
    });
    expect(h.chat.cards('handover_notice')).toHaveLength(1);
    expect(h.chat.texts().filter((t) => /technician/i.test(t))).toEqual([]);
  });

  it('said in words hands over with one notice too, and the card’s buttons afterwards only say where it stands', async () => {
    const h = createHarness();
    h.desk.add(makeTicket({ id: 211 }));
    h.model.push(continueAnswer('Restart Outlook.'));
    await h.engine.startTicket(makeTicket({ id: 211 }));
    await h.say('I want to talk to a technician');
    expect(h.chat.cards('handover_notice')).toHaveLength(1);

    const fixed = await h.engine.onUserCardAction(press(211, 'confirm_fixed', 'ticket_intro'));
    expect(settledOf(fixed).settled).toBe(
      'Ticket #211 is already with a technician (you asked for one at 10:00). They will contact you here or by phone.',
    );
    expect((await h.store.getConversation(211))?.state).toBe('escalated');
    expect(h.chat.cards('handover_notice')).toHaveLength(1);
    expect(h.chat.cards('resolution_summary')).toHaveLength(0);
    expect(h.desk.changes.filter((c) => c.change.status === 'Resolved')).toEqual([]);
  });
});

describe('a button on an old card', () => {
  it('of a resolved ticket says it is already resolved and when — in the user’s time zone, another day with the date', async () => {
    const h = await askedIfFixed(220);
    await h.say('yes');
    const sentBefore = h.chat.sent.length;
    const turnsBefore = (await h.store.getConversation(220))?.turns.length;

    const intro = await h.engine.onUserCardAction(press(220, 'confirm_fixed', 'ticket_intro'));
    expect(settledOf(intro)).toEqual({
      kind: 'ticket_intro',
      settled: 'Ticket #220 is already resolved (you confirmed it at 10:00).',
      buttons: false,
    });
    h.clock.advanceMinutes(24 * 60);
    const question = await h.engine.onUserCardAction(
      press(220, 'still_broken', 'confirm_fix', { timeZone: 'America/New_York' }),
    );
    expect(settledOf(question).settled).toBe(
      'Ticket #220 is already resolved (you confirmed it on 25 Nov at 04:00).',
    );
    const noZone = await h.engine.onUserCardAction(press(220, 'ask_human', 'ticket_intro', { timeZone: '' }));
    expect(settledOf(noZone).settled).toBe(
      'Ticket #220 is already resolved (you confirmed it on 25 Nov at 09:00 UTC).',
    );

    expect(h.chat.sent.length).toBe(sentBefore);
    expect((await h.store.getConversation(220))?.turns.length).toBe(turnsBefore);
  });

  it('of an older ticket answers about that ticket and leaves the user’s current conversation alone', async () => {
    const h = createHarness();
    h.model.push(continueAnswer('First ticket, first step.'));
    await h.engine.startTicket(makeTicket({ id: 230 }));
    await h.engine.startTicket(makeTicket({ id: 231, title: 'Printer jammed' }));
    h.model.push(continueAnswer('Which printer is it?'));
    await h.say('please get me a technician'); // ticket 230 handed over, 231 opens
    expect((await h.store.getConversation(231))?.state).toBe('active');

    const answer = await h.engine.onUserCardAction(press(230, 'confirm_fixed', 'ticket_intro'));
    expect(settledOf(answer).settled).toBe(
      'Ticket #230 is already with a technician (you asked for one at 10:00). They will contact you here or by phone.',
    );
    const current = await h.store.getConversation(231);
    expect(current?.state).toBe('active');
    expect(current?.turns.filter((t) => t.role === 'user')).toEqual([]);
  });

  it('of a conversation that timed out, or was closed in Atera, says so', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 240 }));
    h.clock.advanceMinutes(31);
    await h.engine.tick();
    const timedOut = await h.engine.onUserCardAction(press(240, 'confirm_fixed', 'ticket_intro'));
    expect(settledOf(timedOut).settled).toBe(
      'Ticket #240 is already with a technician (our time in this chat ran out at 10:31). They will contact you here or by phone.',
    );

    await h.engine.startTicket(makeTicket({ id: 241 }));
    await h.engine.onTicketChanged(
      makeTicket({ id: 241, status: 'Closed', modifiedAt: '2026-11-25T09:40:00Z' }),
    );
    const closed = await h.engine.onUserCardAction(press(241, 'ask_human', 'ticket_intro'));
    expect(settledOf(closed).settled).toBe(
      'Ticket #241 was closed by your IT team at 10:31, so we are done here.',
    );
  });

  it('sent before the cards named themselves answers with a message, as it cannot redraw a card it does not know', async () => {
    const h = await askedIfFixed(250);
    await h.say('yes');
    expect(await h.engine.onUserCardAction(press(250, 'confirm_fixed', null))).toEqual({
      kind: 'text',
      text: 'Ticket #250 is already resolved (you confirmed it at 10:00).',
    });
  });
});

describe('“No, still broken”', () => {
  it('on the question is a round for the model; the question card shows the conversation goes on', async () => {
    const h = await askedIfFixed(260);
    h.model.push(continueAnswer('Let’s try safe mode.'));
    const answer = await h.engine.onUserCardAction(press(260, 'still_broken', 'confirm_fix'));
    expect(settledOf(answer)).toEqual({
      kind: 'confirm_fix',
      settled: 'We are still working on ticket #260 together: tell me here what you see.',
      buttons: false,
    });
    expect((await h.store.getConversation(260))?.state).toBe('active');
    expect(h.chat.texts().at(-1)).toBe('Let’s try safe mode.');
  });

  it('on a question already answered in words is not recorded again; a message says where it stands', async () => {
    const h = await askedIfFixed(261);
    await h.say('no, still broken');
    const turns = (await h.store.getConversation(261))?.turns.length;
    const answer = await h.engine.onUserCardAction(press(261, 'still_broken', 'confirm_fix'));
    expect(answer).toEqual({
      kind: 'text',
      text: 'We are still working on ticket #261 together: tell me here what you see.',
    });
    expect((await h.store.getConversation(261))?.turns.length).toBe(turns);
  });
});

describe('a button while the AI does not talk', () => {
  it('on a paused ticket says so and leaves the card and the ticket as they are', async () => {
    const h = createHarness();
    h.model.push(continueAnswer('Restart Outlook.'));
    await h.engine.startTicket(makeTicket({ id: 270 }));
    await h.engine.onTicketChanged(
      makeTicket({ id: 270, status: 'Pending', modifiedAt: '2026-11-25T09:05:00Z' }),
    );
    expect((await h.store.getConversation(270))?.state).toBe('paused');
    expect(await h.engine.onUserCardAction(press(270, 'confirm_fixed', 'ticket_intro'))).toEqual({
      kind: 'text',
      text: 'Ticket #270 is paused while your IT team looks at it; I will tell you here when we continue.',
    });
    expect((await h.store.getConversation(270))?.state).toBe('paused');
    expect(h.chat.cards('resolution_summary')).toHaveLength(0);
  });

  it('on someone else’s or an unknown ticket changes nothing and tells nothing about the ticket', async () => {
    const h = await askedIfFixed(280);
    const other = await h.engine.onUserCardAction(
      press(280, 'confirm_fixed', 'confirm_fix', { userId: 'aad-someone-else' }),
    );
    const unknown = await h.engine.onUserCardAction(press(999, 'confirm_fixed', 'confirm_fix'));
    for (const answer of [other, unknown]) {
      expect(answer.kind).toBe('text');
      expect(JSON.stringify(answer)).not.toMatch(/#280|#999|Outlook/);
    }
    expect((await h.store.getConversation(280))?.state).toBe('awaiting_confirmation');
  });
});
