/**
 * The conversation against counterparts that behave like the real ones, end to end over real HTTP: a model that
 * ignores every answer format (the model sandbox's `plain-prose` persona), a model that takes 40 s to its first
 * token while the connector plays Teams' timing (an answer to each inbound POST within 15 s, or the same activity
 * again), and a user who floods the chat after a hand-over while Teams redelivers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TEAMS_USERS } from '../../src/sandboxes/local-stack.js';
import { expectNothingWithin } from '../support/waiting.js';
import {
  chatView,
  eventually,
  startTicketZero,
  type RunningTicketZero,
} from './support/running-ticketzero.js';
import { userMessageActivity } from './support/teams-delivery.js';
import { chatWith, comments, newTicket } from './support/technicians-channel.js';

const megan = TEAMS_USERS.megan;
let running: RunningTicketZero | null = null;

afterEach(async () => {
  await running?.close();
  running = null;
});

/** The bot's text messages in the chat (cards left out). */
function botTexts(r: RunningTicketZero, conversationId: string): string[] {
  return chatView(r.connector, conversationId).filter((t) => !t.startsWith('[card]'));
}

describe('a model that ignores every answer format (plain prose, no control line)', () => {
  it('resolves the ticket when the user says in plain words that it works and confirms', async () => {
    running = await startTicketZero({ env: { LOCAL_AI_MODEL: 'plain-prose' } });
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId); // the ticket card and the first answer
    expect(botTexts(running, conversationId).join('\n')).not.toMatch(/\[\[|ticketzero:/i);

    await running.connector.userSays(megan, 'Yes, it’s fixed now, thank you', { conversationId });
    const question = await running.connector.waitFor(
      (a) =>
        a.conversationId === conversationId &&
        JSON.stringify(a.attachments ?? []).includes('Is the problem fixed?'),
    );
    await running.connector.clickAction(
      megan,
      conversationId,
      { verb: 'confirm_fixed', ticketId: ticket.id },
      { replyToId: question.activityId },
    );
    await eventually(() => expect(running!.stack.atera.getTicket(ticket.id)?.TicketStatus).toBe('Resolved'));
    await eventually(() =>
      expect(
        comments(running!, ticket.id)
          .map((c) => c.text)
          .join('\n'),
      ).toMatch(/TicketZero resolved this ticket/),
    );
    // One summary card in the chat; the pressed card shows the ticket resolved (test/e2e/card-buttons.test.ts).
    await eventually(() =>
      expect(
        chatView(running!.connector, conversationId).filter((t) => t.includes('✔ Resolved')),
      ).toHaveLength(1),
    );
  });

  it('resolves the ticket from the ticket card’s “It’s fixed” button at any point', async () => {
    running = await startTicketZero({ env: { LOCAL_AI_MODEL: 'plain-prose' } });
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId); // the ticket card and the first answer
    const intro = running.connector.conversation(conversationId)!.messages[0]!;
    expect(JSON.stringify(intro.attachments)).toContain('It’s fixed');

    const response = await running.connector.clickAction(
      megan,
      conversationId,
      { verb: 'confirm_fixed', ticketId: ticket.id },
      { replyToId: intro.activityId },
    );
    expect(JSON.stringify(response)).toMatch(/is resolved \(you confirmed it at/);
    await eventually(() => expect(running!.stack.atera.getTicket(ticket.id)?.TicketStatus).toBe('Resolved'));
    await eventually(() =>
      expect(
        chatView(running!.connector, conversationId).filter((t) => t.includes('✔ Resolved')),
      ).toHaveLength(1),
    );
  });

  it('keeps the conversation going on a plain-prose answer: nothing the model writes ends it', async () => {
    running = await startTicketZero({ env: { LOCAL_AI_MODEL: 'plain-prose' } });
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId); // the ticket card and the first answer
    await running.connector.userSays(megan, 'I tried that, no change', { conversationId });
    await eventually(() => expect(botTexts(running!, conversationId).length).toBeGreaterThanOrEqual(2));
    expect(running.stack.atera.getTicket(ticket.id)?.TicketStatus).not.toBe('Resolved');
    expect((await running.app.store.getConversation(ticket.id))?.state).toBe('active');
  });
});

