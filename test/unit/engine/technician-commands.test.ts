import { describe, expect, it } from 'vitest';
import type { TechnicianCommand, TechnicianIdentity } from '../../../src/ports/support-engine.js';
import { continueAnswer, makeTicket } from '../../support/in-memory-ports.js';
import { createHarness, drainComments, type Harness } from './engine-harness.js';

const dana: TechnicianIdentity = {
  userId: 'aad-dana',
  name: 'Dana Tech',
  email: 'dana.tech@msp.example',
  tenantId: 'msp',
};

async function withTicket(id = 80): Promise<{ h: Harness; threadId: string }> {
  const h = createHarness();
  h.technicians.members.add(dana.userId);
  h.technicians.list.push(
    { name: 'Dana Tech', email: 'dana.tech@msp.example', ateraContactId: 7, userId: 'aad-dana' },
    { name: 'Sam Support', email: 'sam.support@msp.example', ateraContactId: 8, userId: 'aad-sam' },
    { name: 'Sam Spade', email: 'sam.spade@msp.example', ateraContactId: 9, userId: null },
  );
  h.desk.add(makeTicket({ id }));
  await h.engine.startTicket(makeTicket({ id }));
  const threadId = h.threads.threads[0]!.thread.threadId;
  return { h, threadId };
}

function command(text: string, conversationId: string, from: TechnicianIdentity = dana): TechnicianCommand {
  return { from, conversationId, teamId: 'team-1', channelId: 'chan-1', text, mentions: [] };
}

describe('technicians in the ticket’s thread', () => {
  it('see a thread with the ticket card when TicketZero takes a ticket, updated as rounds go', async () => {
    const { h } = await withTicket();
    await h.say('It still asks for the password');
    const thread = h.threads.threads[0]!;
    expect(thread.cards[0]).toMatchObject({
      kind: 'ticket_thread',
      ticket: { ticketId: 80, phase: 'talking' },
    });
    expect(thread.cards.at(-1)).toMatchObject({ ticket: { round: 1, maxRounds: 10 } });
    expect(thread.posts.map((p) => p.message)).toContainEqual({
      kind: 'text',
      text: 'It still asks for the password',
      speaker: 'Megan Bowen (round 1)',
      literal: true,
    });
  });

  it('reassign the ticket by name, and every command is written to Atera with who did it', async () => {
    const { h, threadId } = await withTicket();
    const reply = await h.engine.onTechnicianCommand(command('please reassign to Sam Support', threadId));
    expect(reply).toMatchObject({ text: 'Reassigned ticket #80 to Sam Support in Atera.' });
    expect(h.desk.changes.at(-1)).toEqual({
      ticketId: 80,
      change: { technicianEmail: 'sam.support@msp.example', technicianContactId: 8 },
    });
    expect((await drainComments(h.store, 80)).at(-1)).toMatch(
      /reassigned to Sam Support .* — by Dana Tech in Teams/,
    );
  });

  it('ask back when a name is ambiguous', async () => {
    const { h, threadId } = await withTicket();
    const reply = await h.engine.onTechnicianCommand(command('reassign sam', threadId));
    expect(reply).toMatchObject({
      text: expect.stringMatching(/matches several technicians: Sam Support .*Sam Spade/),
    });
    expect(h.desk.changes).toHaveLength(0);
  });

  it('escalate: the AI stops and the user is told', async () => {
    const { h, threadId } = await withTicket();
    await h.engine.onTechnicianCommand(command('escalate user is a VIP', threadId));
    const record = await h.store.getConversation(80);
    expect(record?.outcome).toMatchObject({ kind: 'escalated', reason: 'technician', by: 'Dana Tech' });
    expect(h.chat.cards('handover_notice')).toHaveLength(1);
  });

  it('pause holds the AI while the user’s words still reach Atera and the thread; resume answers', async () => {
    const { h, threadId } = await withTicket();
    await h.engine.onTechnicianCommand(command('pause', threadId));
    const before = h.model.requests.length;
    await h.say('hello? it is still broken');
    expect(h.model.requests.length).toBe(before);
    expect((await drainComments(h.store, 80)).some((c) => /hello\? it is still broken/.test(c))).toBe(true);
    h.model.push(continueAnswer('Sorry for the wait — let’s continue.'));
    await h.engine.onTechnicianCommand(command('resume', threadId));
    expect(h.chat.texts().at(-1)).toBe('Sorry for the wait — let’s continue.');
  });

  it('take over relays the technician’s words to the user and the user’s back to the thread; hand back returns to the AI', async () => {
    const { h, threadId } = await withTicket();
    await h.engine.onTechnicianCommand(command('I will take over', threadId));
    expect(h.chat.texts().at(-1)).toMatch(/Dana Tech, a technician from your IT team, is joining/);
    await h.engine.onTechnicianCommand(command('Hi Megan, can you send me a screenshot?', threadId));
    expect(h.chat.sent.at(-1)?.message).toEqual({
      kind: 'text',
      text: 'Hi Megan, can you send me a screenshot?',
      speaker: 'Dana Tech',
    });
    await h.say('Sure, one moment');
    expect(h.threads.threads[0]!.posts.at(-1)?.message).toMatchObject({
      text: 'Sure, one moment',
      speaker: expect.stringMatching(/^Megan Bowen/),
    });
    await h.engine.onTechnicianCommand(command('hand back', threadId));
    expect((await h.store.getConversation(80))?.state).toBe('active');
  });

  it('status names the state and round', async () => {
    const { h, threadId } = await withTicket();
    const reply = await h.engine.onTechnicianCommand(command('STATUS please', threadId));
    expect(reply).toMatchObject({
      text: expect.stringMatching(/Ticket #80[\s\S]*State: active[\s\S]*Round 0 of 10/),
    });
  });

  it('anywhere in the channel with a ticket number', async () => {
    const { h } = await withTicket();
    const reply = await h.engine.onTechnicianCommand(command('status #80', '19:tech@thread.tacv2'));
    expect(reply).toMatchObject({ text: expect.stringMatching(/Ticket #80/) });
  });

  it('an unknown command gets help', async () => {
    const { h, threadId } = await withTicket();
    const reply = await h.engine.onTechnicianCommand(command('make me a sandwich', threadId));
    expect(reply).toMatchObject({ text: expect.stringMatching(/TicketZero commands/) });
  });
});

describe('who may give commands', () => {
  it('refuses someone who is not a technician, and nothing changes', async () => {
    const { h, threadId } = await withTicket();
    const megan = { userId: 'aad-megan', name: 'Megan Bowen', email: null, tenantId: 'contoso' };
    const reply = await h.engine.onTechnicianCommand(command('escalate now', threadId, megan));
    expect(reply).toMatchObject({ text: expect.stringMatching(/Only members of the technicians’ team/) });
    expect((await h.store.getConversation(80))?.state).toBe('active');
  });

  it('an end user typing a command in their 1:1 chat only talks to the assistant', async () => {
    const { h } = await withTicket();
    await h.say('reassign #80 to Sam Support and set the priority to Critical');
    expect(h.desk.changes).toHaveLength(0);
    expect((await h.store.getConversation(80))?.state).toBe('active');
  });
});
