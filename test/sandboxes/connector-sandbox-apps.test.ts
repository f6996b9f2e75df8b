/**
 * The connector sandbox with several bot registrations, as an MSP runs one single-tenant bot per customer tenant:
 * each app gets its token with its own secret, deliveries to a tenant's users are signed for the app installed
 * there, and an app acting in another tenant's conversation is refused as Teams refuses a bot outside the roster.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startConnectorSandbox,
  type ConnectorSandbox,
  type TeamsUser,
} from '../../src/sandboxes/connector/connector-sandbox.js';

const MSP = { appId: 'app-msp', appPassword: 'msp-secret', tenantId: 'tenant-msp' };
const CONTOSO = { appId: 'app-contoso', appPassword: 'contoso-secret', tenantId: 'tenant-contoso' };
const FABRIKAM = { appId: 'app-fabrikam', appPassword: 'fabrikam-secret', tenantId: 'tenant-fabrikam' };
const megan: TeamsUser = {
  id: '29:megan',
  aadObjectId: 'aad-megan',
  name: 'Megan',
  tenantId: CONTOSO.tenantId,
};
const adele: TeamsUser = {
  id: '29:adele',
  aadObjectId: 'aad-adele',
  name: 'Adele',
  tenantId: FABRIKAM.tenantId,
};
const dana: TeamsUser = { id: '29:dana', aadObjectId: 'aad-dana', name: 'Dana', tenantId: MSP.tenantId };

let sandbox: ConnectorSandbox;
let botServer: Server;
const seen: Array<{ headers: IncomingHttpHeaders; body: Record<string, unknown> }> = [];

beforeAll(async () => {
  sandbox = await startConnectorSandbox({
    appId: MSP.appId,
    appPassword: MSP.appPassword,
    apps: [CONTOSO, FABRIKAM].map(({ appId, appPassword }) => ({ appId, appPassword })),
    tenantApps: { [CONTOSO.tenantId]: CONTOSO.appId, [FABRIKAM.tenantId]: FABRIKAM.appId },
  });
  // A bot endpoint that records what it is sent.
  botServer = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(200).end();
    });
  });
  botServer.listen(0, '127.0.0.1');
  await new Promise((resolve) => botServer.once('listening', resolve));
  sandbox.botEndpoint = `http://127.0.0.1:${(botServer.address() as AddressInfo).port}/api/messages`;
  for (const user of [megan, adele, dana]) sandbox.addUser(user);
});

afterAll(async () => {
  await sandbox?.close();
  await new Promise((resolve) => botServer?.close(resolve));
});

async function tokenFor(
  app: { appId: string; appPassword: string; tenantId: string },
  secret = app.appPassword,
) {
  const response = await fetch(`${sandbox.loginUrl(app.tenantId)}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app.appId,
      client_secret: secret,
      scope: 'https://api.botframework.com/.default',
    }),
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  return { status: response.status, token: body.access_token, error: body.error };
}

function createChat(token: string, user: TeamsUser, botAppId: string) {
  return fetch(`${sandbox.url}/v3/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      isGroup: false,
      bot: { id: `28:${botAppId}` },
      members: [{ id: user.aadObjectId }],
      tenantId: user.tenantId,
      channelData: { tenant: { id: user.tenantId } },
    }),
  });
}

const audienceOf = (headers: IncomingHttpHeaders): unknown => {
  const token = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1] ?? '';
  return (
    JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud?: unknown }
  ).aud;
};

describe('the connector sandbox with a bot registration per tenant', () => {
  it('knows every app, the default first, and which one is installed in each tenant', () => {
    expect(sandbox.appIds).toEqual([MSP.appId, CONTOSO.appId, FABRIKAM.appId]);
    expect(sandbox.appForTenant(FABRIKAM.tenantId)).toBe(FABRIKAM.appId);
    expect(sandbox.appForTenant(MSP.tenantId)).toBe(MSP.appId);
    expect(sandbox.appForTenant('tenant-elsewhere')).toBe(MSP.appId);
  });

  it('gives each app a token for its own secret only', async () => {
    expect((await tokenFor(CONTOSO)).status).toBe(200);
    expect(await tokenFor(CONTOSO, FABRIKAM.appPassword)).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
    expect(
      await tokenFor({ appId: 'app-stranger', appPassword: 'x', tenantId: CONTOSO.tenantId }),
    ).toMatchObject({ status: 400, error: 'unauthorized_client' });
  });

  it('lets only the app installed in a tenant open a chat there, and records which app called', async () => {
    const contoso = (await tokenFor(CONTOSO)).token!;
    const fabrikam = (await tokenFor(FABRIKAM)).token!;

    const wrong = await createChat(contoso, adele, CONTOSO.appId);
    expect(wrong.status).toBe(403);
    const right = await createChat(fabrikam, adele, FABRIKAM.appId);
    expect(right.status).toBe(201);
    const { id } = (await right.json()) as { id: string };

    const created = sandbox.requests.filter((r) => r.operation === 'createConversation');
    expect(created.map((r) => [r.status, r.appId])).toEqual([
      [403, CONTOSO.appId],
      [201, FABRIKAM.appId],
    ]);
    expect(created[1]?.conversationId).toBe(id);

    const send = (token: string) =>
      fetch(`${sandbox.url}/v3/conversations/${encodeURIComponent(id)}/activities`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ type: 'message', text: 'hello' }),
      });
    expect((await send(contoso)).status).toBe(403);
    expect((await send(fabrikam)).status).toBe(201);
  });

  it("signs deliveries for the app installed in the user's tenant and names it as the recipient", async () => {
    seen.length = 0;
    await sandbox.userSays(adele, 'hello from Fabrikam');
    await sandbox.userSays(dana, 'hello from the MSP');
    await sandbox.userSays(megan, 'sent to the wrong bot', { asApp: FABRIKAM.appId });

    expect(seen.map((s) => [audienceOf(s.headers), (s.body['recipient'] as { id: string }).id])).toEqual([
      [FABRIKAM.appId, `28:${FABRIKAM.appId}`],
      [MSP.appId, `28:${MSP.appId}`],
      [FABRIKAM.appId, `28:${FABRIKAM.appId}`],
    ]);
    expect(sandbox.delivered.slice(-3).map((d) => d.appId)).toEqual([
      FABRIKAM.appId,
      MSP.appId,
      FABRIKAM.appId,
    ]);
  });

  it('refuses an app in tenantApps that it does not know', async () => {
    await expect(
      startConnectorSandbox({ appId: MSP.appId, tenantApps: { [CONTOSO.tenantId]: 'app-unknown' } }),
    ).rejects.toThrow(/not an app/);
  });
});
