import { describe, expect, it } from 'vitest';
import {
  continueAnswer,
  makeTicket,
  makeUser,
  needsHumanAnswer,
  resolvedAnswer,
} from '../../support/in-memory-ports.js';
import { createHarness, drainComments } from './engine-harness.js';
import type { EngineSettings } from '../../../src/engine/engine-deps.js';

describe('a new Atera ticket', () => {
  it('opens a 1:1 chat with the end user found in Graph, with the ticket card and a first answer', async () => {
    const h = createHarness();
    h.model.push(continueAnswer('Let’s start: is Outlook showing a yellow banner at the top?'));
    expect(await h.engine.startTicket(makeTicket({ id: 7 }))).toBe('started');

    expect(h.chat.opened).toEqual([
      expect.objectContaining({ userId: 'aad-megan', displayName: 'Megan Bowen' }),
    ]);
    expect(h.chat.sent[0]?.message).toMatchObject({ kind: 'card', card: { kind: 'ticket_intro' } });
    expect(h.chat.texts()).toEqual(['Let’s start: is Outlook showing a yellow banner at the top?']);
    const record = await h.store.getConversation(7);
    expect(record).toMatchObject({ state: 'active', rounds: 0, deadlineAt: '2026-11-25T09:30:00.000Z' });
    const comments = await drainComments(h.store, 7);
    expect(comments[0]).toMatch(/started a Teams conversation with Megan Bowen/);
    expect(comments[1]).toMatch(/TicketZero \(AI assistant\) — first answer[\s\S]*yellow banner/);
  });

  it('is taken once even when handed over twice', async () => {
    const h = createHarness();
    expect(await h.engine.startTicket(makeTicket({ id: 8 }))).toBe('started');
    expect(await h.engine.startTicket(makeTicket({ id: 8 }))).toBe('already_taken');
    expect(h.chat.opened).toHaveLength(1);
  });

  it('is declined with an internal comment when the user is not in Graph, and the technicians are told', async () => {
    const h = createHarness();
    const ticket = makeTicket({
      id: 9,
      endUser: {
        id: null,
        email: 'ghost.user@contoso.example',
        firstName: 'Ghost',
        lastName: 'User',
        phone: null,
      },
    });
    expect(await h.engine.startTicket(ticket)).toBe('declined');
    expect(h.chat.opened).toHaveLength(0);
    expect((await h.store.getConversation(9))?.state).toBe('declined');
    const [comment] = await drainComments(h.store, 9);
    expect(comment).toMatch(
      /did not take this ticket: no Microsoft 365 user with the e-mail ghost.user@contoso.example/,
    );
    expect(h.threads.threads[0]?.posts[0]?.message).toMatchObject({
      text: expect.stringMatching(/no Microsoft 365 user/),
    });
  });

  it('is declined when the customer is not mapped to a tenant', async () => {
    const h = createHarness({ unmapped: [105] });
    const ticket = makeTicket({ id: 10, customer: { id: 105, name: 'Unmapped GmbH' } });
    expect(await h.engine.startTicket(ticket)).toBe('declined');
    expect(await drainComments(h.store, 10)).toEqual([expect.stringMatching(/Unmapped GmbH.*not mapped/)]);
  });

  it('is declined for a disabled account and for a guest', async () => {
    const h = createHarness();
    h.directory.add('former@contoso.example', { status: 'disabled', user: makeUser({ id: 'x' }) });
    h.directory.add('guest@contoso.example', { status: 'guest', user: makeUser({ id: 'y' }) });
    const t = (id: number, email: string) =>
      makeTicket({ id, endUser: { id: null, email, firstName: 'A', lastName: 'B', phone: null } });
    expect(await h.engine.startTicket(t(11, 'former@contoso.example'))).toBe('declined');
    expect(await h.engine.startTicket(t(12, 'guest@contoso.example'))).toBe('declined');
    expect(await drainComments(h.store, 11)).toEqual([expect.stringMatching(/disabled/)]);
    expect(await drainComments(h.store, 12)).toEqual([expect.stringMatching(/guest/)]);
  });
});

