/**
 * What technicians and end users write on the ticket in Atera comes back to the Teams chat (engine over in-memory
 * ports; test/e2e/atera-replies.test.ts plays the same over real HTTP).
 */
import { describe, expect, it } from 'vitest';
import { commentKey, withoutQuotedReply } from '../../../src/engine/atera-replies.js';
import { continueAnswer, makeTicket } from '../../support/in-memory-ports.js';
import { until } from '../../support/waiting.js';
import { createHarness, drainComments } from './engine-harness.js';

const dana = { author: 'technician' as const, authorEmail: 'dana.tech@msp.example', authorName: 'Dana Tech' };
const megan = {
  author: 'end_user' as const,
  authorEmail: 'megan.bowen@contoso.example',
  authorName: 'Megan Bowen',
};

async function started(id: number) {
  const h = createHarness();
  h.desk.add(makeTicket({ id }));
  h.model.push(continueAnswer('Please restart Outlook.'));
  await h.engine.startTicket(makeTicket({ id }));
  return h;
}

describe('the watcher showing a ticket again', () => {
  it('costs no Atera call while the ticket is exactly as it was handled', async () => {
    const h = await started(205);
    const changed = h.desk.write(205, { ...dana, text: 'Looking into it.', internal: true });
    const before = h.desk.listCommentCalls;
    for (let poll = 0; poll < 5; poll++) await h.engine.onTicketChanged(changed); // the minute of overlap
    expect(h.desk.listCommentCalls - before).toBe(1);
  });

  it('reads the comments again when Atera refused them the first time, and relays the reply once', async () => {
    const h = await started(206);
    const changed = h.desk.write(206, { ...dana, text: 'I reset your mailbox.', internal: false });
    h.desk.listCommentFailures = 1;
    await h.engine.onTicketChanged(changed);
    expect(h.chat.texts().join('\n')).not.toContain('reset your mailbox');

    await h.engine.onTicketChanged(changed); // the next poll, same ticket
    await h.engine.onTicketChanged(changed);
    const shown = h.chat.texts().filter((t) => t.includes('reset your mailbox'));
    expect(shown).toHaveLength(1);
  });
});

describe('tickets from the watcher’s feed', () => {
  it('do not hold the poll while the comments wait for Atera, and the newest version is handled next', async () => {
    const h = await started(207);
    const read = h.desk.listComments.bind(h.desk);
    let release = () => {};
    const atera = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    h.desk.listComments = async (id) => {
      reads += 1;
      await atera; // the read waits behind a backlog of comments in Atera's budget
      return read(id);
    };
    // The poll hands the ticket over and goes on (nothing to wait for); its comments are read in the background.
    h.unsettled.ticketNoticed(h.desk.write(207, { ...dana, text: 'First reply.', internal: false }));
    await until('the comments read', () => reads === 1);
    h.unsettled.ticketNoticed(h.desk.write(207, { ...dana, text: 'Second reply.', internal: false }));
    h.unsettled.ticketNoticed(h.desk.write(207, { ...dana, text: 'Third reply.', internal: false }));
    expect(reads).toBe(1); // the later versions wait for the one in hand

    release();
    await h.engine.idle();
    expect(reads).toBe(2); // the newest version, not each one in between
    for (const text of ['First reply.', 'Second reply.', 'Third reply.']) {
      expect(h.chat.texts().filter((t) => t === text)).toHaveLength(1);
    }
  });
});

describe('a technician’s public reply in Atera', () => {
  it('reaches the user once with the technician’s name, pauses the AI and shows in the thread', async () => {
    const h = await started(200);
    const changed = h.desk.write(200, {
      ...dana,
      text: 'I reset your mailbox, please try again.',
      internal: false,
    });
    await h.engine.onTicketChanged(changed);
    await h.engine.onTicketChanged(changed); // the watcher's overlap shows it again
    await h.engine.onTicketChanged({ ...changed, modifiedAt: new Date().toISOString() }); // and a later change

    const shown = h.chat.sent.filter(
      (s) => s.message.kind === 'text' && s.message.text.includes('reset your mailbox'),
    );
    expect(shown).toHaveLength(1);
    expect(shown[0]!.message).toMatchObject({ speaker: 'Dana Tech' });
    expect((await h.store.getConversation(200))?.state).toBe('paused');
    expect(h.chat.texts().some((t) => /Dana Tech from your IT team has answered/.test(t))).toBe(true);
    expect(JSON.stringify(h.threads.threads[0]!.posts)).toContain('reset your mailbox');
    // Nothing of it is written back to Atera: it is there already.
    expect((await drainComments(h.store, 200)).filter((c) => c.includes('reset your mailbox'))).toEqual([]);
  });

  it('an internal note stays in Atera', async () => {
    const h = await started(201);
    const changed = h.desk.write(201, {
      ...dana,
      text: 'Mailbox quota is full, check licence.',
      internal: true,
    });
    await h.engine.onTicketChanged(changed);
    expect(h.chat.texts().join('\n')).not.toContain('quota');
    expect((await h.store.getConversation(201))?.state).toBe('active');
  });
});

