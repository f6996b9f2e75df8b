/**
 * botbuilder's CloudAdapter asks its BotFrameworkAuthentication for a new connector factory, a new
 * `ConnectorClient` (HTTP pipeline, serializer, credentials object) and a new `UserTokenClient` on every inbound
 * turn and every proactive send — the typing indicator included. Those clients hold no per-request state: the
 * credentials object fetches its token through botbuilder's process-wide token cache, which refreshes it before it
 * expires. So one connector client per (bot app id, service URL, audience) and one user-token client per bot app id
 * serve every turn; this wrapper hands them out, and delegates everything else (request authentication above all)
 * to the authentication it wraps — with several registrations, the router that picks one per app id.
 */
import {
  AuthenticationConstants,
  BotFrameworkAuthentication,
  ConnectorFactory,
  type AuthenticateRequestResult,
  type BotFrameworkClient,
  type ClaimsIdentity,
  type ConnectorClient,
  type UserTokenClient,
} from 'botframework-connector';
import type { Activity } from 'botbuilder';

/** More distinct (app id, service URL, audience) keys than this and the oldest client is dropped. */
const DEFAULT_MAX_CLIENTS = 64;

/** The app id botbuilder acts as for an identity: the audience claim (channel tokens), else the app id claim. */
function appIdOf(claimsIdentity: ClaimsIdentity): string {
  return (
    claimsIdentity.getClaimValue(AuthenticationConstants.AudienceClaim) ??
    claimsIdentity.getClaimValue(AuthenticationConstants.AppIdClaim) ??
    ''
  );
}

/** Promises by key, at most `max` of them (oldest first out); a rejected promise is forgotten. */
class PromiseCache<T> {
  private readonly entries = new Map<string, Promise<T>>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, make: () => Promise<T>): Promise<T> {
    const cached = this.entries.get(key);
    if (cached) return cached;
    const made = make();
    this.entries.set(key, made);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    made.catch(() => {
      if (this.entries.get(key) === made) this.entries.delete(key);
    });
    return made;
  }
}

class ReusingConnectorFactory extends ConnectorFactory {
  constructor(
    private readonly appId: string,
    private readonly inner: ConnectorFactory,
    private readonly clients: PromiseCache<ConnectorClient>,
  ) {
    super();
  }

  override create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
    const key = `${this.appId}\n${serviceUrl}\n${audience ?? ''}`;
    return this.clients.get(key, () => this.inner.create(serviceUrl, audience));
  }
}

export class ReusedConnectorClients extends BotFrameworkAuthentication {
  private readonly clients: PromiseCache<ConnectorClient>;
  private readonly userTokenClients: PromiseCache<UserTokenClient>;

  constructor(
    private readonly inner: BotFrameworkAuthentication,
    options: { maxClients?: number } = {},
  ) {
    super();
    const max = options.maxClients ?? DEFAULT_MAX_CLIENTS;
    this.clients = new PromiseCache(max);
    this.userTokenClients = new PromiseCache(max);
  }

  /** How many connector clients are kept (for tests). */
  get connectorClientCount(): number {
    return this.clients.size;
  }

  override async authenticateRequest(
    activity: Activity,
    authHeader: string,
  ): Promise<AuthenticateRequestResult> {
    return this.reusing(await this.inner.authenticateRequest(activity, authHeader));
  }

  override async authenticateStreamingRequest(
    authHeader: string,
    channelIdHeader: string,
  ): Promise<AuthenticateRequestResult> {
    return this.reusing(await this.inner.authenticateStreamingRequest(authHeader, channelIdHeader));
  }

  override authenticateChannelRequest(authHeader: string): Promise<ClaimsIdentity> {
    return this.inner.authenticateChannelRequest(authHeader);
  }

  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return new ReusingConnectorFactory(
      appIdOf(claimsIdentity),
      this.inner.createConnectorFactory(claimsIdentity),
      this.clients,
    );
  }

  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return this.userTokenClients.get(appIdOf(claimsIdentity), () =>
      this.inner.createUserTokenClient(claimsIdentity),
    );
  }

  override createBotFrameworkClient(): BotFrameworkClient {
    return this.inner.createBotFrameworkClient();
  }

  private reusing(result: AuthenticateRequestResult): AuthenticateRequestResult {
    if (!result.connectorFactory) return result;
    return {
      ...result,
      connectorFactory: new ReusingConnectorFactory(
        appIdOf(result.claimsIdentity),
        result.connectorFactory,
        this.clients,
      ),
    };
  }
}