describe('the user’s replies', () => {
  it('go to the model with the conversation so far, and every turn is written to Atera in order', async () => {
    const h = createHarness();
    h.model.push(
      continueAnswer('Is there a yellow banner?'),
      continueAnswer('Click “Update password” in it.'),
    );
    await h.engine.startTicket(makeTicket({ id: 20 }));
    await h.say('Yes, there is a banner that says "Need password"');

    const lastPrompt = h.model.requests
      .at(-1)!
      .messages.map((m) => m.content)
      .join('\n');
    expect(lastPrompt).toContain('Need password');
    expect(h.chat.texts()).toEqual(['Is there a yellow banner?', 'Click “Update password” in it.']);
    const comments = await drainComments(h.store, 20);
    expect(comments.slice(1)).toEqual([
      expect.stringMatching(/first answer[\s\S]*yellow banner/),
      expect.stringMatching(/^Megan Bowen \(end user, via Teams\) — round 1:\nYes, there is a banner/),
      expect.stringMatching(/round 1 of 10[\s\S]*Update password/),
    ]);
    expect((await h.store.getConversation(20))?.rounds).toBe(1);
  });

  it('ignores a redelivered activity', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 21 }));
    await h.say('It still asks', { activityId: 'same' });
    await h.say('It still asks', { activityId: 'same' });
    expect((await h.store.getConversation(21))?.rounds).toBe(1);
  });

  it('get a short helpful answer when no conversation is active', async () => {
    const h = createHarness();
    await h.say('hello?', { userId: 'aad-nobody' });
    expect(h.chat.texts()[0]).toMatch(/no ticket I’m working on with you right now/);
  });
});

