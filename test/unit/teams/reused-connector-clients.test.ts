/**
 * The connector clients botbuilder builds for each turn and send are reused: one per (app id, service URL,
 * audience), over botbuilder's real ConfigurationBotFrameworkAuthentication (no network: building a client and its
 * credentials makes no call). Sends through reused clients, with tokens, are exercised over HTTP in
 * test/in-process/teams-bot.test.ts and test/e2e/multi-tenant.test.ts.
 */
import { ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import {
  AuthenticationConstants,
  BotFrameworkAuthentication,
  ClaimsIdentity,
  type AuthenticateRequestResult,
  type BotFrameworkClient,
  type ConnectorFactory,
  type UserTokenClient,
} from 'botframework-connector';
import { describe, expect, it } from 'vitest';
import { ReusedConnectorClients } from '../../../src/adapters/teams/reused-connector-clients.js';

const SERVICE = 'http://127.0.0.1:9/';
const OTHER_SERVICE = 'http://127.0.0.1:10/';

function actingAs(appId: string): ClaimsIdentity {
  return new ClaimsIdentity([
    { type: AuthenticationConstants.AudienceClaim, value: appId },
    { type: AuthenticationConstants.AppIdClaim, value: appId },
  ]);
}

function registration(appId: string): BotFrameworkAuthentication {
  return new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: appId,
    MicrosoftAppPassword: 'secret',
    MicrosoftAppType: 'MultiTenant',
  });
}

/** Two registrations behind one authentication, chosen by the identity's app id (as bot-registrations.ts does). */
class TwoRegistrations extends BotFrameworkAuthentication {
  readonly byAppId = new Map([
    ['app-a', registration('app-a')],
    ['app-b', registration('app-b')],
  ]);
  failNextConnector = false;

  private pick(identity: ClaimsIdentity): BotFrameworkAuthentication {
    const auth = this.byAppId.get(identity.getClaimValue(AuthenticationConstants.AudienceClaim) ?? '');
    if (!auth) throw new Error('unknown registration');
    return auth;
  }

  override authenticateRequest(): Promise<AuthenticateRequestResult> {
    throw new Error('not used here');
  }
  override authenticateStreamingRequest(): Promise<AuthenticateRequestResult> {
    throw new Error('not used here');
  }
  override authenticateChannelRequest(): Promise<ClaimsIdentity> {
    throw new Error('not used here');
  }
  override createConnectorFactory(identity: ClaimsIdentity): ConnectorFactory {
    const factory = this.pick(identity).createConnectorFactory(identity);
    if (!this.failNextConnector) return factory;
    this.failNextConnector = false;
    return {
      create: () => Promise.reject(new Error('token endpoint unreachable')),
    } as unknown as ConnectorFactory;
  }
  override createUserTokenClient(identity: ClaimsIdentity): Promise<UserTokenClient> {
    return this.pick(identity).createUserTokenClient(identity);
  }
  override createBotFrameworkClient(): BotFrameworkClient {
    throw new Error('not used here');
  }
}

function appIdOfClient(client: unknown): unknown {
  return (client as { credentials?: { appId?: unknown } }).credentials?.appId;
}

describe('reused connector clients', () => {
  it('hands out one connector client per app id and service URL, whatever the number of turns', async () => {
    const auth = new ReusedConnectorClients(registration('app-a'));
    const first = await auth.createConnectorFactory(actingAs('app-a')).create(SERVICE);
    const second = await auth.createConnectorFactory(actingAs('app-a')).create(SERVICE);
    const elsewhere = await auth.createConnectorFactory(actingAs('app-a')).create(OTHER_SERVICE);
    expect(second).toBe(first);
    expect(elsewhere).not.toBe(first);
    expect((elsewhere as unknown as { baseUri: string }).baseUri).toBe(OTHER_SERVICE);
    expect(auth.connectorClientCount).toBe(2);
  });

  it('keeps a separate client, with its own credentials, for each bot registration', async () => {
    const auth = new ReusedConnectorClients(new TwoRegistrations());
    const a = await auth.createConnectorFactory(actingAs('app-a')).create(SERVICE);
    const b = await auth.createConnectorFactory(actingAs('app-b')).create(SERVICE);
    expect(b).not.toBe(a);
    expect(appIdOfClient(a)).toBe('app-a');
    expect(appIdOfClient(b)).toBe('app-b');
    expect(await auth.createConnectorFactory(actingAs('app-b')).create(SERVICE)).toBe(b);
  });

  it('keeps a separate client for another token audience', async () => {
    const auth = new ReusedConnectorClients(registration('app-a'));
    const channel = await auth.createConnectorFactory(actingAs('app-a')).create(SERVICE);
    const skill = await auth.createConnectorFactory(actingAs('app-a')).create(SERVICE, 'other-bot');
    expect(skill).not.toBe(channel);
  });

  it('builds a client anew after a failed attempt instead of keeping the failure', async () => {
    const inner = new TwoRegistrations();
    const auth = new ReusedConnectorClients(inner);
    inner.failNextConnector = true;
    await expect(auth.createConnectorFactory(actingAs('app-a')).create(SERVICE)).rejects.toThrow(
      'token endpoint unreachable',
    );
    const client = await auth.createConnectorFactory(actingAs('app-a')).create(SERVICE);
    expect(appIdOfClient(client)).toBe('app-a');
  });

  it('keeps at most the configured number of clients, dropping the oldest', async () => {
    const auth = new ReusedConnectorClients(registration('app-a'), { maxClients: 2 });
    const factory = auth.createConnectorFactory(actingAs('app-a'));
    const first = await factory.create('http://127.0.0.1:1/');
    await factory.create('http://127.0.0.1:2/');
    await factory.create('http://127.0.0.1:3/');
    expect(auth.connectorClientCount).toBe(2);
    expect(await factory.create('http://127.0.0.1:1/')).not.toBe(first);
  });

  it('reuses one user-token client per registration', async () => {
    const auth = new ReusedConnectorClients(new TwoRegistrations());
    const a = await auth.createUserTokenClient(actingAs('app-a'));
    expect(await auth.createUserTokenClient(actingAs('app-a'))).toBe(a);
    expect(await auth.createUserTokenClient(actingAs('app-b'))).not.toBe(a);
  });
});
