/**
 * Two-way Atera ⇄ Teams, end to end over real HTTP: what a technician or the end user writes on the ticket in the
 * Atera sandbox reaches the user's Teams chat through TicketZero's real poll, and nothing TicketZero wrote comes
 * back.
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
import { chatWith, newTicket } from './support/technicians-channel.js';

const megan = TEAMS_USERS.megan;
let running: RunningTicketZero | null = null;

afterEach(async () => {
  await running?.close();
  running = null;
});

/** The bot's messages in the chat as text (cards as "[card] …"). */
function chat(r: RunningTicketZero, conversationId: string): string[] {
  return chatView(r.connector, conversationId);
}

/** A technician changes the ticket in Atera through its API, as Atera's UI would. */
async function setStatus(r: RunningTicketZero, ticketId: number, status: string): Promise<void> {
  const response = await fetch(`${r.stack.atera.baseUrl}/tickets/${ticketId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'X-API-KEY': r.stack.atera.apiKey },
    body: JSON.stringify({ TicketStatus: status }),
  });
  expect(response.status).toBeLessThan(300);
}

describe('a technician’s reply in Atera', () => {
  it('reaches the chat once, with the technician’s name, and pauses the AI; an internal note does not', async () => {
    running = await startTicketZero();
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId);
    running.stack.atera.addTechnicianReply(ticket.id, {
      text: 'Internal: mailbox quota full',
      internal: true,
    });
    running.stack.atera.addTechnicianReply(ticket.id, { text: 'I reset your mailbox — please try again.' });

    await eventually(() =>
      expect(chat(running!, conversationId).join('\n')).toContain('I reset your mailbox'),
    );
    await eventually(async () =>
      expect((await running!.app.store.getConversation(ticket.id))?.state).toBe('paused'),
    );
    const sent = running.connector.conversation(conversationId)!.messages;
    const reply = sent.filter((m) => (m.text ?? '').includes('I reset your mailbox'));
    expect(reply).toHaveLength(1);
    expect(JSON.stringify(reply[0])).toContain('Dana');
    expect(chat(running, conversationId).join('\n')).not.toContain('quota');
    // A few more polls later, still once; and none of TicketZero's own comments came back.
    await expectNothingWithin(2_500, () => {
      expect(chat(running!, conversationId).filter((t) => t.includes('I reset your mailbox'))).toHaveLength(
        1,
      );
      expect(chat(running!, conversationId).join('\n')).not.toMatch(/TicketZero ref|You wrote by e-mail/);
    });
  });
});

describe('the user’s e-mail reply in Atera', () => {
  it('is shown in the chat and answered there, once, also across a restart', async () => {
    running = await startTicketZero();
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId);
    const before = chat(running, conversationId).length;
    running.stack.atera.addEndUserReply(ticket.id, {
      text: 'The VPN client shows error 809.',
      quotePrevious: true,
    });
    await eventually(() => {
      const view = chat(running!, conversationId);
      expect(view.filter((t) => t === 'You wrote by e-mail: The VPN client shows error 809.')).toHaveLength(
        1,
      );
      expect(view.length).toBeGreaterThanOrEqual(before + 2); // the e-mail shown, and an answer to it
    });
    const record = await running.app.store.getConversation(ticket.id);
    expect(record?.rounds).toBe(1);

    await running.restart();
    await expectNothingWithin(2_500, () =>
      expect(chat(running!, conversationId).filter((t) => t.startsWith('You wrote by e-mail'))).toHaveLength(
        1,
      ),
    );
    expect((await running.app.store.getConversation(ticket.id))?.rounds).toBe(1);
  });
});

describe('a ticket closed in Atera', () => {
  it('ends the chat with a notice', async () => {
    running = await startTicketZero();
    const ticket = newTicket(running);
    const conversationId = await chatWith(running, megan.aadObjectId);
    await setStatus(running, ticket.id, 'Closed');
    await eventually(() =>
      expect(chat(running!, conversationId).join('\n')).toMatch(/was closed by your IT team/),
    );
    expect((await running.app.store.getConversation(ticket.id))?.state).toBe('ended_in_atera');
  });
});
