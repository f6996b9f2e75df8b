/**
 * Technicians steer a ticket from its thread in the technicians' channel, over real HTTP: @mention commands are
 * posted to /api/messages as Teams sends them (channel conversation id with the `;messageid=` thread suffix, the
 * bot's mention entity), card buttons arrive as Universal Actions invokes, and what changed is read back from the
 * Atera sandbox (ticket and comments), the thread (card updated in place, replies) and the user's 1:1 chat.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MSP_TENANT_ID, TEAMS_USERS, TECH_TEAM } from '../../src/sandboxes/local-stack.js';
import type { TeamsUser } from '../../src/sandboxes/connector/connector-sandbox.js';
import { eventually, startTicketZero, type RunningTicketZero } from './support/running-ticketzero.js';
import {
  ateraComment,
  cardFact,
  cardShows,
  cardState,
  cardVerbs,
  chatShows,
  chatWith,
  comments,
  newTicket,
  threadCard,
  threadOf,
  threadReply,
  threadTexts,
  type SandboxTicket,
  type TicketThread,
} from './support/technicians-channel.js';

const { megan, dana, sam } = TEAMS_USERS;
/** A technician in the team's roster who has no Atera technician account. */
const samSpade: TeamsUser = {
  id: '29:sam-spade',
  aadObjectId: 'd0000304-0000-4000-8000-000000000304',
  name: 'Sam Spade',
  tenantId: MSP_TENANT_ID,
  email: 'sam.spade@msp.example',
};

let running: RunningTicketZero | null = null;
afterEach(async () => {
  await running?.close();
  running = null;
});

interface Scene {
  r: RunningTicketZero;
  ticket: SandboxTicket;
  thread: TicketThread;
  chat: string;
}

/** TicketZero running with the technicians' channel, one ticket taken, its thread open and the first answer sent. */
async function ticketInThread(env: Record<string, string> = {}): Promise<Scene> {
  running = await startTicketZero({ technicians: true, env });
  const r = running;
  const ticket = newTicket(r);
  const thread = await threadOf(r, ticket, TECH_TEAM);
  const chat = await chatWith(r, megan.aadObjectId);
  return { r, ticket, thread, chat };
}

async function say(s: Scene, who: TeamsUser, text: string): Promise<void> {
  const delivery = await s.r.connector.teamMemberSays(who, s.thread.where, text);
  expect(delivery.status).toBe(200);
}

function botChatMessages(s: Scene): number {
  return (s.r.connector.conversation(s.chat)?.messages ?? []).length;
}

