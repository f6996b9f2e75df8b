/**
 * Who may steer tickets, over real HTTP: only technicians (members of the technicians' team, asked of the
 * connector on each command, or of the technicians' Entra group in the MSP's tenant, asked of Graph), never
 * because of what a message says. End users in their 1:1 chat, members of other teams and MSP colleagues outside
 * the technicians get no privileged action and no word about tickets. And how the technicians' channel is
 * captured with "use this channel" when none is configured.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTOSO_TENANT, MSP_TENANT_ID, TEAMS_USERS, TECH_TEAM } from '../../src/sandboxes/local-stack.js';
import { SANDBOX_TENANTS } from '../../src/sandboxes/graph/sandbox-directory.js';
import { eventually, startTicketZero, type RunningTicketZero } from './support/running-ticketzero.js';
import {
  cardShows,
  cardState,
  chatShows,
  chatWith,
  commentParts,
  comments,
  newTicket,
  threadCard,
  threadOf,
  threadReply,
} from './support/technicians-channel.js';

const { megan, lukas, dana, sam, riley } = TEAMS_USERS;
const SALES_TEAM = { teamId: '19:sales-team@thread.tacv2', channelId: '19:sales@thread.tacv2' };
const CONTOSO_TEAM = { teamId: '19:contoso-team@thread.tacv2', channelId: '19:contoso-team@thread.tacv2' };
const TECH_GROUP_ID = '44444444-4444-4444-8444-444444444444';
const REFUSED = 'Only members of the technicians’ team can give TicketZero commands.';

let running: RunningTicketZero | null = null;
afterEach(async () => {
  await running?.close();
  running = null;
});

/** The bot's reply to a channel post (in the post's own thread). */
async function replyTo(r: RunningTicketZero, post: { conversationId: string }): Promise<string> {
  return eventually(() => {
    const texts = (r.connector.conversation(post.conversationId)?.messages ?? []).map((m) => m.text ?? '');
    expect(texts.length).toBeGreaterThan(0);
    return texts.join('\n');
  });
}

function auditComments(r: RunningTicketZero, ticketId: number): string[] {
  return comments(r, ticketId)
    .map((c) => c.text)
    .filter((t) => / — by .* in Teams/.test(t));
}

describe('an end user', () => {
  it('typing technicians’ commands in their 1:1 chat gets no privileged action and no word about other tickets', async () => {
    running = await startTicketZero({ technicians: true });
    const r = running;
    const mine = newTicket(r, { title: 'VPN drops every few minutes' });
    const theirs = newTicket(r, {
      title: 'Drucker im zweiten Stock druckt nicht',
      description: 'Der Drucker zeigt einen Papierstau an.',
      email: lukas.email,
    });
    const myThread = await threadOf(r, mine, TECH_TEAM);
    const theirThread = await threadOf(r, theirs, TECH_TEAM);
    const chat = await chatWith(r, megan.aadObjectId);

    await chatShows(r, chat, 2); // the ticket card and the first answer
    for (const [i, text] of [
      `reassign #${theirs.number} to Sam`,
      `status #${theirs.number}`,
      // Asking for a human is her right, for her own ticket only.
      `escalate #${theirs.number}`,
    ].entries()) {
      const delivery = await r.connector.userSays(megan, text, { conversationId: chat });
      expect(delivery.status).toBe(200);
      // Each is answered before the next (an answer still being written when she asks for a human is dropped).
      await chatShows(r, chat, 3 + i);
    }
    const view = await chatShows(r, chat, 5);

    expect(r.stack.atera.getTicket(theirs.id)).toMatchObject({
      TechnicianContactID: null,
      TicketStatus: 'Open',
    });
    expect(r.stack.atera.getTicket(mine.id)).toMatchObject({ TechnicianContactID: null });
    expect([...auditComments(r, mine.id), ...auditComments(r, theirs.id)]).toEqual([]);
    expect(cardState(threadCard(r, theirThread))).toBe('AI is talking with the user');
    await cardShows(r, myThread, 'Escalated to a technician');
    expect((await r.app.store.getConversation(mine.id))?.outcome).toMatchObject({ reason: 'user_asked' });
    expect((await r.app.store.getConversation(theirs.id))?.state).toBe('active');
    const seen = view.join('\n');
    expect(seen).not.toMatch(/Drucker|Lukas|Reassigned|Escalated ticket/);
    // What she typed is a message to her own support conversation, recorded on her own ticket only.
    await eventually(() =>
      expect(
        commentParts(r, mine.id).filter(
          (c) => c.text.startsWith('Megan Bowen (end user') && c.text.includes(`#${theirs.number}`),
        ),
      ).toHaveLength(3),
    );
    expect(comments(r, theirs.id).filter((c) => c.text.includes('Megan'))).toEqual([]);
  });
});