describe('resolution', () => {
  it('asks the user to confirm, and a “yes” resolves the ticket in Atera with a summary card', async () => {
    const h = createHarness();
    h.desk.add(makeTicket({ id: 30 }));
    h.model.push(continueAnswer('Restart Outlook, please.'), resolvedAnswer('Great, that sounds fixed!'));
    await h.engine.startTicket(makeTicket({ id: 30 }));
    await h.say('I restarted it and now it works');
    expect(h.chat.cards('confirm_fix')).toHaveLength(1);
    expect((await h.store.getConversation(30))?.state).toBe('awaiting_confirmation');

    await h.say('yes, it is fixed');
    expect((await h.store.getConversation(30))?.state).toBe('resolved');
    expect(h.desk.changes).toEqual([{ ticketId: 30, change: { status: 'Resolved' } }]);
    expect(h.chat.cards('resolution_summary')).toHaveLength(1);
    const comments = await drainComments(h.store, 30);
    expect(comments.at(-1)).toMatch(/TicketZero resolved this ticket: the user confirmed the fix/);
  });

  it('keeps going when the user says it is still broken', async () => {
    const h = createHarness();
    h.model.push(continueAnswer('Restart Outlook.'), continueAnswer('Let’s try safe mode.'));
    await h.engine.startTicket(makeTicket({ id: 31 }));
    await h.say('done, works now'); // the user's words ask "is it fixed?", no model call needed
    expect((await h.store.getConversation(31))?.state).toBe('awaiting_confirmation');
    await h.say('no, it is still broken');
    expect((await h.store.getConversation(31))?.state).toBe('active');
    expect(h.chat.texts().at(-1)).toBe('Let’s try safe mode.');
  });

  it('resolves from the card button, only for the ticket’s own user', async () => {
    const h = createHarness();
    h.desk.add(makeTicket({ id: 32 }));
    h.model.push(continueAnswer('Restart Outlook.'), resolvedAnswer('Fixed?'));
    await h.engine.startTicket(makeTicket({ id: 32 }));
    await h.say('works now');
    const base = {
      conversationId: 'a:chat-aad-megan',
      tenantId: 't',
      ticketId: 32,
      verb: 'confirm_fixed' as const,
    };
    expect(await h.engine.onUserCardAction({ ...base, userId: 'aad-someone-else' })).toMatchObject({
      kind: 'text',
    });
    expect((await h.store.getConversation(32))?.state).toBe('awaiting_confirmation');
    const answer = await h.engine.onUserCardAction({ ...base, userId: 'aad-megan' });
    expect(answer).toMatchObject({ kind: 'text', text: expect.stringMatching(/^Ticket #32 is resolved/) });
    expect((await h.store.getConversation(32))?.state).toBe('resolved');
    expect(h.chat.cards('resolution_summary')).toHaveLength(1);
  });

  it('retries the Atera status change on the next tick when Atera fails', async () => {
    const h = createHarness();
    h.desk.add(makeTicket({ id: 33 }));
    h.model.push(continueAnswer('Restart.'), resolvedAnswer('Fixed?'));
    await h.engine.startTicket(makeTicket({ id: 33 }));
    await h.say('works now');
    h.desk.failUpdates = 1;
    await h.say('yes');
    expect((await h.store.getConversation(33))?.pendingTicketChange).toEqual({ status: 'Resolved' });
    await h.engine.tick();
    expect(h.desk.tickets.get(33)?.status).toBe('Resolved');
    expect((await h.store.getConversation(33))?.pendingTicketChange).toBeNull();
  });
});

describe('escalation', () => {
  it('hands over when the user asks for a person, with an internal summary comment', async () => {
    const h = createHarness();
    h.model.push(continueAnswer('Open Outlook in safe mode.'));
    await h.engine.startTicket(makeTicket({ id: 40 }));
    await h.say('I want to talk to a real person please');
    const record = await h.store.getConversation(40);
    expect(record?.outcome).toMatchObject({ kind: 'escalated', reason: 'user_asked' });
    expect(h.chat.cards('handover_notice')).toHaveLength(1);
    const comments = await drainComments(h.store, 40);
    expect(comments.at(-1)).toMatch(
      /handed this ticket to a technician: the user asked for a person[\s\S]*What was tried:\n- Open Outlook in safe mode/,
    );
  });

  it('hands over when the model says a human is needed', async () => {
    const h = createHarness();
    h.model.push(
      continueAnswer('Does the laptop power on?'),
      needsHumanAnswer('A technician will replace it.', 'hardware fault'),
    );
    await h.engine.startTicket(makeTicket({ id: 41 }));
    await h.say('no, it smells burnt');
    expect((await h.store.getConversation(41))?.outcome).toMatchObject({ reason: 'model_needs_human' });
  });

  it('tells the user honestly and escalates when every provider fails', async () => {
    const h = createHarness();
    h.model.push('fail');
    await h.engine.startTicket(makeTicket({ id: 42 }));
    expect(h.chat.texts()[0]).toMatch(/technician/i);
    const record = await h.store.getConversation(42);
    expect(record?.outcome).toMatchObject({ kind: 'escalated', reason: 'all_providers_failed' });
    const comments = await drainComments(h.store, 42);
    expect(comments.join('\n')).toMatch(/no AI provider could answer[\s\S]*scripted/);
    expect(comments.join('\n')).not.toContain('sandbox-api-key-123');
  });

  it('hands over politely after the 10th round, warning before', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 43 }));
    for (let i = 1; i <= 10; i++) await h.say(`still the same (${i})`);
    const record = await h.store.getConversation(43);
    expect(record?.rounds).toBe(10);
    expect(record?.outcome).toMatchObject({ kind: 'escalated', reason: 'round_limit' });
    expect(h.chat.texts().some((t) => /2 more rounds/.test(t))).toBe(true);
    expect(h.chat.texts().some((t) => /last round/.test(t))).toBe(true);
  });

  it('times out after 30 minutes, counted from the first message, also across a restart', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 44 }));
    h.clock.advanceMinutes(29);
    await h.engine.tick();
    expect((await h.store.getConversation(44))?.state).toBe('active');
    h.clock.advanceMinutes(2);
    const restarted = h.restart();
    await restarted.recover();
    const record = await h.store.getConversation(44);
    expect(record?.outcome).toMatchObject({ kind: 'timed_out', reason: 'time_limit' });
    expect(h.chat.cards('handover_notice')).toHaveLength(1);
  });
});

