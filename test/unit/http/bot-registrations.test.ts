import { readFileSync } from 'node:fs';
import { ClaimsIdentity } from 'botframework-connector';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/load-config.js';
import { loadTenantMap } from '../../../src/config/tenant-map.js';
import { ConfigError } from '../../../src/errors.js';
import {
  BotRegistrationRouter,
  createBotRegistrations,
  loginUrlForTenant,
  UnknownBotRegistrationError,
} from '../../../src/http/bot-registrations.js';
import {
  SANDBOX_BOTS,
  sandboxTenantsDocument,
  sandboxTenantsSecrets,
} from '../../../src/sandboxes/sandbox-tenants.js';
import { SANDBOX_TENANTS_FILE } from '../../fixtures/graph/sandbox-tenants.js';

const msp: Config['bot'] = {
  appId: SANDBOX_BOTS.msp.appId,
  appPassword: SANDBOX_BOTS.msp.password,
  appTenantId: SANDBOX_BOTS.msp.tenantId,
  appType: 'SingleTenant',
  teamsAppId: undefined,
  serviceUrl: 'https://smba.trafficmanager.net/teams',
  openIdMetadataUrl: undefined,
  tokenIssuer: undefined,
  loginUrl: undefined,
};
const secrets = sandboxTenantsSecrets({
  credentials: (key) => ({ tenantId: key, clientId: key, clientSecret: `${key}-graph-secret` }),
});
const tenantMap = () => loadTenantMap({ tenantsFile: SANDBOX_TENANTS_FILE }, {}, secrets);
const message = (tenantId: string) => ({
  type: 'message',
  channelId: 'msteams',
  serviceUrl: 'https://smba.trafficmanager.net/teams/',
  conversation: { id: 'a:1', conversationType: 'personal', tenantId },
  channelData: { tenant: { id: tenantId } },
});
/** A JWT-shaped string whose payload names an audience; never valid, only routable. */
const unsignedToken = (aud: string) =>
  ['{"alg":"RS256"}', JSON.stringify({ aud })].map((p) => Buffer.from(p).toString('base64url')).join('.') +
  '.c2ln';

describe('bot registrations from the tenant map', () => {
  it('serves the default registration alone when no tenant names a bot of its own', () => {
    const single = loadTenantMap(
      { tenantId: SANDBOX_BOTS.contoso.tenantId, clientId: 'c', clientSecret: 's' },
      msp,
      {},
    );
    const bots = createBotRegistrations(msp, single);

    expect(bots.auth).not.toBeInstanceOf(BotRegistrationRouter);
    expect(bots.appIds).toEqual([msp.appId]);
    expect(bots.appIdForTenant(SANDBOX_BOTS.contoso.tenantId)).toBe(msp.appId);
  });

  it('adds one registration per tenant bot, the default first, and says which serves each tenant', () => {
    const bots = createBotRegistrations(msp, tenantMap());

    expect(bots.auth).toBeInstanceOf(BotRegistrationRouter);
    expect(bots.appIds).toEqual([
      SANDBOX_BOTS.msp.appId,
      SANDBOX_BOTS.contoso.appId,
      SANDBOX_BOTS.fabrikam.appId,
      SANDBOX_BOTS.tailspin.appId,
    ]);
    expect(bots.appIdForTenant(SANDBOX_BOTS.fabrikam.tenantId)).toBe(SANDBOX_BOTS.fabrikam.appId);
    // The MSP's tenant lists no bot and MICROSOFT_APP_ID is not passed to the map here: the default serves it.
    expect(bots.appIdForTenant(SANDBOX_BOTS.msp.tenantId)).toBeNull();
    expect(bots.appIdForTenant('99999999-9999-4999-8999-999999999999')).toBeNull();
  });

  it("refuses tenant bots without MICROSOFT_APP_ID (the MSP's own bot serves the technicians)", () => {
    let refused: unknown;
    try {
      createBotRegistrations({ ...msp, appId: undefined }, tenantMap());
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).problems).toEqual([
      expect.stringMatching(/^MICROSOFT_APP_ID: required when TENANTS_FILE names bot registrations/),
    ]);
  });
});

describe('routing requests between registrations', () => {
  const router = () => createBotRegistrations(msp, tenantMap()).auth;

  it('refuses a token for an audience that is no registration here, before any validation', async () => {
    await expect(
      router().authenticateRequest(
        message(SANDBOX_BOTS.contoso.tenantId) as never,
        `Bearer ${unsignedToken('b0000009-0000-4000-8000-000000000009')}`,
      ),
    ).rejects.toMatchObject({ statusCode: 401 });
  });

  it('refuses a request without a token (the default registration has an app id)', async () => {
    await expect(
      router().authenticateRequest(message(SANDBOX_BOTS.contoso.tenantId) as never, ''),
    ).rejects.toMatchObject({ statusCode: 401 });
  });

  it('refuses to act as an app id it has no registration for', () => {
    const identity = new ClaimsIdentity([{ type: 'aud', value: 'b0000009-0000-4000-8000-000000000009' }]);
    expect(() => router().createConnectorFactory(identity)).toThrow(UnknownBotRegistrationError);
  });

  it('acts as the registration the identity names', () => {
    const identity = new ClaimsIdentity([{ type: 'aud', value: SANDBOX_BOTS.fabrikam.appId }]);
    expect(router().createConnectorFactory(identity)).toBeDefined();
  });
});

describe("a tenant registration's token authority", () => {
  it('is BOT_LOGIN_URL with its tenant in place of the default one', () => {
    expect(loginUrlForTenant('http://127.0.0.1:4010/33333333-3333-4333-8333-333333333333', 'T')).toBe(
      'http://127.0.0.1:4010/T',
    );
    expect(loginUrlForTenant('https://login.microsoftonline.us/botframework.com/', 'T')).toBe(
      'https://login.microsoftonline.us/T',
    );
    expect(loginUrlForTenant('https://login.example.net', 'T')).toBe('https://login.example.net/T');
  });
});

describe('the sandbox tenants file', () => {
  it('is the checked-in example test/fixtures/graph/tenants.sandbox.json', () => {
    expect(sandboxTenantsDocument()).toEqual(JSON.parse(readFileSync(SANDBOX_TENANTS_FILE, 'utf8')));
  });
});
