import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Config } from '../../src/config/load-config.js';
import { createEchoBot } from '../../src/http/echo-bot.js';
import { listen, type ListeningServer } from '../../src/http/server.js';
import { silentLog } from '../../src/ports/log.js';
import {
  signWithKey,
  startConnectorSandbox,
  type ConnectorSandbox,
  type TeamsUser,
} from '../../src/sandboxes/connector/connector-sandbox.js';

// botbuilder prints every refused request with console.error; the assertions below say what matters.
beforeAll(() => {
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterAll(() => {
  vi.restoreAllMocks();
});

const TENANT = '6f1c1a52-0000-4000-8000-00000000c0de';
const ada: TeamsUser = { id: '29:1ada', aadObjectId: 'aad-ada', name: 'Ada Lovelace', tenantId: TENANT };

function botSettings(sandbox: ConnectorSandbox, overrides: Partial<Config['bot']> = {}): Config['bot'] {
  return {
    appId: sandbox.appId,
    appPassword: 'correct horse battery staple',
    appTenantId: TENANT,
    appType: 'SingleTenant',
    teamsAppId: undefined,
    serviceUrl: sandbox.url,
    openIdMetadataUrl: sandbox.openIdMetadataUrl,
    tokenIssuer: sandbox.issuer,
    loginUrl: sandbox.loginUrl(TENANT),
    ...overrides,
  };
}

function message(sandbox: ConnectorSandbox, conversationId: string, text: string): Record<string, unknown> {
  return {
    type: 'message',
    id: `m-${Math.random().toString(36).slice(2)}`,
    channelId: 'msteams',
    serviceUrl: sandbox.serviceUrl,
    from: { id: ada.id, name: ada.name, aadObjectId: ada.aadObjectId },
    recipient: sandbox.bot,
    conversation: { id: conversationId, conversationType: 'personal', tenantId: TENANT },
    channelData: { tenant: { id: TENANT } },
    text,
  };
}

describe('inbound Bot Framework authentication with an app id configured', () => {
  let sandbox: ConnectorSandbox;
  let bot: ListeningServer;
  let conversationId: string;

  beforeAll(async () => {
    sandbox = await startConnectorSandbox({
      appId: 'app-auth-e2e',
      appPassword: 'correct horse battery staple',
    });
    const { server } = createEchoBot({ bot: botSettings(sandbox), log: silentLog });
    bot = await listen(server, { port: 0, host: '127.0.0.1' });
    sandbox.botEndpoint = `${bot.url}/api/messages`;
    conversationId = await sandbox.installFor(ada);
  });

  afterAll(async () => {
    await bot?.close();
    await sandbox?.close();
  });

  const repliesTo = (text: string) => sandbox.activities.filter((a) => a.text === `echo: ${text}`);

  it('accepts an activity signed by the channel issuer and replies with a bearer token the connector accepts', async () => {
    const result = await sandbox.userSays(ada, 'printer is offline');

    expect(result.status).toBe(200);
    const reply = await sandbox.waitFor((a) => a.text === 'echo: printer is offline');
    expect(reply).toMatchObject({ operation: 'reply', conversationId, replyToId: result.activityId });
    const replyRequest = sandbox.requests.find((r) => r.operation === 'replyToActivity');
    expect(replyRequest).toMatchObject({ status: 201, authenticated: true });
    expect(sandbox.requests.some((r) => r.operation === 'token' && r.status === 200)).toBe(true);
  });

  it('refuses an activity without an Authorization header, before the handler runs', async () => {
    const response = await sandbox.sendRaw(message(sandbox, conversationId, 'unsigned'));

    expect(response.status).toBe(401);
    expect(repliesTo('unsigned')).toHaveLength(0);
  });

  it('refuses a token signed with another key under the published key id', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = signWithKey(privateKey, sandbox.signingKeyId, {
      aud: sandbox.appId,
      iss: sandbox.issuer,
      serviceurl: sandbox.serviceUrl,
    });

    const response = await sandbox.sendRaw(message(sandbox, conversationId, 'forged'), {
      authorization: `Bearer ${forged}`,
    });

    expect(response.status).toBe(401);
    expect(repliesTo('forged')).toHaveLength(0);
  });

  it('refuses a token signed with a key the issuer never published', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = signWithKey(privateKey, 'someone-elses-key', {
      aud: sandbox.appId,
      iss: sandbox.issuer,
      serviceurl: sandbox.serviceUrl,
    });

    const response = await sandbox.sendRaw(message(sandbox, conversationId, 'unknown key'), {
      authorization: `Bearer ${forged}`,
    });

    expect(response.status).toBe(401);
    expect(repliesTo('unknown key')).toHaveLength(0);
  });

  it('refuses an expired token', async () => {
    const twoHoursAgo = Math.floor(Date.now() / 1000) - 2 * 3600;
    const expired = sandbox.signChannelToken({}, { nowSeconds: twoHoursAgo, lifetimeSeconds: 600 });

    const response = await sandbox.sendRaw(message(sandbox, conversationId, 'expired'), {
      authorization: `Bearer ${expired}`,
    });

    expect(response.status).toBe(401);
    expect(repliesTo('expired')).toHaveLength(0);
  });

  it('refuses a token issued for another bot (wrong audience)', async () => {
    const token = sandbox.signChannelToken({ aud: 'some-other-bot' });

    const response = await sandbox.sendRaw(message(sandbox, conversationId, 'other audience'), {
      authorization: `Bearer ${token}`,
    });

    expect(response.status).toBe(401);
    expect(repliesTo('other audience')).toHaveLength(0);
  });

  it('refuses a token from an issuer it does not trust', async () => {
    const token = sandbox.signChannelToken({ iss: 'https://attacker.example' });

    const response = await sandbox.sendRaw(message(sandbox, conversationId, 'other issuer'), {
      authorization: `Bearer ${token}`,
    });

    expect(response.status).toBe(401);
    expect(repliesTo('other issuer')).toHaveLength(0);
  });

  it('refuses a token whose serviceurl claim does not match the activity (redirecting replies elsewhere)', async () => {
    const token = sandbox.signChannelToken({ serviceurl: 'https://attacker.example/' });

    const response = await sandbox.sendRaw(message(sandbox, conversationId, 'other service'), {
      authorization: `Bearer ${token}`,
    });

    expect(response.status).toBe(401);
    expect(repliesTo('other service')).toHaveLength(0);
  });

  it('refuses a token that is not a JWT at all', async () => {
    const response = await sandbox.sendRaw(message(sandbox, conversationId, 'garbage'), {
      authorization: 'Bearer not-a-jwt',
    });

    expect(response.status).toBe(401);
    expect(repliesTo('garbage')).toHaveLength(0);
  });
});