describe('after a restart', () => {
  it('answers the user message the previous process recorded but never answered', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 50 }));
    // The previous process recorded the reply, then died before the model answered.
    await h.store.update(50, (c) => ({
      conversation: {
        ...c!,
        rounds: 1,
        awaitingAnswer: true,
        turns: [
          ...c!.turns,
          { seq: c!.turns.length + 1, role: 'user', text: 'It is still asking', at: c!.createdAt },
        ],
      },
      result: undefined,
    }));
    h.model.push(continueAnswer('Then let’s remove the saved credentials.'));
    await h.restart().recover();
    expect(h.chat.texts().at(-1)).toBe('Then let’s remove the saved credentials.');
    expect((await h.store.getConversation(50))?.awaitingAnswer).toBe(false);
  });
});

describe('several tickets for one user', () => {
  it('run one after the other, and the user is told the second waits', async () => {
    const h = createHarness();
    h.model.push(continueAnswer('First ticket, first step.'));
    await h.engine.startTicket(makeTicket({ id: 60 }));
    expect(await h.engine.startTicket(makeTicket({ id: 61, title: 'Printer jammed' }))).toBe('queued');
    expect(h.chat.texts().at(-1)).toMatch(/also received your ticket #61/);
    expect(h.chat.opened).toHaveLength(1);

    h.model.push(continueAnswer('Second ticket: which printer?'));
    await h.say('please get me a technician');
    expect((await h.store.getConversation(60))?.state).toBe('escalated');
    expect((await h.store.getConversation(61))?.state).toBe('active');
    expect(h.chat.texts().at(-1)).toBe('Second ticket: which printer?');
  });

  it('tell the user and Atera once that the second waits, also across a restart', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 104 }));
    await h.engine.startTicket(makeTicket({ id: 105, title: 'Printer jammed' }));
    await h.restart().recover();
    h.clock.advanceMinutes(1);
    await h.engine.tick();
    expect(h.chat.texts().filter((t) => /also received your ticket #105/.test(t))).toHaveLength(1);
    expect((await drainComments(h.store, 105)).filter((c) => /this ticket waits/.test(c))).toHaveLength(1);
  });
});

describe('a chat Teams no longer knows (404 Conversation not found)', () => {
  it('is opened anew for the next message, which reaches the user there, and the ticket follows the new chat', async () => {
    const h = createHarness();
    h.model.push(continueAnswer('First step: restart Outlook.'));
    await h.engine.startTicket(makeTicket({ id: 70 }));
    h.chat.gone.add('a:chat-aad-megan');

    h.model.push(continueAnswer('Then check the yellow banner.'));
    await h.say('restarted, still no mail');

    const record = await h.store.getConversation(70);
    expect(record?.chatConversationId).not.toBe('a:chat-aad-megan');
    expect(h.chat.texts(record!.chatConversationId!)).toEqual(['Then check the yellow banner.']);
    expect(record?.chatOutbox ?? []).toEqual([]);
  });

  it('does not hold a new ticket of the same user: its card opens the chat anew', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 71 }));
    await h.engine.onTicketChanged?.(makeTicket({ id: 71, status: 'Closed' }));
    h.chat.gone.add('a:chat-aad-megan');

    h.model.push(continueAnswer('Which printer is it?'));
    expect(await h.engine.startTicket(makeTicket({ id: 72, title: 'Printer jammed' }))).toBe('started');
    const record = await h.store.getConversation(72);
    expect(record).toMatchObject({ state: 'active' });
    expect(record?.chatConversationId).not.toBe('a:chat-aad-megan');
    expect(h.chat.cards('ticket_intro')).toHaveLength(2);
    expect(h.chat.texts(record!.chatConversationId!)).toEqual(['Which printer is it?']);
  });
});

