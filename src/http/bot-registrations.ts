/**
 * Several Bot Framework registrations behind one /api/messages: the MSP's own bot (MICROSOFT_APP_ID, which also
 * serves the technicians' channel) and one single-tenant bot per customer tenant that names its own in the tenants
 * file (Azure no longer creates multi-tenant bots).
 *
 * Inbound, the token's `aud` — read WITHOUT verifying — only chooses which registration's authentication then
 * verifies the whole token (signature, issuer, audience, service URL). An audience that is no registration here is
 * refused with 401, and so is an activity from a tenant that another registration serves: a single-tenant bot never
 * receives another tenant's traffic. Outbound, botbuilder asks for a connector with the app id it acts as (the
 * `aud` claim of the turn's identity) and gets that registration's credentials.
 */
import {
  AuthenticationConstants,
  AuthenticationError,
  BotFrameworkAuthentication,
  type AuthenticateRequestResult,
  type BotFrameworkClient,
  type ClaimsIdentity,
  type ConnectorFactory,
  type UserTokenClient,
} from 'botframework-connector';
import type { Activity } from 'botbuilder';
import type { Config } from '../config/load-config.js';
import type { TenantMap } from '../config/tenant-map.js';
import { ConfigError, TicketZeroError } from '../errors.js';
import { createBotFrameworkAuthentication } from './bot-authentication.js';

/** botbuilder was asked to act as an app id that is none of the configured registrations. */
export class UnknownBotRegistrationError extends TicketZeroError {
  readonly code = 'bot_registration_unknown';
}

export interface BotRegistration {
  appId: string;
  /** The Entra tenant the registration's app lives in (its token authority). */
  tenantId: string;
  auth: BotFrameworkAuthentication;
}

export interface BotRegistrations {
  /** Hand this to the Teams adapter's CloudAdapter: it routes every call to the right registration. */
  readonly auth: BotFrameworkAuthentication;
  /** The app ids served, the default (MICROSOFT_APP_ID) first; empty when the bot runs without one. */
  readonly appIds: readonly string[];
  /** The registration serving a tenant (by Entra tenant id); null: the default one. */
  appIdForTenant(tenantId: string): string | null;
}

/**
 * Builds the authentication for MICROSOFT_APP_ID plus every other bot registration the tenant map names. With
 * only the default registration this is exactly createBotFrameworkAuthentication(bot).
 */