describe('hostile requests to /api/messages', () => {
  let sandbox: ConnectorSandbox;
  let bot: ListeningServer;

  beforeAll(async () => {
    sandbox = await startConnectorSandbox({ appId: 'app-hostile-e2e' });
    const { server } = createEchoBot({ bot: botSettings(sandbox), log: silentLog, maxBodyBytes: 16 * 1024 });
    bot = await listen(server, { port: 0, host: '127.0.0.1' });
    sandbox.botEndpoint = `${bot.url}/api/messages`;
  });

  afterAll(async () => {
    await bot?.close();
    await sandbox?.close();
  });

  const signed = () => ({ authorization: `Bearer ${sandbox.signChannelToken()}` });

  it('answers malformed JSON with 400 and a JSON error, even when signed', async () => {
    const response = await sandbox.sendRaw('{"type":"message",', signed());

    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'invalid_json' } });
  });

  it('answers a body over the size limit with 413', async () => {
    const response = await sandbox.sendRaw({ type: 'message', text: 'x'.repeat(32 * 1024) }, signed());

    expect(response.status).toBe(413);
  });

  it('answers 400 to a JSON body that is not an activity, and the bot stays up', async () => {
    const array = await sandbox.sendRaw([1, 2, 3], signed());
    const typeless = await sandbox.sendRaw({ text: 'no type' }, signed());
    const health = await fetch(`${bot.url}/healthz`);

    expect(array.status).toBe(400);
    expect(typeless.status).toBe(400);
    expect(health.status).toBe(200);
    expect(sandbox.activities).toHaveLength(0);
  });
});

describe('outbound Bot Framework authentication', () => {
  it('cannot reply when its app secret is wrong: the token endpoint refuses it and nothing reaches the chat', async () => {
    const sandbox = await startConnectorSandbox({
      appId: 'app-wrong-secret',
      appPassword: 'the real secret',
    });
    const { server } = createEchoBot({
      bot: botSettings(sandbox, { appPassword: 'a stale secret' }),
      log: silentLog,
    });
    const bot = await listen(server, { port: 0, host: '127.0.0.1' });
    try {
      sandbox.botEndpoint = `${bot.url}/api/messages`;

      await sandbox.userSays(ada, 'anyone there?');

      expect(sandbox.requests.find((r) => r.operation === 'token')).toMatchObject({ status: 401 });
      expect(sandbox.activities).toHaveLength(0);
    } finally {
      await bot.close();
      await sandbox.close();
    }
  });

  it('accepts a token from any sandbox’s token endpoint, as every connector trusts the one Entra ID', async () => {
    const first = await startConnectorSandbox({ appId: 'app-two-connectors' });
    const second = await startConnectorSandbox({ appId: 'app-two-connectors' });
    try {
      const tokenResponse = await fetch(`${first.loginUrl(TENANT)}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: 'app-two-connectors',
          client_secret: 'anything',
          scope: 'https://api.botframework.com/.default',
        }).toString(),
      });
      const { access_token: token } = (await tokenResponse.json()) as { access_token: string };

      const response = await fetch(`${second.url}/v3/conversations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ members: [{ id: ada.id }], tenantId: TENANT }),
      });

      expect(response.status).toBe(201);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('is refused by the connector when a call carries no bearer token', async () => {
    const sandbox = await startConnectorSandbox({ appId: 'app-no-token' });
    try {
      const response = await fetch(`${sandbox.url}/v3/conversations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ members: [{ id: ada.id }], tenantId: TENANT }),
      });

      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ message: 'Authorization has been denied for this request.' });
    } finally {
      await sandbox.close();
    }
  });
});

describe('local mode (no app id)', () => {
  it('accepts unsigned activities and replies without a token', async () => {
    const sandbox = await startConnectorSandbox();
    const { server } = createEchoBot({
      bot: {
        appId: undefined,
        appPassword: undefined,
        appTenantId: undefined,
        appType: 'SingleTenant',
        teamsAppId: undefined,
        serviceUrl: sandbox.url,
        openIdMetadataUrl: undefined,
        tokenIssuer: undefined,
        loginUrl: undefined,
      },
      log: silentLog,
    });
    const bot = await listen(server, { port: 0, host: '127.0.0.1' });
    try {
      sandbox.botEndpoint = `${bot.url}/api/messages`;

      const result = await sandbox.userSays(ada, 'hello');

      expect(result.status).toBe(200);
      expect(sandbox.delivered[0]?.signed).toBe(false);
      await sandbox.waitFor((a) => a.text === 'echo: hello');
      expect(sandbox.requests.find((r) => r.operation === 'replyToActivity')).toMatchObject({
        status: 201,
        authenticated: false,
      });
    } finally {
      await bot.close();
      await sandbox.close();
    }
  });
});
