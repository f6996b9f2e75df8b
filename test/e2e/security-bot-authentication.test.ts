/**
 * /api/messages of the real TicketZero app (signing on, the connector sandbox as the channel's token issuer) lets
 * in only activities signed for this bot. Every refused request answers 401 before botbuilder runs a turn: the
 * engine is not called (no model request, no Atera comment, no reply in Teams).
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signWithKey } from '../../src/sandboxes/connector/connector-sandbox.js';
import { TEAMS_USERS } from '../../src/sandboxes/local-stack.js';
import { eventually, startTicketZero, type RunningTicketZero } from './support/running-ticketzero.js';

const megan = TEAMS_USERS.megan;
let running: RunningTicketZero;
let conversationId: string;

beforeAll(async () => {
  // botbuilder prints every refused request with console.error; the assertions say what matters.
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  // The probes below would otherwise meet the per-conversation turn limit.
  running = await startTicketZero({ env: { CONVERSATION_TURNS_PER_MINUTE: '1000' } });
  conversationId = await running.connector.installFor(megan);
});
afterAll(async () => {
  await running?.close();
  vi.restoreAllMocks();
});

function messageFrom(text: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const c = running.connector;
  return {
    type: 'message',
    id: `m-${Math.random().toString(36).slice(2)}`,
    channelId: 'msteams',
    serviceUrl: c.serviceUrl,
    timestamp: new Date().toISOString(),
    from: { id: megan.id, name: megan.name, aadObjectId: megan.aadObjectId },
    recipient: c.bot,
    conversation: { id: conversationId, conversationType: 'personal', tenantId: megan.tenantId },
    channelData: { tenant: { id: megan.tenantId } },
    text,
    ...overrides,
  };
}

/** Sends, then checks nothing downstream moved: no reply, no model call, no Atera write. */
async function refused(body: unknown, headers: Record<string, string>): Promise<number> {
  const before = {
    activities: running.connector.activities.length,
    model: running.stack.model.requests.length,
  };
  const response = await running.connector.sendRaw(body, headers);
  // A turn that slipped through would reply; give it the time a reply takes to arrive.
  const probe = await running.connector.sendRaw(messageFrom('probe'), {
    authorization: `Bearer ${running.connector.signChannelToken()}`,
  });
  expect(probe.status).toBe(200);
  await eventually(() => expect(running.connector.activities.length).toBe(before.activities + 1));
  expect(running.stack.model.requests.length).toBe(before.model);
  return response.status;
}

describe('/api/messages with bot credentials configured', () => {
  it('accepts an activity signed by the channel for this bot, and answers it', async () => {
    const before = running.connector.activities.length;
    const result = await running.connector.userSays(megan, 'hello', { conversationId });
    expect(result.status).toBe(200);
    await eventually(() => expect(running.connector.activities.length).toBeGreaterThan(before));
    expect(running.connector.activities.at(-1)?.text).toMatch(/TicketZero/);
  });

  it('refuses an unsigned activity', async () => {
    expect(await refused(messageFrom('unsigned'), {})).toBe(401);
  });

  it('refuses a token signed with another key under the published key id', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const c = running.connector;
    const forged = signWithKey(privateKey, c.signingKeyId, {
      aud: c.appId,
      iss: c.issuer,
      serviceurl: c.serviceUrl,
    });
    expect(await refused(messageFrom('forged'), { authorization: `Bearer ${forged}` })).toBe(401);
  });

  it('refuses a token signed with a key the issuer never published', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const c = running.connector;
    const forged = signWithKey(privateKey, 'not-published', {
      aud: c.appId,
      iss: c.issuer,
      serviceurl: c.serviceUrl,
    });
    expect(await refused(messageFrom('unknown key'), { authorization: `Bearer ${forged}` })).toBe(401);
  });

  it('refuses an expired token', async () => {
    const expired = running.connector.signChannelToken(
      {},
      { nowSeconds: Math.floor(Date.now() / 1000) - 7200, lifetimeSeconds: 600 },
    );
    expect(await refused(messageFrom('expired'), { authorization: `Bearer ${expired}` })).toBe(401);
  });

  it('refuses a token not yet valid', async () => {
    const future = running.connector.signChannelToken(
      {},
      { nowSeconds: Math.floor(Date.now() / 1000) + 7200, lifetimeSeconds: 600 },
    );
    expect(await refused(messageFrom('future'), { authorization: `Bearer ${future}` })).toBe(401);
  });

  it('refuses a token for another bot, from another issuer, or for another service URL', async () => {
    const c = running.connector;
    for (const claims of [
      { aud: 'another-bot-app-id' },
      { iss: 'https://attacker.example' },
      { serviceurl: 'https://attacker.example/' },
    ]) {
      expect(
        await refused(messageFrom('wrong claim'), { authorization: `Bearer ${c.signChannelToken(claims)}` }),
      ).toBe(401);
    }
  });

  it('refuses an unsigned (alg none) token and a header that is not a bearer JWT', async () => {
    const c = running.connector;
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: c.signingKeyId })).toString(
      'base64url',
    );
    const now = Math.floor(Date.now() / 1000);
    const payload = Buffer.from(
      JSON.stringify({
        aud: c.appId,
        iss: c.issuer,
        serviceurl: c.serviceUrl,
        nbf: now - 10,
        exp: now + 600,
      }),
    ).toString('base64url');
    for (const authorization of [
      `Bearer ${header}.${payload}.`,
      'Bearer not-a-jwt',
      `Basic ${Buffer.from('user:pass').toString('base64')}`,
      'Bearer',
      `Bearer ${'A'.repeat(8000)}`,
    ]) {
      expect(await refused(messageFrom('bad header'), { authorization })).toBe(401);
    }
  });

  it('keeps answering /healthz and real users after all that', async () => {
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    const result = await running.connector.userSays(megan, 'still there?', { conversationId });
    expect(result.status).toBe(200);
  });
});
