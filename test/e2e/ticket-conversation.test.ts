/**
 * End to end over real HTTP: a ticket appears in the Atera sandbox, TicketZero finds the user in the Graph
 * sandbox, opens a proactive 1:1 chat through the connector sandbox (which signs and checks every request),
 * the "user" replies through /api/messages as Teams would, the model sandbox answers, and every turn reaches
 * Atera as a comment.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TEAMS_USERS } from '../../src/sandboxes/local-stack.js';
import {
  chatView,
  eventually,
  startTicketZero,
  type RunningTicketZero,
} from './support/running-ticketzero.js';

const megan = TEAMS_USERS.megan;
let running: RunningTicketZero | null = null;

afterEach(async () => {
  await running?.close();
  running = null;
});

function newTicket(
  r: RunningTicketZero,
  overrides: Partial<{ title: string; description: string; email: string }> = {},
) {
  return r.stack.atera.createTicket({
    title: overrides.title ?? 'Outlook calendar does not update',
    description:
      overrides.description ??
      'Meetings I accept on my phone do not show up in Outlook on my laptop since this morning.',
    endUserEmail: overrides.email ?? megan.email,
    endUserFirstName: 'Megan',
    endUserLastName: 'Bowen',
    customerId: 101,
    priority: 'Medium',
  });
}

function commentTexts(r: RunningTicketZero, ticketId: number): string[] {
  return r.stack.atera.comments(ticketId).map((c) => String(c.Comment ?? c.CommentText ?? ''));
}

/** The 1:1 conversation TicketZero opened with a user (waits for it). */
async function chatWith(r: RunningTicketZero, aadObjectId: string, timeoutMs = 10_000): Promise<string> {
  const first = await r.connector.waitFor(
    (a) =>
      r.connector.conversation(a.conversationId)?.kind === 'personal' &&
      (r.connector.conversation(a.conversationId)?.members ?? []).some((m) => m.aadObjectId === aadObjectId),
    timeoutMs,
  );
  return first.conversationId;
}

async function botTexts(r: RunningTicketZero, conversationId: string, count: number): Promise<string[]> {
  return eventually(() => {
    const texts = chatView(r.connector, conversationId).filter((t) => !t.startsWith('[card]'));
    expect(texts.length).toBeGreaterThanOrEqual(count);
    return texts;
  });
}

describe('a new Atera ticket', () => {
  it('leads to a proactive Teams chat with the right user: the ticket card, then a first answer', async () => {
    running = await startTicketZero();
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId);
    const view = await eventually(() => {
      const v = chatView(running!.connector, conversationId);
      expect(v.length).toBeGreaterThanOrEqual(2);
      return v;
    });
    expect(view[0]).toMatch(/^\[card\]/);
    expect(view[0]).toContain(`#${ticket.TicketNumber ?? ticket.TicketID}`);
    expect(view[1]).toMatch(/\w+/);
    // The app was installed for the user through Graph before the chat was created.
    expect(running.stack.graph.installs.map((i) => i.userId)).toContain(megan.aadObjectId);
    await eventually(() =>
      expect(commentTexts(running!, ticket.TicketID).join('\n')).toMatch(
        /started a Teams conversation with Megan Bowen/,
      ),
    );
  });
});