export function createBotRegistrations(
  bot: Config['bot'],
  tenants: Pick<TenantMap, 'tenants' | 'tenantById' | 'botFor'>,
): BotRegistrations {
  const defaultAuth = createBotFrameworkAuthentication(bot);
  const appIdForTenant = (tenantId: string): string | null => {
    const ref = tenants.tenantById(tenantId);
    return (ref && tenants.botFor(ref)?.appId) ?? null;
  };

  const others = new Map<string, BotRegistration>();
  const problems: string[] = [];
  for (const tenant of tenants.tenants) {
    if (!tenant.bot || tenant.bot.appId === bot.appId || others.has(tenant.bot.appId)) continue;
    try {
      others.set(tenant.bot.appId, {
        appId: tenant.bot.appId,
        tenantId: tenant.tenantId,
        auth: createBotFrameworkAuthentication(
          tenantBotSettings(bot, { ...tenant.bot, tenantId: tenant.tenantId }),
        ),
      });
    } catch (error) {
      const detail = error instanceof ConfigError ? error.problems.join('; ') : String(error);
      problems.push(`TENANTS_FILE tenant "${tenant.key}" bot: ${detail}`);
    }
  }
  if (others.size > 0 && !bot.appId) {
    problems.push(
      "MICROSOFT_APP_ID: required when TENANTS_FILE names bot registrations (the MSP's own bot serves the technicians' channel and tenants without a bot of their own)",
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  if (others.size === 0) {
    return { auth: defaultAuth, appIds: bot.appId ? [bot.appId] : [], appIdForTenant };
  }
  const defaultRegistration: BotRegistration = {
    appId: bot.appId as string,
    tenantId: bot.appTenantId ?? '',
    auth: defaultAuth,
  };
  const all = [defaultRegistration, ...others.values()];
  return {
    auth: new BotRegistrationRouter(all, (tenantId) => appIdForTenant(tenantId) ?? defaultRegistration.appId),
    appIds: all.map((r) => r.appId),
    appIdForTenant,
  };
}

/**
 * The bot settings of a tenant's own registration: the same endpoints as the default one, its own app id, secret
 * and tenant. BOT_LOGIN_URL is `<login host>/<tenant>`; the registration gets its token from `<login host>/<its
 * tenant>`.
 */
export function tenantBotSettings(
  bot: Config['bot'],
  registration: { appId: string; appPassword: string; tenantId: string },
): Config['bot'] {
  return {
    ...bot,
    appId: registration.appId,
    appPassword: registration.appPassword,
    appTenantId: registration.tenantId,
    appType: 'SingleTenant',
    loginUrl: bot.loginUrl ? loginUrlForTenant(bot.loginUrl, registration.tenantId) : undefined,
  };
}

/** `https://login.example/<tenant>` with its last path segment (the tenant) replaced. */
export function loginUrlForTenant(loginUrl: string, tenantId: string): string {
  const url = new URL(loginUrl);
  const segments = url.pathname.split('/').filter((s) => s !== '');
  if (segments.length > 0) segments[segments.length - 1] = tenantId;
  else segments.push(tenantId);
  url.pathname = `/${segments.join('/')}`;
  return url.toString().replace(/\/+$/, '');
}

/**
 * Routes each botbuilder call to one registration's authentication. Exported for tests; build it through
 * createBotRegistrations.
 */
export class BotRegistrationRouter extends BotFrameworkAuthentication {
  private readonly byAppId: ReadonlyMap<string, BotRegistration>;
  private readonly defaultRegistration: BotRegistration;

  /** `registrations[0]` is the default; `servedBy` names the app id that serves a tenant. */
  constructor(
    registrations: readonly BotRegistration[],
    private readonly servedBy: (tenantId: string) => string,
  ) {
    super();
    const first = registrations[0];
    if (!first) throw new ConfigError(['bot registrations: at least one is needed']);
    this.defaultRegistration = first;
    this.byAppId = new Map(registrations.map((r) => [r.appId, r]));
  }

  override async authenticateRequest(
    activity: Activity,
    authHeader: string,
  ): Promise<AuthenticateRequestResult> {
    const registration = this.forHeader(authHeader);
    const result = await registration.auth.authenticateRequest(activity, authHeader);
    // The verified audience must be the registration chosen from the unverified one.
    if (result.claimsIdentity.getClaimValue(AuthenticationConstants.AudienceClaim) !== registration.appId) {
      throw unauthorized('the token is not for the bot registration it names');
    }
    // A single-tenant bot only ever receives its own tenant's traffic; an activity naming no tenant is the
    // default registration's.
    const tenantIds = tenantsOf(activity);
    const servedBy = tenantIds.length > 0 ? tenantIds.map(this.servedBy) : [this.defaultRegistration.appId];
    if (servedBy.some((appId) => appId !== registration.appId)) {
      throw unauthorized("the activity's tenant is served by another bot registration");
    }
    return result;
  }

  override authenticateStreamingRequest(
    authHeader: string,
    channelIdHeader: string,
  ): Promise<AuthenticateRequestResult> {
    return this.forHeader(authHeader).auth.authenticateStreamingRequest(authHeader, channelIdHeader);
  }

  override authenticateChannelRequest(authHeader: string): Promise<ClaimsIdentity> {
    return this.forHeader(authHeader).auth.authenticateChannelRequest(authHeader);
  }

  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return this.forIdentity(claimsIdentity).auth.createConnectorFactory(claimsIdentity);
  }

  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return this.forIdentity(claimsIdentity).auth.createUserTokenClient(claimsIdentity);
  }

  override createBotFrameworkClient(): BotFrameworkClient {
    return this.defaultRegistration.auth.createBotFrameworkClient();
  }

  /** Chooses the validator from the token's claimed audience; the validator then checks everything. */
  private forHeader(authHeader: string): BotRegistration {
    const token = /^Bearer\s+(\S+)$/i.exec(authHeader.trim())?.[1];
    // No token: the default registration refuses it the way botbuilder does for a bot with an app id.
    if (!token) return this.defaultRegistration;
    const audience = unverifiedAudience(token);
    const registration = audience === null ? undefined : this.byAppId.get(audience);
    if (!registration) throw unauthorized('the token is not for a bot registration served here');
    return registration;
  }

  private forIdentity(claimsIdentity: ClaimsIdentity): BotRegistration {
    const appId =
      claimsIdentity.getClaimValue(AuthenticationConstants.AudienceClaim) ??
      claimsIdentity.getClaimValue(AuthenticationConstants.AppIdClaim);
    if (!appId) return this.defaultRegistration;
    const registration = this.byAppId.get(appId);
    if (!registration) {
      throw new UnknownBotRegistrationError(`no bot registration is configured for app id ${appId}`);
    }
    return registration;
  }
}

function unauthorized(reason: string): AuthenticationError {
  return new AuthenticationError(`Unauthorized. ${reason}.`, 401);
}

/** The `aud` claim of a JWT, decoded but NOT verified: only good for choosing who verifies it. */
function unverifiedAudience(token: string): string | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { aud?: unknown };
    return typeof claims.aud === 'string' ? claims.aud : null;
  } catch {
    return null;
  }
}

/** The tenant ids an activity claims (Teams sets both; an activity naming two tenants must satisfy both). */
function tenantsOf(activity: Activity): string[] {
  const fromChannelData = (activity.channelData as { tenant?: { id?: unknown } } | undefined)?.tenant?.id;
  const fromConversation = activity.conversation?.tenantId;
  const ids = [fromChannelData, fromConversation].filter(
    (id): id is string => typeof id === 'string' && id !== '',
  );
  return [...new Set(ids)];
}
