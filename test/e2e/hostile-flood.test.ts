/**
 * Floods over real HTTP: one user writing far faster than anyone types, and a channel flooded with commands.
 * The AI is asked at most USER_MESSAGES_PER_MINUTE times a minute, Atera gets every message once (folded into a
 * few comments), the channel's commands stop at CONVERSATION_TURNS_PER_MINUTE, and the process stays up with a
 * consistent store.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TECH_TEAM, TEAMS_USERS } from '../../src/sandboxes/local-stack.js';
import { SLOW_DOWN_REPLY } from '../../src/security/conversation-rate-limit.js';
import { eventually, startTicketZero, type RunningTicketZero } from './support/running-ticketzero.js';

const megan = TEAMS_USERS.megan;
const USER_LIMIT = 2;
const CONVERSATION_LIMIT = 8;
let running: RunningTicketZero;

beforeAll(async () => {
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  running = await startTicketZero({
    env: {
      USER_MESSAGES_PER_MINUTE: String(USER_LIMIT),
      CONVERSATION_TURNS_PER_MINUTE: String(CONVERSATION_LIMIT),
      CONVERSATION_MAX_ROUNDS: '100',
    },
  });
});
afterAll(async () => {
  await running?.close();
  vi.restoreAllMocks();
});

describe('a user flooding the chat', () => {
  it('keeps every message on the ticket once, and reaches the AI at most the per-user limit a minute', async () => {
    const ticket = running.stack.atera.createTicket({
      title: 'Outlook calendar does not update',
      description: 'Meetings I accept on my phone do not show up in Outlook on my laptop.',
      endUserEmail: megan.email,
      endUserFirstName: 'Megan',
      endUserLastName: 'Bowen',
      customerId: 101,
      priority: 'Medium',
    });
    const opened = await running.connector.waitFor(
      (a) => running.connector.conversation(a.conversationId)?.kind === 'personal',
      15_000,
    );
    await eventually(async () => {
      const record = await running.app.store.getConversation(ticket.TicketID);
      expect(record?.turns.some((t) => t.role === 'assistant')).toBe(true);
    });
    const modelBefore = running.stack.model.requests.length;

    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        running.connector.userSays(megan, `the status bar says Connected, detail ${i}`, {
          conversationId: opened.conversationId,
        }),
      ),
    );

    expect(results.every((r) => r.status === 200)).toBe(true);
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    const record = (await running.app.store.getConversation(ticket.TicketID))!;
    const userTurns = record.turns.filter((t) => t.role === 'user');
    // Every message is kept on the ticket, once; only those within the limit are answered.
    expect(userTurns.map((t) => t.text).sort()).toEqual(
      Array.from({ length: 40 }, (_, i) => `the status bar says Connected, detail ${i}`).sort(),
    );
    expect(running.stack.model.requests.length - modelBefore).toBeLessThanOrEqual(USER_LIMIT);
    await eventually(async () => expect((await running.app.store.outboxStats()).depth).toBe(0));
    // Every message is on the ticket once; the flood is folded into a few comments, not one Atera call each.
    const onTicket = running.stack.atera
      .comments(ticket.TicketID)
      .map((c) => String(c.Comment ?? c.CommentText ?? ''))
      .filter((c) => /end user, via Teams/.test(c));
    for (let i = 0; i < 40; i++) {
      const said = new RegExp(`detail ${i}(?!\\d)`);
      expect(onTicket.flatMap((c) => c.match(new RegExp(said.source, 'g')) ?? [])).toHaveLength(1);
    }
    expect(onTicket.join('').match(/end user, via Teams/g)).toHaveLength(userTurns.length);
    expect(onTicket.length).toBeLessThan(userTurns.length);
    // The user is told to slow down rather than left wondering.
    expect(running.connector.activities.some((a) => /faster than I can read/.test(a.text ?? ''))).toBe(true);
    expect(record.turns.map((t) => t.seq)).toEqual(record.turns.map((_, i) => i + 1));

    // A minute later they are heard again (answered, not told to slow down).
    running.clock.advanceMinutes(1.1);
    const sentBefore = running.connector.activities.length;
    await running.connector.userSays(megan, 'one calm message', { conversationId: opened.conversationId });
    const answer = await eventually(() => {
      const next = running.connector.activities.slice(sentBefore).find((a) => a.type === 'message' && a.text);
      expect(next).toBeDefined();
      return next!;
    });
    expect(answer.text).not.toMatch(/faster than I can read/);
  });
});

describe('a channel flooded with commands', () => {
  it('passes at most the per-conversation limit to the engine and says so to the rest', async () => {
    const dana = TEAMS_USERS.dana;
    const before = running.connector.activities.length;
    const where = { teamId: TECH_TEAM.teamId, channelId: TECH_TEAM.channelId };

    const results = await Promise.all(
      Array.from({ length: 20 }, () => running.connector.teamMemberSays(dana, where, 'help')),
    );

    expect(results.every((r) => r.status === 200)).toBe(true);
    const replies = await eventually(() => {
      const sent = running.connector.activities
        .slice(before)
        .filter((a) => a.conversationId.startsWith(TECH_TEAM.channelId));
      expect(sent.length).toBeGreaterThanOrEqual(20);
      return sent;
    });
    const slowDown = replies.filter((a) => a.text === SLOW_DOWN_REPLY.text);
    expect(slowDown).toHaveLength(20 - CONVERSATION_LIMIT);
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
  });
});