describe('Atera changes during a conversation', () => {
  it('end the AI conversation when the ticket is closed in Atera', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 70 }));
    await h.engine.onTicketChanged(
      makeTicket({ id: 70, status: 'Closed', modifiedAt: '2026-11-25T09:10:00Z' }),
    );
    expect((await h.store.getConversation(70))?.state).toBe('ended_in_atera');
    expect(h.chat.texts().at(-1)).toMatch(/was closed by your IT team/);
  });

  it('end it when a human technician is assigned in Atera', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 71 }));
    await h.engine.onTicketChanged(
      makeTicket({
        id: 71,
        technician: { contactId: 7, email: 'dana.tech@msp.example', fullName: 'Dana Tech' },
      }),
    );
    expect((await h.store.getConversation(71))?.outcome?.reason).toBe('reassigned_in_atera');
  });
});

describe('an answer', () => {
  it('never reaches the user or the ticket with a secret the model let slip', async () => {
    const h = createHarness();
    const slip = `Sure! The key is sandbox-api-key-123, and ${'here is a long explanation of the next step. '.repeat(5)}`;
    h.model.push(continueAnswer(slip));
    await h.engine.startTicket(makeTicket({ id: 90 }));
    expect(h.chat.texts().join('\n')).not.toContain('sandbox-api-key-123');
    expect((await drainComments(h.store, 90)).join('\n')).not.toContain('sandbox-api-key-123');
  });

  it('is recorded (with its Atera comment) before it is sent, and sent from the record when Teams failed', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 92 }));
    h.model.push(continueAnswer('Please restart Outlook in safe mode.'));
    h.chat.sendFailures = 1;
    await h.say('Outlook still shows Disconnected');
    const record = await h.store.getConversation(92);
    expect(record?.turns.at(-1)).toMatchObject({
      role: 'assistant',
      text: 'Please restart Outlook in safe mode.',
    });
    expect(record?.chatOutbox).toHaveLength(1);
    expect(h.chat.texts()).not.toContain('Please restart Outlook in safe mode.');
    const modelCalls = h.model.requests.length;

    h.clock.advanceMinutes(1);
    await h.engine.tick();
    expect(h.chat.texts().filter((t) => t === 'Please restart Outlook in safe mode.')).toHaveLength(1);
    expect((await h.store.getConversation(92))?.chatOutbox).toEqual([]);
    expect(h.model.requests.length).toBe(modelCalls);
  });

  it('recorded but not sent when the process died is sent after the restart, without asking the model again', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 93 }));
    h.model.push(continueAnswer('Check the VPN client is connected.'));
    h.chat.sendFailures = 1; // the process "dies" as it sends: nothing reached the user
    await h.say('No mail since this morning');
    const modelCalls = h.model.requests.length;
    await h.restart().recover();
    expect(h.chat.texts().filter((t) => t === 'Check the VPN client is connected.')).toHaveLength(1);
    expect(h.model.requests.length).toBe(modelCalls);
  });

  it('to a message the user wrote while the model was working comes after the first answer, one each', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 94 }));
    const slow = h.model.hold();
    h.model.push(continueAnswer('First: restart Outlook.'), continueAnswer('Second: check the VPN.'));
    // As Teams delivers them: each call returns once the message is recorded, the model still working.
    await h.unsettled.onUserMessage(h.message('Outlook says Disconnected'));
    await slow.started;
    await h.unsettled.onUserMessage(h.message('Also the VPN icon is red'));
    slow.release();
    await h.unsettled.idle();
    const record = await h.store.getConversation(94);
    expect(record?.turns.map((t) => t.role)).toEqual(['assistant', 'user', 'user', 'assistant', 'assistant']);
    expect(record?.awaitingAnswer).toBe(false);
    expect(record?.rounds).toBe(2);
  });

  it('to a message the user wrote while the first answer was still going out is answered then, not after the lease', async () => {
    const h = createHarness();
    h.model.push(continueAnswer('First: restart Outlook.'), continueAnswer('Second: check the VPN.'));
    // The first answer reached the user; its ticket card in the technicians' thread is still being updated when
    // the user writes back.
    const updating = h.threads.holdCardUpdate();
    const starting = h.unsettled.startTicket(makeTicket({ id: 95 }));
    await updating.started;
    await h.unsettled.onUserMessage(h.message('Outlook says Disconnected'));
    await h.unsettled.idle(); // the message's own work has run (and found the ticket busy with the first answer)
    updating.release();
    await starting;
    await h.unsettled.idle();
    // No tick ran: the work busy with the first answer answered the message too.
    expect(h.chat.texts()).toEqual(['First: restart Outlook.', 'Second: check the VPN.']);
    const record = await h.store.getConversation(95);
    expect(record?.turns.map((t) => t.role)).toEqual(['assistant', 'user', 'assistant']);
    expect(record?.awaitingAnswer).toBe(false);
  });
});

