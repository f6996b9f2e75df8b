/**
 * One MSP, many customer tenants, end to end over real HTTP: the tenants file maps Atera customers to Entra
 * tenants, each customer tenant has its own single-tenant bot registration, and the connector sandbox plays Teams
 * with each registration installed in its own tenant (a bot acting in another tenant's conversation gets 403, as
 * in Teams). Customer 101 → Contoso, 103 → Fabrikam, 105 is not mapped.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TEAMS_USERS } from '../../src/sandboxes/local-stack.js';
import { SANDBOX_BOTS } from '../../src/sandboxes/sandbox-tenants.js';
import { signWithKey, type TeamsUser } from '../../src/sandboxes/connector/connector-sandbox.js';
import {
  chatView,
  eventually,
  startTicketZero,
  type RunningTicketZero,
} from './support/running-ticketzero.js';

const { megan, lukas, adele } = TEAMS_USERS;
let running: RunningTicketZero;

beforeAll(async () => {
  // botbuilder prints refused requests with console.error; the assertions say what matters.
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  running = await startTicketZero({ multiTenant: true, technicians: false });
});

afterAll(async () => {
  await running?.close();
  vi.restoreAllMocks();
});

function newTicket(user: TeamsUser & { email: string }, customerId: number, title: string) {
  const [first = '', ...rest] = user.name.split(' ');
  return running.stack.atera.createTicket({
    title,
    description: `${title} since this morning.`,
    endUserEmail: user.email,
    endUserFirstName: first,
    endUserLastName: rest.join(' '),
    customerId,
    priority: 'Medium',
  });
}

function commentTexts(ticketId: number): string[] {
  return running.stack.atera.comments(ticketId).map((c) => String(c.Comment ?? c.CommentText ?? ''));
}

/** The 1:1 conversation TicketZero opened with a user, once its first answer is there. */
async function chatWith(user: TeamsUser): Promise<string> {
  const c = running.connector;
  const first = await c.waitFor(
    (a) =>
      c.conversation(a.conversationId)?.kind === 'personal' &&
      (c.conversation(a.conversationId)?.members ?? []).some((m) => m.aadObjectId === user.aadObjectId),
    10_000,
  );
  await eventually(() => expect(textsIn(first.conversationId).length).toBeGreaterThanOrEqual(1));
  return first.conversationId;
}

const textsIn = (conversationId: string): string[] =>
  chatView(running.connector, conversationId).filter((t) => !t.startsWith('[card]'));

/** The app ids whose tokens the connector accepted on calls about a conversation. */
function appIdsOn(conversationId: string): string[] {
  return [
    ...new Set(
      running.connector.requests
        .filter((r) => r.conversationId === conversationId && r.status < 300)
        .map((r) => r.appId ?? '(none)'),
    ),
  ];
}