describe('a model that takes 40 s to its first token, with Teams’ 15 s timing and redelivery', () => {
  it('acknowledges each message at once and gives exactly one answer to it', async () => {
    running = await startTicketZero({ env: { AI_FIRST_TOKEN_TIMEOUT_MS: '60000' } });
    running.connector.setTeamsTiming(true);
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId); // the ticket card and the first answer
    running.stack.model.setFirstTokenDelay(40_000);
    const before = botTexts(running, conversationId).length;

    const said = await running.connector.userSays(megan, 'Outlook still shows Disconnected', {
      conversationId,
    });
    // Teams got its HTTP answer well within 15 s, on the first delivery: nothing to redeliver.
    expect(said.attempts.map((a) => a.status)).toEqual([200]);
    expect(said.attempts[0]!.durationMs).toBeLessThan(3_000);

    await eventually(() => expect(botTexts(running!, conversationId).length).toBe(before + 1), 55_000);
    // The user saw the typing indicator while the model worked, never more than 45 s apart.
    const typing = running.connector.activities.filter(
      (a) => a.conversationId === conversationId && a.type === 'typing',
    );
    expect(typing.length).toBeGreaterThanOrEqual(10);
    expect(running.connector.violations()).toEqual([]);
    // One answer, one comment per turn.
    await expectNothingWithin(1_000, () =>
      expect(botTexts(running!, conversationId)).toHaveLength(before + 1),
    );
    await eventually(() => {
      const onTicket = comments(running!, ticket.id).map((c) => c.text);
      expect(onTicket.filter((c) => c.includes('still shows Disconnected'))).toHaveLength(1);
      expect(onTicket.filter((c) => /round 1 of 10/.test(c) && /AI assistant/.test(c))).toHaveLength(1);
    });
  }, 90_000);
});

describe('after a hand-over, a user who floods the chat while Teams redelivers', () => {
  it('keeps every message once on the ticket and in the thread, and tells the user once to slow down', async () => {
    running = await startTicketZero({ env: { USER_MESSAGES_PER_MINUTE: '3' } });
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId); // the ticket card and the first answer
    await running.connector.userSays(megan, 'Please get me a technician', { conversationId });
    await eventually(async () =>
      expect((await running!.app.store.getConversation(ticket.id))?.state).toBe('escalated'),
    );
    running.clock.advanceMinutes(1.1); // a new minute for the rate limit

    const texts = Array.from({ length: 8 }, (_, i) => `More detail ${i + 1}: the error code is 0x80${i}`);
    const activities = texts.map((text, i) =>
      userMessageActivity(running!.connector, megan, conversationId, text, `flood-${i + 1}`),
    );
    // All at once, then each delivered again with the same id (Teams redelivers).
    const deliver = (batch: typeof activities) =>
      Promise.all(
        batch.map((a) =>
          running!.connector.sendRaw(a, { authorization: `Bearer ${running!.connector.signChannelToken()}` }),
        ),
      );
    const results = [...(await deliver(activities)), ...(await deliver(activities))];
    expect(results.every((r) => r.status === 200)).toBe(true);

    await eventually(async () => {
      expect((await running!.app.store.outboxStats()).depth).toBe(0);
      const onTicket = comments(running!, ticket.id).map((c) => c.text);
      for (const text of texts) expect(onTicket.filter((c) => c.includes(text))).toHaveLength(1);
    });
    const record = await running.app.store.getConversation(ticket.id);
    expect(
      record?.turns
        .filter((t) => t.inboundId?.startsWith('flood-'))
        .map((t) => t.inboundId)
        .sort(),
    ).toEqual(activities.map((a) => a.id).sort());
    // The technicians' thread mirrors each message once.
    const threadId = record!.thread!.threadId;
    await eventually(() => {
      const mirrored = running!.connector.activities
        .filter((a) => a.conversationId === threadId && a.type === 'message')
        .map((a) => a.text ?? '');
      for (const text of texts) expect(mirrored.filter((t) => t.includes(text))).toHaveLength(1);
    });
    await eventually(() => {
      const chat = botTexts(running!, conversationId);
      expect(
        chat.filter((t) => /faster than I can read/.test(t)),
        chat.join('\n'),
      ).toHaveLength(1);
      expect(chat.filter((t) => /added this to ticket/.test(t))).toHaveLength(3);
    });
  }, 60_000);
});