describe('someone who is not a technician', () => {
  it('is refused in another team’s channel, in a customer’s team and on the thread card, and nothing changes', async () => {
    running = await startTicketZero({ technicians: true });
    const r = running;
    r.connector.addTeam({ ...SALES_TEAM, name: 'MSP Sales', members: [riley] });
    r.connector.addTeam({ ...CONTOSO_TEAM, name: 'Contoso', members: [megan] });
    const ticket = newTicket(r);
    const thread = await threadOf(r, ticket, TECH_TEAM);
    await chatWith(r, megan.aadObjectId);

    // Riley works at the MSP but is not in the technicians' team.
    for (const text of [
      `escalate #${ticket.number}`,
      `status #${ticket.number}`,
      `reassign #${ticket.number} to Riley`,
    ]) {
      const post = await r.connector.teamMemberSays(riley, SALES_TEAM, text);
      expect(await replyTo(r, post)).toBe(REFUSED);
    }
    // An end user in a team of the customer's tenant where the bot is installed.
    const fromCustomer = await r.connector.teamMemberSays(megan, CONTOSO_TEAM, `take over #${ticket.number}`);
    expect(await replyTo(r, fromCustomer)).toBe(REFUSED);
    // A technician command said in the ticket's own thread by someone outside the team.
    await r.connector.teamMemberSays(riley, thread.where, 'pause');
    await threadReply(r, thread, /^Only members of the technicians’ team/);

    const pressed = await r.connector.clickAction(
      riley,
      thread.conversationId,
      { verb: 'escalate', ticketId: ticket.id },
      { replyToId: thread.rootId },
    );
    expect(pressed).toEqual({
      statusCode: 200,
      type: 'application/vnd.microsoft.activity.message',
      value: 'Nothing to change.',
    });

    expect(cardState(threadCard(r, thread))).toBe('AI is talking with the user');
    expect(r.stack.atera.getTicket(ticket.id)).toMatchObject({
      TechnicianContactID: null,
      TicketStatus: 'Open',
    });
    expect(auditComments(r, ticket.id)).toEqual([]);
    expect((await r.app.store.getConversation(ticket.id))?.state).toBe('active');
  });
});