describe('the user decides, whatever the model writes', () => {
  it('plain words that say it works lead to “is it fixed?”, and “yes” resolves — with a model that never writes the format', async () => {
    const h = createHarness();
    h.desk.add(makeTicket({ id: 98 }));
    h.model.push('Have you tried restarting Outlook?');
    await h.engine.startTicket(makeTicket({ id: 98 }));
    h.model.push('Glad to hear it. Anything else?');
    const modelCalls = h.model.requests.length;
    await h.say('Yes, it’s fixed now, thank you');
    expect((await h.store.getConversation(98))?.state).toBe('awaiting_confirmation');
    expect(h.chat.cards('confirm_fix')).toHaveLength(1);
    expect(h.model.requests.length).toBe(modelCalls);
    await h.say('yes');
    expect((await h.store.getConversation(98))?.state).toBe('resolved');
    expect(h.desk.changes.at(-1)).toMatchObject({ ticketId: 98, change: { status: 'Resolved' } });
  });

  it.each([
    ['works now', 'en'],
    ['das geht wieder, danke', 'de'],
    ['ça marche maintenant', 'fr'],
    ['ya funciona, gracias', 'es'],
  ])('“%s” (%s) asks for the confirmation', async (words) => {
    const h = createHarness();
    h.model.push('Try restarting the app.');
    await h.engine.startTicket(makeTicket({ id: 99 }));
    await h.say(words);
    expect((await h.store.getConversation(99))?.state).toBe('awaiting_confirmation');
  });

  it('“not fixed” and “still broken” are rounds for the model, not confirmations', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 100 }));
    await h.say('it is not fixed');
    await h.say('still not working');
    const record = await h.store.getConversation(100);
    expect(record?.state).toBe('active');
    expect(record?.rounds).toBe(2);
  });

  it('nothing the model writes resolves the ticket on its own', async () => {
    const h = createHarness();
    h.model.push(resolvedAnswer('I have resolved your ticket. It is fixed now.'));
    await h.engine.startTicket(makeTicket({ id: 101 }));
    expect((await h.store.getConversation(101))?.state).toBe('awaiting_confirmation');
    expect(h.desk.changes.filter((c) => c.ticketId === 101 && c.change.status === 'Resolved')).toHaveLength(
      0,
    );
  });
});

describe('messages over the rate limit', () => {
  it('are kept on the ticket, unanswered, and the user is told once to slow down', async () => {
    const h = createHarness({ settings: { userMessagesPerMinute: 2 } });
    await h.engine.startTicket(makeTicket({ id: 102 }));
    await drainComments(h.store, 102);
    for (let i = 1; i <= 5; i++) await h.say(`message ${i}`);
    const comments = await drainComments(h.store, 102);
    for (let i = 1; i <= 5; i++) expect(comments.filter((c) => c.includes(`message ${i}`))).toHaveLength(1);
    expect(h.chat.texts().filter((t) => /faster than I can read/.test(t))).toHaveLength(1);
    expect((await h.store.getConversation(102))?.rounds).toBe(2);
  });
});