describe('one MSP serving several customer tenants', () => {
  let contosoChat: string;
  let fabrikamChat: string;
  let contosoTicket: number;
  let fabrikamTicket: number;

  beforeAll(async () => {
    contosoTicket = newTicket(megan, 101, 'Outlook calendar does not update').TicketID;
    fabrikamTicket = newTicket(adele, 103, 'The shop till cannot print receipts').TicketID;
    [contosoChat, fabrikamChat] = await Promise.all([chatWith(megan), chatWith(adele)]);
  });

  it("reaches a Contoso user through Contoso's own bot registration", () => {
    expect(running.connector.conversation(contosoChat)?.tenantId).toBe(SANDBOX_BOTS.contoso.tenantId);
    expect(appIdsOn(contosoChat)).toEqual([SANDBOX_BOTS.contoso.appId]);
    const created = running.connector.requests.find(
      (r) => r.operation === 'createConversation' && r.conversationId === contosoChat,
    );
    expect(created?.appId).toBe(SANDBOX_BOTS.contoso.appId);
  });

  it("reaches a Fabrikam user through Fabrikam's own bot registration", () => {
    expect(running.connector.conversation(fabrikamChat)?.tenantId).toBe(SANDBOX_BOTS.fabrikam.tenantId);
    expect(appIdsOn(fabrikamChat)).toEqual([SANDBOX_BOTS.fabrikam.appId]);
  });

  it('finds and installs each user in their own tenant with that tenant’s Graph token', () => {
    const graph = running.stack.graph;
    const installs = graph.installs.map((i) => [i.userId, i.tenantId]);
    expect(installs).toContainEqual([megan.aadObjectId, SANDBOX_BOTS.contoso.tenantId]);
    expect(installs).toContainEqual([adele.aadObjectId, SANDBOX_BOTS.fabrikam.tenantId]);
    const lookups = (mail: string) =>
      graph.requests.filter((r) => r.path === '/v1.0/users' && r.query.includes(mail));
    expect(lookups(megan.email).map((r) => r.tenantId)).toContain(SANDBOX_BOTS.contoso.tenantId);
    expect(lookups(adele.email).map((r) => r.tenantId)).toContain(SANDBOX_BOTS.fabrikam.tenantId);
    expect(lookups(adele.email).every((r) => r.tenantId === SANDBOX_BOTS.fabrikam.tenantId)).toBe(true);
  });

  it('accepts each user’s reply signed for their tenant’s registration and answers as that bot', async () => {
    for (const [user, chat, bot, ticketId] of [
      [megan, contosoChat, SANDBOX_BOTS.contoso, contosoTicket],
      [adele, fabrikamChat, SANDBOX_BOTS.fabrikam, fabrikamTicket],
    ] as const) {
      const before = textsIn(chat).length;
      const delivery = await running.connector.userSays(user, 'I restarted it, still the same', {
        conversationId: chat,
      });
      expect(delivery.status).toBe(200);
      expect(running.connector.delivered.at(-1)?.appId).toBe(bot.appId);
      await eventually(() => expect(textsIn(chat).length).toBeGreaterThan(before));
      expect(appIdsOn(chat)).toEqual([bot.appId]);
      await eventually(() =>
        expect(commentTexts(ticketId).filter((t) => t.includes('still the same'))).toHaveLength(1),
      );
    }
  });

  it('refuses a reply signed for another tenant’s registration, or for a registration it does not serve', async () => {
    const asFabrikam = await running.connector.userSays(megan, 'forwarded through the wrong bot', {
      conversationId: contosoChat,
      asApp: SANDBOX_BOTS.fabrikam.appId,
    });
    expect(asFabrikam.status).toBe(401);
    const asMsp = await running.connector.userSays(adele, 'sent to the MSP bot', {
      conversationId: fabrikamChat,
      asApp: SANDBOX_BOTS.msp.appId,
    });
    expect(asMsp.status).toBe(401);
    const unknown = await running.connector.userSays(megan, 'sent to a stranger', {
      conversationId: contosoChat,
      asApp: 'b0000009-0000-4000-8000-000000000009',
    });
    expect(unknown.status).toBe(401);
    // Refused before the turn ran (authentication comes first), so nothing reached the engine or Atera.
    for (const ticketId of [contosoTicket, fabrikamTicket]) {
      expect(commentTexts(ticketId).join('\n')).not.toMatch(/wrong bot|MSP bot|stranger/);
    }
  });

  it("refuses a token naming a tenant's registration that the channel did not sign, and a request without one", async () => {
    const c = running.connector;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const genuine = c.delivered.find((d) => d.appId === SANDBOX_BOTS.contoso.appId && d.status === 200);
    const activity = { ...genuine!.activity, id: 'forged-1', text: 'forged for Contoso' };
    const forged = signWithKey(privateKey, c.signingKeyId, {
      aud: SANDBOX_BOTS.contoso.appId,
      iss: c.issuer,
      serviceurl: c.serviceUrl,
    });

    expect((await c.sendRaw(activity, { authorization: `Bearer ${forged}` })).status).toBe(401);
    expect((await c.sendRaw(activity)).status).toBe(401);
    // The same activity signed by the channel for Contoso's bot is accepted.
    const signed = c.signChannelToken({ aud: SANDBOX_BOTS.contoso.appId });
    expect(
      (
        await c.sendRaw(
          { ...activity, id: 'genuine-1', text: 'signed for Contoso' },
          { authorization: `Bearer ${signed}` },
        )
      ).status,
    ).toBe(200);
    await eventually(() =>
      expect(commentTexts(contosoTicket).filter((t) => t.includes('signed for Contoso'))).toHaveLength(1),
    );
    expect(commentTexts(contosoTicket).join('\n')).not.toContain('forged for Contoso');
  });

  it('does not take a ticket of an unmapped customer: an internal comment says why, and no chat opens', async () => {
    const createsBefore = running.connector.requests.filter(
      (r) => r.operation === 'createConversation',
    ).length;
    const ticket = newTicket(
      { ...lukas, email: 'someone@northwind.example', name: 'Nancy Northwind' },
      105,
      'VPN drops every hour',
    );
    const note = await eventually(() => {
      const comments = running.stack.atera.comments(ticket.TicketID);
      const found = comments.find((c) =>
        /not mapped to a Microsoft 365 tenant/.test(String(c.Comment ?? '')),
      );
      expect(found).toBeDefined();
      return found!;
    });
    expect(note.IsInternal).toBe(true);
    expect(String(note.Comment)).toContain('CustomerID 105');
    expect(running.stack.graph.requests.some((r) => r.query.includes('northwind'))).toBe(false);
    expect(running.connector.requests.filter((r) => r.operation === 'createConversation')).toHaveLength(
      createsBefore,
    );
  });

  it('fetches one Graph token per tenant across several tickets', async () => {
    newTicket(lukas, 102, 'Excel crashes when opening a macro workbook');
    const lukasChat = await chatWith(lukas);
    // Lukas (customer 102) is Contoso's too: his chat went out as Contoso's bot.
    expect(appIdsOn(lukasChat)).toEqual([SANDBOX_BOTS.contoso.appId]);
    const tokens = (tenantId: string) =>
      running.stack.graph.tokenRequests.filter((t) => t.tenantId === tenantId && t.status === 200);
    expect(tokens(SANDBOX_BOTS.contoso.tenantId)).toHaveLength(1);
    expect(tokens(SANDBOX_BOTS.fabrikam.tenantId)).toHaveLength(1);
  });
});