describe('the technicians’ Entra group', () => {
  it('counts its members as technicians, asked of Graph in the MSP’s own tenant on each command', async () => {
    // The tenant map lists the customer's tenant and the MSP's own (no customers), whose Graph app checks the
    // group. The file names the secrets' variables; the environment holds them, as in production.
    const tenant = (key: string) => SANDBOX_TENANTS.find((t) => t.key === key)!;
    const dir = mkdtempSync(join(tmpdir(), 'ticketzero-tenants-'));
    const tenantsFile = join(dir, 'tenants.json');
    writeFileSync(
      tenantsFile,
      JSON.stringify({
        tenants: [
          {
            key: 'contoso',
            tenantId: CONTOSO_TENANT.tenantId,
            graph: { clientId: tenant('contoso').clientId, clientSecretEnv: 'CONTOSO_GRAPH_SECRET' },
            customers: [101],
          },
          {
            key: 'msp',
            tenantId: MSP_TENANT_ID,
            graph: { clientId: tenant('msp').clientId, clientSecretEnv: 'MSP_GRAPH_SECRET' },
            customers: [],
          },
        ],
      }),
    );
    try {
      running = await startTicketZero({
        technicians: true,
        env: {
          TENANTS_FILE: tenantsFile,
          TECH_GROUP_ID,
          CONTOSO_GRAPH_SECRET: tenant('contoso').clientSecret,
          MSP_GRAPH_SECRET: tenant('msp').clientSecret,
        },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const r = running;
    // The team's roster no longer lists Dana: only the group makes her a technician. Riley is in neither.
    r.connector.addTeam({ ...TECH_TEAM, members: [sam] });
    const ticket = newTicket(r);
    const thread = await threadOf(r, ticket, TECH_TEAM);
    await chatWith(r, megan.aadObjectId);

    await r.connector.teamMemberSays(dana, thread.where, 'pause');
    await threadReply(r, thread, /^Paused: the AI holds its answers/);
    await cardShows(r, thread, 'Paused by a technician');
    const asked = r.stack.graph.requests.filter((q) => q.path.endsWith('/checkMemberGroups'));
    expect(asked).toContainEqual(
      expect.objectContaining({
        path: `/v1.0/users/${dana.aadObjectId}/checkMemberGroups`,
        tenantId: MSP_TENANT_ID,
        status: 200,
      }),
    );

    await r.connector.teamMemberSays(riley, thread.where, 'resume');
    await threadReply(r, thread, /^Only members of the technicians’ team/);
    expect(r.stack.graph.requests).toContainEqual(
      expect.objectContaining({
        path: `/v1.0/users/${riley.aadObjectId}/checkMemberGroups`,
        tenantId: MSP_TENANT_ID,
      }),
    );
    expect(cardState(threadCard(r, thread))).toBe('Paused by a technician');
    await eventually(() =>
      expect(auditComments(r, ticket.id).map((t) => t.replace(/^TicketZero: /, '').split('\n')[0])).toEqual([
        'paused the AI — by Dana Tech in Teams.',
      ]),
    );
  });
});

describe('capturing the technicians’ channel', () => {
  it('with “use this channel” from a member of the team, after which only that team’s members command', async () => {
    running = await startTicketZero({ technicians: false });
    const r = running;
    r.connector.addTeam({ ...TECH_TEAM, name: 'MSP Technicians', members: [dana, sam] });
    r.connector.addTeam({ ...SALES_TEAM, name: 'MSP Sales', members: [riley] });
    const early = newTicket(r);
    await chatWith(r, megan.aadObjectId);
    expect(r.connector.activities.filter((a) => a.conversationId.startsWith('19:'))).toEqual([]);

    // Before any channel is captured, commands are not run, whoever says them.
    const tooEarly = await r.connector.teamMemberSays(riley, SALES_TEAM, `escalate #${early.number}`);
    expect(await replyTo(r, tooEarly)).toMatch(/^There is no technicians’ channel yet/);
    expect((await r.app.store.getConversation(early.id))?.state).toBe('active');

    const capture = await r.connector.teamMemberSays(dana, TECH_TEAM, 'Use this channel');
    expect(await replyTo(r, capture)).toBe(
      'From now on, each ticket TicketZero takes gets its own thread in this channel.',
    );
    // A member of another team cannot move it away.
    const hijack = await r.connector.teamMemberSays(riley, SALES_TEAM, 'use this channel');
    expect(await replyTo(r, hijack)).toBe(REFUSED);

    // The capture survives a restart; the next ticket gets its thread there, steered by the team's members.
    await r.restart();
    const next = newTicket(r, {
      title: 'Drucker im zweiten Stock druckt nicht',
      description: 'Der Drucker zeigt einen Papierstau an.',
      email: lukas.email,
    });
    const thread = await threadOf(r, next, TECH_TEAM);
    await r.connector.teamMemberSays(sam, thread.where, 'status');
    await threadReply(r, thread, new RegExp(`^Ticket #${next.number} — Drucker`));
    await r.connector.teamMemberSays(riley, thread.where, 'take over');
    await threadReply(r, thread, /^Only members of the technicians’ team/);
  });
});