describe('the user’s real replies', () => {
  it('are relayed to the model for several rounds, and every turn lands in Atera once, in order', async () => {
    running = await startTicketZero();
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId);
    await botTexts(running, conversationId, 1);

    for (const [i, reply] of [
      'The status bar says "Disconnected"',
      'I restarted Outlook, still disconnected',
    ].entries()) {
      const delivery = await running.connector.userSays(megan, reply, { conversationId });
      expect(delivery.status).toBeLessThan(300);
      await botTexts(running, conversationId, i + 2);
    }

    const comments = await eventually(() => {
      const c = commentTexts(running!, ticket.TicketID);
      expect(c.filter((t) => /round 2 of 10/.test(t))).toHaveLength(1);
      return c;
    });
    const turns = comments.filter((c) => /first answer|round \d/.test(c));
    // A round is one comment, folded: the user's words, then the answer, each part with its time.
    const stamp = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · /;
    const parts = turns.flatMap((c) =>
      c
        .split(new RegExp(`<br><br>(?=${stamp.source})`))
        .map((p) => p.replace(new RegExp(`^${stamp.source}`), '')),
    );
    for (const round of [1, 2]) {
      expect(turns.filter((c) => c.includes(`round ${round}:`))).toEqual([
        expect.stringMatching(
          new RegExp(
            `Megan Bowen \\(end user, via Teams\\) — round ${round}:[\\s\\S]*TicketZero \\(AI assistant\\) — round ${round} of 10`,
          ),
        ),
      ]);
    }
    expect(parts.map((c) => c.match(/^(.*?) —/)?.[1] ?? c.slice(0, 40))).toEqual([
      'TicketZero (AI assistant)',
      'Megan Bowen (end user, via Teams)',
      'TicketZero (AI assistant)',
      'Megan Bowen (end user, via Teams)',
      'TicketZero (AI assistant)',
    ]);
    expect(comments.filter((c) => c.includes('status bar says'))).toHaveLength(1);
  });
});

describe('confirmation', () => {
  it('resolves the ticket in Atera and sends the summary card when the user confirms the fix', async () => {
    running = await startTicketZero();
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId);
    await botTexts(running, conversationId, 1);
    await running.connector.userSays(megan, 'I restarted the laptop and it works now!', { conversationId });

    const confirmCard = await running.connector.waitFor(
      (a) =>
        a.conversationId === conversationId && JSON.stringify(a.attachments ?? []).includes('confirm_fixed'),
    );
    const response = await running.connector.clickAction(
      megan,
      conversationId,
      { verb: 'confirm_fixed', ticketId: ticket.TicketID },
      { replyToId: confirmCard.activityId },
    );
    expect(JSON.stringify(response)).toMatch(/resolved/i);
    await eventually(() =>
      expect(running!.stack.atera.getTicket(ticket.TicketID)?.TicketStatus).toBe('Resolved'),
    );
    await eventually(() =>
      expect(commentTexts(running!, ticket.TicketID).join('\n')).toMatch(/TicketZero resolved this ticket/),
    );

    // The running app reports it: ready, and the outcome counted on /metrics once the ending's work is done (the
    // ending's Atera comment goes out from the outbox, possibly before the user's summary card).
    const ready = await fetch(`${running.url}/readyz`);
    expect(ready.status).toBe(200);
    await eventually(async () => {
      const metrics = await (await fetch(`${running!.url}/metrics`)).text();
      expect(metrics).toMatch(/ticketzero_conversation_outcomes_total\{[^}]*outcome="resolved"[^}]*\} 1/);
      expect(metrics).toMatch(/ticketzero_tickets_taken_total(\{[^}]*\})? 1/);
    });
  });
});

describe('limits', () => {
  it('hand over politely when the round limit is reached', async () => {
    running = await startTicketZero({
      env: { CONVERSATION_MAX_ROUNDS: '3', CONVERSATION_WARN_ROUNDS_LEFT: '1' },
    });
    const ticket = newTicket(running, {
      title: 'Laptop is slow',
      description: 'Everything takes ages to open.',
    });
    const conversationId = await chatWith(running, megan.aadObjectId);
    await botTexts(running, conversationId, 1);
    for (let i = 1; i <= 3; i++) {
      await running.connector.userSays(megan, `I tried that, it is the same (${i})`, { conversationId });
      await botTexts(running, conversationId, i + 1);
    }
    await eventually(() =>
      expect(commentTexts(running!, ticket.TicketID).join('\n')).toMatch(
        /handed this ticket to a technician/,
      ),
    );
    expect(chatView(running.connector, conversationId).join('\n')).toMatch(/last round/);
  });

  it('time out after 30 minutes, with the clock moved rather than waited for', async () => {
    running = await startTicketZero();
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId);
    await botTexts(running, conversationId, 1);
    running.clock.advanceMinutes(31);
    await eventually(() =>
      expect(commentTexts(running!, ticket.TicketID).join('\n')).toMatch(/time limit was reached/),
    );
  });
});