describe('several instances on one store', () => {
  it('answer a message whose instance died before answering, once its lease ran out — not before', async () => {
    const h = createHarness({ settings: { exclusiveStore: false, instanceId: 'b', answerLeaseMs: 60_000 } });
    await h.engine.startTicket(makeTicket({ id: 95 }));
    // Instance "a" recorded the user's message, then died before the model answered.
    await h.store.update(95, (c) => ({
      conversation: {
        ...c!,
        rounds: 1,
        awaitingAnswer: true,
        answerLease: { by: 'a', until: new Date(h.clock.now().getTime() + 60_000).toISOString() },
        turns: [
          ...c!.turns,
          {
            seq: c!.turns.length + 1,
            role: 'user',
            text: 'Still broken',
            at: c!.createdAt,
            inboundId: 'act-lost',
          },
        ],
      },
      result: undefined,
    }));
    h.model.push(continueAnswer('Let’s try the web version of Outlook.'));
    await h.say('Still broken', { activityId: 'act-lost' }); // Teams redelivers to instance "b"
    expect((await h.store.getConversation(95))?.awaitingAnswer).toBe(true); // "a" may still be answering

    h.clock.advanceMinutes(2);
    await h.say('Still broken', { activityId: 'act-lost' });
    const record = await h.store.getConversation(95);
    expect(record?.awaitingAnswer).toBe(false);
    expect(h.chat.texts().at(-1)).toBe('Let’s try the web version of Outlook.');
    expect(record?.turns.filter((t) => t.role === 'assistant')).toHaveLength(2);
  });

  it('answer it from the tick when nobody redelivers it', async () => {
    const h = createHarness({ settings: { exclusiveStore: false, instanceId: 'b', answerLeaseMs: 60_000 } });
    await h.engine.startTicket(makeTicket({ id: 96 }));
    await h.store.update(96, (c) => ({
      conversation: {
        ...c!,
        rounds: 1,
        awaitingAnswer: true,
        answerLease: { by: 'a', until: new Date(h.clock.now().getTime() + 60_000).toISOString() },
        turns: [...c!.turns, { seq: c!.turns.length + 1, role: 'user', text: 'Hello?', at: c!.createdAt }],
      },
      result: undefined,
    }));
    h.model.push(continueAnswer('Sorry for the wait.'));
    await h.engine.tick();
    expect((await h.store.getConversation(96))?.awaitingAnswer).toBe(true);
    h.clock.advanceMinutes(2);
    await h.engine.tick();
    expect(h.chat.texts().at(-1)).toBe('Sorry for the wait.');
  });
});