describe('the user’s reply by e-mail in Atera', () => {
  it('is shown in the chat and answered like a chat message, counting as a round', async () => {
    const h = await started(202);
    h.model.push(continueAnswer('Thanks — then let’s check the VPN.'));
    const changed = h.desk.write(202, {
      ...megan,
      text: 'I restarted Outlook, same problem.\n\nOn Tue, 1 Dec 2026 TicketZero wrote:\n> Please restart Outlook.',
      internal: false,
    });
    await h.engine.onTicketChanged(changed);
    await h.engine.onTicketChanged(changed);
    const texts = h.chat.texts();
    expect(texts.filter((t) => t === 'You wrote by e-mail: I restarted Outlook, same problem.')).toHaveLength(
      1,
    );
    expect(texts.filter((t) => t === 'Thanks — then let’s check the VPN.')).toHaveLength(1);
    expect((await h.store.getConversation(202))?.rounds).toBe(1);
  });

  it('that repeats what the user wrote in Teams is not answered twice', async () => {
    const h = await started(203);
    await h.say('The status bar says Disconnected');
    const calls = h.model.requests.length;
    const changed = h.desk.write(203, {
      ...megan,
      text: 'The status bar says Disconnected',
      internal: false,
    });
    await h.engine.onTicketChanged(changed);
    expect(h.model.requests.length).toBe(calls);
    expect(h.chat.texts().join('\n')).not.toContain('You wrote by e-mail');
  });

  it('after a hand-over reaches the thread for the technician, unanswered by the AI', async () => {
    const h = await started(204);
    await h.say('Please get me a technician');
    const calls = h.model.requests.length;
    const changed = h.desk.write(204, { ...megan, text: 'My phone number is 555-0100', internal: false });
    await h.engine.onTicketChanged(changed);
    expect(h.model.requests.length).toBe(calls);
    expect(JSON.stringify(h.threads.threads[0]!.posts)).toContain('555-0100');
  });
});

describe('what is never relayed', () => {
  it('TicketZero’s own comments, and comments that were on the ticket before it took the ticket', async () => {
    const h = createHarness();
    const before = makeTicket({ id: 205, modifiedAt: '2026-11-25T09:00:00.000Z' });
    h.desk.add(before);
    h.desk.write(205, {
      ...dana,
      text: 'Old note from yesterday',
      internal: false,
      date: '2026-11-25T09:00:00.000Z',
    });
    await h.engine.startTicket(h.desk.tickets.get(205)!);
    await h.engine.onTicketChanged({ ...h.desk.tickets.get(205)!, modifiedAt: new Date().toISOString() });
    expect(h.chat.texts().join('\n')).not.toContain('Old note');
    // Its own comments (the first answer, the start note) did not come back either.
    expect(h.chat.texts()).toHaveLength(1);
    expect((await h.store.getConversation(205))?.state).toBe('active');
  });
});

describe('status and priority changed in Atera', () => {
  it('Pending pauses the AI and tells the user; a raised priority is told; the card follows', async () => {
    const h = await started(206);
    const ticket = h.desk.tickets.get(206)!;
    await h.engine.onTicketChanged({ ...ticket, priority: 'High', modifiedAt: new Date().toISOString() });
    expect(h.chat.texts().at(-1)).toMatch(/raised the priority of ticket #206 to High/);
    await h.engine.onTicketChanged({
      ...ticket,
      priority: 'High',
      status: 'Pending',
      modifiedAt: new Date().toISOString(),
    });
    expect(h.chat.texts().at(-1)).toMatch(/set ticket #206 to Pending/);
    expect((await h.store.getConversation(206))?.state).toBe('paused');
  });
});

describe('comment keys and e-mail quotes', () => {
  it('give one key per comment and keep only the new part of an e-mail reply', () => {
    const c = {
      text: 'Hi',
      date: '2026-12-01T10:00:00.000Z',
      author: 'end_user' as const,
      authorEmail: null,
      internal: false,
    };
    expect(commentKey(c)).toBe(commentKey({ ...c }));
    expect(commentKey(c)).not.toBe(commentKey({ ...c, text: 'Hi!' }));
    expect(withoutQuotedReply('Works now.\n\nAm 1. Dez. 2026 schrieb TicketZero <x@y>:\n> old')).toBe(
      'Works now.',
    );
  });
});