describe('a restart mid-conversation', () => {
  it('loses nothing and keeps the deadline', async () => {
    running = await startTicketZero();
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId);
    await botTexts(running, conversationId, 1);
    const before = await running.app.store.getConversation(ticket.TicketID);
    await running.restart();
    await running.connector.userSays(megan, 'Still not updating', { conversationId });
    await botTexts(running, conversationId, 2);
    const after = await running.app.store.getConversation(ticket.TicketID);
    expect(after?.deadlineAt).toBe(before?.deadlineAt);
    expect(after?.rounds).toBe(1);
    await eventually(() =>
      expect(
        commentTexts(running!, ticket.TicketID).filter((c) => c.includes('Still not updating')),
      ).toHaveLength(1),
    );
  });
});

describe('when TicketZero cannot help', () => {
  it('declines a ticket whose user is not in Graph, with a clear internal comment', async () => {
    running = await startTicketZero();
    const ticket = newTicket(running, { email: 'ghost.user@contoso.example' });
    await eventually(() =>
      expect(commentTexts(running!, ticket.TicketID).join('\n')).toMatch(
        /did not take this ticket: no Microsoft 365 user with the e-mail ghost.user@contoso.example/,
      ),
    );
  });

  it('tells the user honestly and escalates when every AI provider is down', async () => {
    running = await startTicketZero();
    running.stack.model.faults.set({ kind: 'refuse', times: 100 });
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId);
    const texts = await botTexts(running, conversationId, 1);
    expect(texts.join('\n')).toMatch(/technician/i);
    await eventually(() => {
      const all = commentTexts(running!, ticket.TicketID).join('\n');
      expect(all).toMatch(/no AI provider could answer/);
      expect(all).toMatch(/handed this ticket to a technician/);
    });
  });
});

describe('two tickets for one user', () => {
  it('run one after the other', async () => {
    running = await startTicketZero();
    const first = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId);
    await botTexts(running, conversationId, 1);
    const second = newTicket(running, {
      title: 'Printer on floor 2 is jammed',
      description: 'Paper jam error.',
    });
    await eventually(() =>
      expect(chatView(running!.connector, conversationId).join('\n')).toMatch(/also received your ticket/),
    );
    await running.connector.userSays(megan, 'Please get me a technician', { conversationId });
    await eventually(async () => {
      expect((await running!.app.store.getConversation(first.TicketID))?.state).toBe('escalated');
      expect((await running!.app.store.getConversation(second.TicketID))?.state).toBe('active');
    });
  });
});

describe('a 1:1 chat Teams no longer knows', () => {
  it('does not hold the user’s next ticket: TicketZero opens the chat anew and the card and first answer arrive there', async () => {
    running = await startTicketZero();
    const first = newTicket(running);
    const oldChat = await chatWith(running, megan.aadObjectId);
    await botTexts(running, oldChat, 1);
    await running.connector.userSays(megan, 'please get me a technician', { conversationId: oldChat });
    await eventually(async () =>
      expect((await running!.app.store.getConversation(first.TicketID))?.state).toBe('escalated'),
    );

    // The user deleted the chat (or removed the app): Teams answers 404 Conversation not found from now on.
    running.connector.forgetConversation(oldChat);
    const second = newTicket(running, { title: 'Printer on floor 2 jams' });
    const newChat = await eventually(() => {
      const id = running!.connector.activities.find(
        (a) =>
          a.conversationId !== oldChat &&
          running!.connector.conversation(a.conversationId)?.kind === 'personal' &&
          JSON.stringify(a.attachments ?? []).includes(`#${second.TicketID}`),
      )?.conversationId;
      expect(id).toBeDefined();
      return id!;
    });
    const texts = await botTexts(running, newChat, 1);
    expect(texts[0]).toMatch(/\w+/);
    await eventually(async () =>
      expect(await running!.app.store.getConversation(second.TicketID)).toMatchObject({
        state: 'active',
        chatConversationId: newChat,
      }),
    );
  });
});