describe('several instances sending to one chat', () => {
  it('a message another instance is still sending is not sent again until that instance’s send lease ran out', async () => {
    const h = createHarness({
      settings: { exclusiveStore: false, instanceId: 'b', chatSendLeaseMs: 100_000 },
    });
    await h.engine.startTicket(makeTicket({ id: 94 }));
    // Instance "a" recorded a notice 20 s ago and is still sending it: Teams is slow to take it.
    const recordedAt = new Date(h.clock.now().getTime() - 20_000).toISOString();
    await h.store.update(94, (c) => ({
      conversation: {
        ...c!,
        chatOutbox: [
          { id: 'm-a-1', at: recordedAt, body: { notice: 'Your ticket is with the service desk.' } },
        ],
        chatLease: { by: 'a', until: new Date(h.clock.now().getTime() + 80_000).toISOString() },
      },
      result: undefined,
    }));
    const sentBy = () => h.chat.texts().filter((t) => t === 'Your ticket is with the service desk.').length;

    await h.engine.tick();
    expect(sentBy()).toBe(0);

    // "a" died mid-send: once its lease ran out, "b" sends the recorded message, once, and lets the lease go.
    h.clock.advanceMinutes(2);
    await h.engine.tick();
    await h.engine.tick();
    expect(sentBy()).toBe(1);
    const record = await h.store.getConversation(94);
    expect(record?.chatOutbox).toEqual([]);
    expect(record?.chatLease).toBeNull();
  });

  it('the write that records a message claims its sending: a shared store costs no extra write per turn', async () => {
    const writesPerTurn = async (settings: Partial<EngineSettings>) => {
      const h = createHarness({ settings });
      await h.engine.startTicket(makeTicket({ id: 92 }));
      const update = h.store.update.bind(h.store);
      let writes = 0;
      h.store.update = (ticketId, change) => {
        writes += 1;
        return update(ticketId, change);
      };
      h.model.push(continueAnswer('Try signing out of Outlook and in again.'));
      await h.say('It still asks for my password');
      expect(h.chat.texts().at(-1)).toBe('Try signing out of Outlook and in again.');
      return { writes, lease: (await h.store.getConversation(92))?.chatLease ?? null };
    };
    const alone = await writesPerTurn({});
    const shared = await writesPerTurn({ exclusiveStore: false, instanceId: 'a', chatSendLeaseMs: 100_000 });
    expect(shared.writes).toBe(alone.writes);
    expect(shared.lease).toBeNull(); // let go once everything was sent
  });

  it('a send that failed keeps the instance’s lease, and the same instance tries again on its next tick', async () => {
    const h = createHarness({
      settings: { exclusiveStore: false, instanceId: 'b', chatSendLeaseMs: 100_000 },
    });
    await h.engine.startTicket(makeTicket({ id: 93 }));
    const recordedAt = new Date(h.clock.now().getTime() - 20_000).toISOString();
    await h.store.update(93, (c) => ({
      conversation: {
        ...c!,
        chatOutbox: [{ id: 'm-b-1', at: recordedAt, body: { notice: 'Back in a moment.' } }],
      },
      result: undefined,
    }));
    h.chat.sendFailures = 1;
    await h.engine.tick();
    expect((await h.store.getConversation(93))?.chatLease).toMatchObject({ by: 'b' });
    expect(h.chat.texts()).not.toContain('Back in a moment.');

    await h.engine.tick();
    expect(h.chat.texts().filter((t) => t === 'Back in a moment.')).toHaveLength(1);
  });
});

describe('after a hand-over', () => {
  it('what the user writes in the same chat is added to the ticket and its thread for the technician, unanswered by the AI', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 97 }));
    await h.say('I want to talk to a technician please');
    expect((await h.store.getConversation(97))?.state).toBe('escalated');
    await drainComments(h.store, 97);
    const modelCalls = h.model.requests.length;

    await h.say('The error code on screen is 0x800CCC0E');
    expect(await drainComments(h.store, 97)).toEqual([
      expect.stringMatching(/after the hand-over\):\n.*0x800CCC0E/),
    ]);
    expect(h.model.requests.length).toBe(modelCalls);
    expect(h.chat.texts().at(-1)).toMatch(/added this to ticket #97/);
    const posts = h.threads.threads[0]!.posts.map((p) => p.message);
    expect(posts.at(-1)).toMatchObject({ text: 'The error code on screen is 0x800CCC0E' });
  });

  it('a redelivered message after the hand-over is written to the ticket once and acknowledged once', async () => {
    const h = createHarness();
    await h.engine.startTicket(makeTicket({ id: 103 }));
    await h.say('Get me a technician');
    await drainComments(h.store, 103);
    await h.say('It also beeps', { activityId: 'after-1' });
    await h.say('It also beeps', { activityId: 'after-1' });
    expect((await drainComments(h.store, 103)).filter((c) => c.includes('It also beeps'))).toHaveLength(1);
    expect(h.chat.texts().filter((t) => /added this to ticket #103/.test(t))).toHaveLength(1);
  });
});