describe('reassign', () => {
  it('changes the Atera ticket’s technician, confirms in the thread, shows the technician on the card and notes who did it', async () => {
    const s = await ticketInThread();
    await say(s, dana, 'please reassign this ticket to Sam Support');

    await threadReply(s.r, s.thread, /Reassigned ticket #\d+ to Sam Support in Atera/);
    const atera = s.r.stack.atera.getTicket(s.ticket.id)!;
    expect(atera).toMatchObject({ TechnicianContactID: 8, TechnicianEmail: 'sam.support@msp.example' });
    await eventually(() => expect(cardFact(threadCard(s.r, s.thread), 'Technician')).toBe('Sam Support'));
    const audit = await ateraComment(s.r, s.ticket.id, /reassigned to Sam Support/);
    expect(audit).toEqual({ internal: true, text: expect.stringMatching(/— by Dana Tech in Teams/) });

    // By e-mail, and the AI conversation goes on (the reassignment was TicketZero's own doing).
    await say(s, sam, 'Reassign dana.tech@msp.example');
    await threadReply(s.r, s.thread, /Reassigned ticket #\d+ to Dana Tech/);
    await eventually(() => expect(s.r.stack.atera.getTicket(s.ticket.id)?.TechnicianContactID).toBe(7));
    expect(cardState(threadCard(s.r, s.thread))).toBe('AI is talking with the user');
  });

  it('asks back with the choices when a name is ambiguous, and reports a technician Atera does not know', async () => {
    running = await startTicketZero({ technicians: true });
    // The technicians' team roster is part of the directory: Sam Spade is in the team, not in TECHNICIANS_FILE.
    running.connector.addTeam({ ...TECH_TEAM, members: [dana, sam, samSpade] });
    const r = running;
    const ticket = newTicket(r);
    const thread = await threadOf(r, ticket, TECH_TEAM);
    const s: Scene = { r, ticket, thread, chat: await chatWith(r, megan.aadObjectId) };

    await say(s, dana, 'reassign sam');
    const ask = await threadReply(r, thread, /matches several technicians/);
    expect(ask.text).toContain('Sam Support (sam.support@msp.example)');
    expect(ask.text).toContain('Sam Spade (sam.spade@msp.example)');
    expect(r.stack.atera.getTicket(ticket.id)?.TechnicianContactID).toBeNull();

    await say(s, dana, 'reassign sam.spade@msp.example');
    await threadReply(r, thread, /Atera did not accept Sam Spade/);
    expect(r.stack.atera.getTicket(ticket.id)?.TechnicianContactID).toBeNull();

    await say(s, dana, 'reassign nobody-like-this');
    await threadReply(r, thread, /No technician matches “nobody-like-this”/);
  });
  it('finds technicians Atera shows on tickets (Atera has no technician list)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ticketzero-technicians-'));
    const onlyDana = join(dir, 'technicians.json');
    writeFileSync(
      onlyDana,
      JSON.stringify([{ name: 'Dana Tech', email: 'dana.tech@msp.example', ateraContactId: 7 }]),
    );
    try {
      running = await startTicketZero({ technicians: true, env: { TECHNICIANS_FILE: onlyDana } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const r = running;
    r.connector.addTeam({ ...TECH_TEAM, members: [dana] });
    const ticket = newTicket(r);
    const thread = await threadOf(r, ticket, TECH_TEAM);
    await chatWith(r, megan.aadObjectId);
    await r.connector.teamMemberSays(dana, thread.where, 'reassign Sam');
    await threadReply(r, thread, /No technician matches “Sam”/);

    // Someone assigns another ticket to Sam in Atera; TicketZero sees him there.
    const other = r.stack.atera.createTicket({
      title: 'Printer jam',
      description: 'Paper jam on floor 2.',
      customerId: 101,
    });
    const put = await fetch(`${r.stack.atera.baseUrl}/tickets/${other.TicketID}`, {
      method: 'PUT',
      headers: { 'X-API-KEY': r.stack.atera.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ TechnicianContactID: 8 }),
    });
    expect(put.status).toBe(200);

    // The next poll of Atera shows him; the reply is given within the command's turn.
    await eventually(async () => {
      await r.connector.teamMemberSays(dana, thread.where, 'reassign Sam');
      expect(threadTexts(r, thread).at(-1)).toMatch(/^Reassigned ticket #\d+ to Sam Support in Atera\.$/);
    });
    expect(r.stack.atera.getTicket(ticket.id)).toMatchObject({ TechnicianContactID: 8 });
  });
});

describe('escalate', () => {
  it('stops the AI, marks the ticket for a human in Atera as configured, and tells the user', async () => {
    const s = await ticketInThread({ ESCALATION_PRIORITY: 'Critical', ESCALATION_STATUS: 'Pending' });
    await say(s, dana, 'Escalate because the user is a VIP');

    await threadReply(s.r, s.thread, /Escalated ticket #\d+; the AI has stopped and the user was told/);
    await eventually(() =>
      expect(s.r.stack.atera.getTicket(s.ticket.id)).toMatchObject({
        TicketPriority: 'Critical',
        TicketStatus: 'Pending',
      }),
    );
    await cardShows(s.r, s.thread, 'Escalated to a technician');
    const chat = await chatShows(s.r, s.chat, 3);
    expect(chat.at(-1)).toMatch(/^\[card\].*A technician takes it from here/);
    expect(
      (await ateraComment(s.r, s.ticket.id, /escalated: the user is a VIP — by Dana Tech/)).internal,
    ).toBe(true);

    // The AI no longer answers the user.
    const asked = s.r.stack.model.requests.length;
    await s.r.connector.userSays(megan, 'Hello? Is anyone there?', { conversationId: s.chat });
    expect(s.r.stack.model.requests.length).toBe(asked);
    await say(s, dana, 'escalate');
    await threadReply(s.r, s.thread, /is already escalated/);
  });
});

describe('pause and resume', () => {
  it('hold the AI’s answers while the user’s words still reach Atera and the thread, then answer them', async () => {
    const s = await ticketInThread();
    await say(s, dana, 'PAUSE');
    await threadReply(s.r, s.thread, /Paused: the AI holds its answers/);
    await cardShows(s.r, s.thread, 'Paused by a technician');

    const before = botChatMessages(s);
    await s.r.connector.userSays(megan, 'The VPN dropped again just now', { conversationId: s.chat });
    // The turn is handled before the delivery is answered: no answer was given.
    expect(botChatMessages(s)).toBe(before);
    await threadReply(s.r, s.thread, /\*\*Megan Bowen .*The VPN dropped again just now/);
    expect((await ateraComment(s.r, s.ticket.id, /The VPN dropped again just now/)).internal).toBe(false);
    expect((await ateraComment(s.r, s.ticket.id, /paused the AI — by Dana Tech/)).internal).toBe(true);

    await say(s, sam, 'ok resume now');
    await threadReply(s.r, s.thread, /Resumed the AI/);
    await cardShows(s.r, s.thread, 'AI is talking with the user');
    await chatShows(s.r, s.chat, before + 1);
    await ateraComment(s.r, s.ticket.id, /resumed the AI — by Sam Support/);
    await ateraComment(s.r, s.ticket.id, /TicketZero \(AI assistant\)/);
  });
});

describe('take over and hand back', () => {
  it('relay the technician’s thread messages to the user, labelled with their name, and the user’s replies back', async () => {
    const s = await ticketInThread();
    await say(s, dana, 'I will take over this one');
    await threadReply(s.r, s.thread, /You have taken over/);
    await cardShows(s.r, s.thread, 'A technician has taken over');
    let chat = await chatShows(s.r, s.chat, 3);
    expect(chat.at(-1)).toBe(
      'Dana Tech, a technician from your IT team, is joining this chat and will continue with you.',
    );

    await say(s, dana, 'Hi Megan, Dana here. Could you restart the VPN client and tell me the error code?');
    await threadReply(s.r, s.thread, /Sent to Megan Bowen/);
    chat = await chatShows(s.r, s.chat, 4);
    expect(chat.at(-1)).toBe(
      '**Dana Tech:** Hi Megan, Dana here. Could you restart the VPN client and tell me the error code?',
    );
    await ateraComment(
      s.r,
      s.ticket.id,
      /Dana Tech \(technician, via TicketZero in Teams\):\nHi Megan, Dana here/,
    );

    const before = botChatMessages(s);
    await s.r.connector.userSays(megan, 'Error 809', { conversationId: s.chat });
    await threadReply(s.r, s.thread, /\*\*Megan Bowen .*Error 809/);
    expect(botChatMessages(s)).toBe(before);

    // Another technician's words are not relayed: only the one who took over speaks for TicketZero.
    await say(s, sam, 'what is going on here');
    await threadReply(s.r, s.thread, /TicketZero commands/);
    expect(botChatMessages(s)).toBe(before);

    await say(s, dana, 'hand back');
    await threadReply(s.r, s.thread, /Handed #\d+ back to the AI/);
    await cardShows(s.r, s.thread, 'AI is talking with the user');
    chat = await chatShows(s.r, s.chat, before + 1);
    expect(chat.at(-1)).toMatch(/TicketZero again/);
    await ateraComment(s.r, s.ticket.id, /took over the conversation — by Dana Tech/);
    await ateraComment(s.r, s.ticket.id, /handed the conversation back to the AI — by Dana Tech/);
  });

  it('keeps the ticket with the technician when the AI has no time left', async () => {
    const s = await ticketInThread();
    await say(s, dana, 'take over');
    await cardShows(s.r, s.thread, 'A technician has taken over');
    s.r.clock.advanceMinutes(31);
    await say(s, dana, 'hand it back');
    await threadReply(s.r, s.thread, /No AI rounds or time left on #\d+; it stays with you/);
    expect(cardState(threadCard(s.r, s.thread))).toBe('A technician has taken over');
  });
});

describe('status, help and words TicketZero does not know', () => {
  it('answer in the thread; commands are case-insensitive and tolerate extra words', async () => {
    const s = await ticketInThread();
    await say(s, sam, 'STATUS please');
    const status = await threadReply(s.r, s.thread, /^Ticket #\d+ — VPN drops/);
    expect(status.text).toMatch(/State: active/);
    expect(status.text).toMatch(/User: Megan Bowen/);
    expect(status.text).toMatch(/Round 0 of 10, 30 min left/);

    await say(s, sam, 'Help');
    await say(s, sam, 'what can you do for me');
    await eventually(() =>
      expect(threadTexts(s.r, s.thread).filter((t) => t.startsWith('TicketZero commands'))).toHaveLength(2),
    );
    const help = threadTexts(s.r, s.thread).find((t) => t.startsWith('TicketZero commands'))!;
    for (const command of ['reassign', 'escalate', 'pause / resume', 'take over', 'hand back', 'status'])
      expect(help).toContain(command);
    await ateraComment(s.r, s.ticket.id, /checked the status — by Sam Support/);
  });

  it('find the ticket by its number anywhere in the channel', async () => {
    const s = await ticketInThread();
    // A new top-level post in the channel (its own `;messageid=`), not the ticket's thread.
    const post = await s.r.connector.teamMemberSays(dana, TECH_TEAM, `pause ticket #${s.ticket.number}`);
    expect(post.conversationId).not.toBe(s.thread.conversationId);
    await eventually(() =>
      expect(s.r.connector.conversation(post.conversationId)?.messages.map((m) => m.text)).toContainEqual(
        expect.stringMatching(/^Paused/),
      ),
    );
    await cardShows(s.r, s.thread, 'Paused by a technician');

    const elsewhere = await s.r.connector.teamMemberSays(dana, TECH_TEAM, 'status');

    await eventually(() =>
      expect(
        s.r.connector.conversation(elsewhere.conversationId)?.messages.map((m) => m.text),
      ).toContainEqual(expect.stringMatching(/^Which ticket\?/)),
    );
    const unknown = await s.r.connector.teamMemberSays(dana, TECH_TEAM, 'status #999999');
    await eventually(() =>
      expect(s.r.connector.conversation(unknown.conversationId)?.messages.map((m) => m.text)).toContainEqual(
        'I don’t know ticket #999999.',
      ),
    );
  });
});

describe('several tickets at once', () => {
  it('each command acts on the ticket of the thread it is said in', async () => {
    running = await startTicketZero({ technicians: true });
    const r = running;
    const first = newTicket(r);
    const second = newTicket(r, {
      title: 'Drucker im zweiten Stock druckt nicht',
      description: 'Der Drucker zeigt einen Papierstau an.',
      email: TEAMS_USERS.lukas.email,
    });
    const firstThread = await threadOf(r, first, TECH_TEAM);
    const secondThread = await threadOf(r, second, TECH_TEAM);
    expect(secondThread.conversationId).not.toBe(firstThread.conversationId);
    await chatWith(r, megan.aadObjectId);
    await chatWith(r, TEAMS_USERS.lukas.aadObjectId);

    await r.connector.teamMemberSays(dana, firstThread.where, 'pause');
    await cardShows(r, firstThread, 'Paused by a technician');
    expect(cardState(threadCard(r, secondThread))).toBe('AI is talking with the user');
    await r.connector.teamMemberSays(dana, secondThread.where, 'take over');
    await cardShows(r, secondThread, 'A technician has taken over');
    expect(cardState(threadCard(r, firstThread))).toBe('Paused by a technician');
  });
});

describe('the thread card’s buttons', () => {
  async function press(s: Scene, who: TeamsUser, verb: string): Promise<{ card: unknown; state: string }> {
    const response = (await s.r.connector.clickAction(
      who,
      s.thread.conversationId,
      { verb, ticketId: s.ticket.id },
      { replyToId: s.thread.rootId },
    )) as { statusCode: number; type: string; value: { body?: Array<{ text?: string }> } };
    expect(response).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    return { card: response.value, state: response.value.body?.[1]?.text ?? '' };
  }

  it('run the same commands, answer with the refreshed card and update it in the thread for everyone', async () => {
    const s = await ticketInThread();
    expect(cardVerbs(threadCard(s.r, s.thread))).toEqual(['pause', 'take_over', 'escalate', 'status']);

    expect((await press(s, dana, 'pause')).state).toBe('Paused by a technician');
    const paused = await cardShows(s.r, s.thread, 'Paused by a technician');
    expect(cardVerbs(paused)).toEqual(['resume', 'take_over', 'escalate', 'status']);

    expect((await press(s, sam, 'resume')).state).toBe('AI is talking with the user');
    await cardShows(s.r, s.thread, 'AI is talking with the user');

    expect((await press(s, dana, 'take_over')).state).toBe('A technician has taken over');
    expect(cardVerbs(await cardShows(s.r, s.thread, 'A technician has taken over'))).toContain('hand_back');
    await chatShows(s.r, s.chat, 3);

    expect((await press(s, dana, 'hand_back')).state).toBe('AI is talking with the user');
    expect((await press(s, dana, 'status')).state).toBe('AI is talking with the user');

    expect((await press(s, sam, 'escalate')).state).toBe('Escalated to a technician');
    expect(cardVerbs(await cardShows(s.r, s.thread, 'Escalated to a technician'))).toEqual(['status']);

    const audits = comments(s.r, s.ticket.id).filter((c) =>
      / — by (Dana Tech|Sam Support) in Teams/.test(c.text),
    );
    await eventually(() =>
      expect(
        comments(s.r, s.ticket.id)
          .filter((c) => / — by (Dana Tech|Sam Support) in Teams/.test(c.text))
          .map((c) => c.text.replace(/^TicketZero: (.*?) — by (.*?) in Teams[^]*$/, '$1 / $2')),
      ).toEqual([
        'paused the AI / Dana Tech',
        'resumed the AI / Sam Support',
        'took over the conversation / Dana Tech',
        'handed the conversation back to the AI / Dana Tech',
        'escalated / Sam Support',
      ]),
    );
    expect(audits.every((c) => c.internal)).toBe(true);
  });
});
