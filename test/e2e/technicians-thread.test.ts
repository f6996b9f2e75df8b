/**
 * The ticket's thread in the technicians' channel, over real HTTP: one thread per ticket TicketZero takes, the
 * ticket card at its top updated in place as the state changes, every turn of the end user's conversation mirrored
 * under it, and escalations that @mention the assigned technician with the AI's summary.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TEAMS_USERS, TECH_TEAM } from '../../src/sandboxes/local-stack.js';
import { eventually, startTicketZero, type RunningTicketZero } from './support/running-ticketzero.js';
import {
  ateraComment,
  cardFact,
  cardShows,
  chatShows,
  chatWith,
  newTicket,
  threadCard,
  threadOf,
  threadReplies,
  threadReply,
  threadTexts,
} from './support/technicians-channel.js';

const { megan, dana, sam } = TEAMS_USERS;

let running: RunningTicketZero | null = null;
afterEach(async () => {
  await running?.close();
  running = null;
});

describe('the ticket’s thread', () => {
  it('opens with the ticket’s card, and mirrors each turn of the user’s conversation under it, long texts folded', async () => {
    running = await startTicketZero({ technicians: true });
    const r = running;
    const ticket = newTicket(r, { title: 'VPN drops every few minutes', priority: 'High' });
    const thread = await threadOf(r, ticket, TECH_TEAM);
    expect(thread.conversationId).toMatch(/^19:technicians@thread\.tacv2;messageid=\d+$/);

    const card = await cardShows(r, thread, 'AI is talking with the user');
    expect(card.body?.[0]?.text).toBe(`Ticket #${ticket.number}: VPN drops every few minutes`);
    expect(cardFact(card, 'Customer')).toBe('Contoso Ltd');
    expect(cardFact(card, 'End user')).toBe('Megan Bowen \\(megan.bowen@contoso.example\\)');
    expect(cardFact(card, 'Priority')).toBe('High');
    expect(cardFact(card, 'Technician')).toBe('Not assigned');
    expect(cardFact(card, 'Round')).toBe('0 of 10');

    const chat = await chatWith(r, megan.aadObjectId);
    const firstAnswer = await threadReply(r, thread, /^\*\*TicketZero \\?\(round 0\\?\):\*\* /);
    expect(firstAnswer.text).toContain((await chatShows(r, chat, 2))[1]!.slice(0, 60));

    const longReply = `I tried what you said. ${'The VPN client shows error 809 and then reconnects after a while. '.repeat(14)}`;
    await r.connector.userSays(megan, longReply, { conversationId: chat });
    const folded = await eventually(() => {
      const found = threadReplies(r, thread).find((m) =>
        JSON.stringify(m.attachments ?? []).includes('Show all'),
      );
      expect(found).toBeDefined();
      return found!;
    });
    expect(JSON.stringify(folded.attachments)).toContain('Megan Bowen');
    await threadReply(r, thread, /^\*\*TicketZero \\?\(round 1\\?\):\*\* /);
    await eventually(() => expect(cardFact(threadCard(r, thread), 'Round')).toBe('1 of 10'));
    // One thread per ticket: the reply did not open another.
    expect(
      r.connector.activities.filter(
        (a) => a.operation === 'create' && a.conversationId.startsWith(TECH_TEAM.channelId),
      ),
    ).toHaveLength(1);
  });

  it('follows the conversation to its end: waiting for the user’s confirmation, then resolved', async () => {
    running = await startTicketZero({ technicians: true });
    const r = running;
    const ticket = newTicket(r);
    const thread = await threadOf(r, ticket, TECH_TEAM);
    const chat = await chatWith(r, megan.aadObjectId);
    await r.connector.userSays(megan, 'I restarted the laptop and it works now!', { conversationId: chat });
    await cardShows(r, thread, 'Waiting for the user to confirm the fix');

    const confirm = await r.connector.waitFor(
      (a) => a.conversationId === chat && JSON.stringify(a.attachments ?? []).includes('confirm_fixed'),
    );
    await r.connector.clickAction(
      megan,
      chat,
      { verb: 'confirm_fixed', ticketId: ticket.id },
      { replyToId: confirm.activityId },
    );
    const resolved = await cardShows(r, thread, 'Resolved');
    expect(resolved.actions?.map((a) => a.verb)).toEqual(['status']);
    await threadReply(r, thread, /^Resolved: the user confirmed the fix\.$/);
    await threadReply(r, thread, /\*\*Megan Bowen .*Yes, it’s fixed/);
  });

  it('says when the AI’s time ran out', async () => {
    running = await startTicketZero({ technicians: true });
    const r = running;
    const ticket = newTicket(r);
    const thread = await threadOf(r, ticket, TECH_TEAM);
    await chatWith(r, megan.aadObjectId);
    r.clock.advanceMinutes(31);
    await cardShows(r, thread, 'Timed out, handed to a technician');
    await threadReply(r, thread, /^Timed out: the time limit was reached\.\nProblem: VPN drops/);
  });
});

describe('an escalation', () => {
  it('@mentions the assigned technician in the thread with the AI’s summary when the user types “technician”', async () => {
    running = await startTicketZero({ technicians: true });
    const r = running;
    const ticket = newTicket(r, { title: 'Teams calls drop after a minute' });
    const thread = await threadOf(r, ticket, TECH_TEAM);
    const chat = await chatWith(r, megan.aadObjectId);
    await r.connector.teamMemberSays(sam, thread.where, 'reassign Dana');
    await eventually(() => expect(r.stack.atera.getTicket(ticket.id)?.TechnicianContactID).toBe(7));

    await r.connector.userSays(megan, 'I restarted Teams but calls still drop', { conversationId: chat });
    await threadReply(r, thread, /^\*\*TicketZero \\?\(round 1\\?\):\*\* /);
    // The app's personal command "technician" (appPackage/manifest.json): hand the ticket to a human now.
    await r.connector.userSays(megan, 'technician', { conversationId: chat });

    await cardShows(r, thread, 'Escalated to a technician');
    const mention = await threadReply(r, thread, /Escalated: the user asked for a person\./);
    expect(mention.text).toMatch(/^<at>Dana Tech<\/at> /);
    expect(mention.entities).toContainEqual({
      type: 'mention',
      text: '<at>Dana Tech</at>',
      mentioned: { id: dana.aadObjectId, name: 'Dana Tech' },
    });
    expect(mention.text).toMatch(/Problem: Teams calls drop after a minute/);
    expect(mention.text).toMatch(/Tried: .+/);
    expect(mention.text).toMatch(/User reported: I restarted Teams but calls still drop \/ technician/);
    expect(mention.text).toMatch(/Suggested next step: .+/);

    const chatNow = await chatShows(r, chat, 4);
    expect(chatNow.at(-1)).toMatch(/^\[card\].*A technician takes it from here/);
    const handover = await ateraComment(
      r,
      ticket.id,
      /handed this ticket to a technician: the user asked for a person/,
    );
    expect(handover.internal).toBe(true);
    expect(threadTexts(r, thread).filter((t) => t.includes('Escalated:'))).toHaveLength(1);
  });
});
