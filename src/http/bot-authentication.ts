import { ConfidentialClientApplication } from '@azure/msal-node';
import {
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
} from 'botbuilder';
import {
  AuthenticationConstants,
  AuthenticationError,
  BotFrameworkAuthentication,
  MsalServiceClientCredentialsFactory,
  type AuthenticateRequestResult,
  type BotFrameworkClient,
  type ClaimsIdentity,
  type ConnectorFactory,
  type ServiceClientCredentialsFactory,
  type UserTokenClient,
} from 'botframework-connector';
import type { Activity } from 'botbuilder';
import type { Config } from '../config/load-config.js';
import { ConfigError } from '../errors.js';
import { isLoopbackHost } from '../security/loopback-host.js';

export type { BotFrameworkAuthentication } from 'botframework-connector';

/** Entra ID login hosts botbuilder knows how to talk to with its own credentials factory. */
const MICROSOFT_LOGIN_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
]);
const PUBLIC_AZURE_CALLER_ID = 'urn:botframework:azure';

/**
 * How the bot authenticates both ways with the Bot Framework:
 * - inbound: every activity POSTed to /api/messages must carry a JWT signed by the channel issuer (OpenID metadata
 *   + JWKS), with `aud` = our app id and a `serviceurl` claim matching the activity; anything else answers 401.
 * - outbound: replies and proactive messages carry a token for `https://api.botframework.com` from Entra ID.
 *
 * With no app id the bot runs anonymously: inbound requests are not checked and outbound calls carry no token, which
 * is only acceptable bound to loopback (see resolveBindHost).
 *
 * `BOT_OPENID_METADATA_URL`, `BOT_TOKEN_ISSUER` and `BOT_LOGIN_URL` point both directions somewhere else (tests, the
 * local connector sandbox, sovereign clouds). botbuilder treats any one override as "all parameters are explicit",
 * so the others are filled with the public-cloud defaults here.
 */
export function createBotFrameworkAuthentication(bot: Config['bot']): BotFrameworkAuthentication {
  if (!bot.appId) return new ConfigurationBotFrameworkAuthentication({});

  const settings: ConfigurationBotFrameworkAuthenticationOptions = {
    MicrosoftAppId: bot.appId,
    MicrosoftAppPassword: bot.appPassword ?? '',
    MicrosoftAppType: bot.appType,
    MicrosoftAppTenantId: bot.appTenantId ?? '',
  };
  const overridden = Boolean(bot.openIdMetadataUrl || bot.tokenIssuer || bot.loginUrl);
  if (overridden) {
    Object.assign(settings, {
      ValidateAuthority: true,
      ToChannelFromBotLoginUrl: bot.loginUrl ?? AuthenticationConstants.ToChannelFromBotLoginUrl,
      ToChannelFromBotOAuthScope: AuthenticationConstants.ToChannelFromBotOAuthScope,
      ToBotFromChannelTokenIssuer: bot.tokenIssuer ?? AuthenticationConstants.ToBotFromChannelTokenIssuer,
      OAuthUrl: AuthenticationConstants.OAuthUrl,
      ToBotFromChannelOpenIdMetadataUrl:
        bot.openIdMetadataUrl ?? AuthenticationConstants.ToBotFromChannelOpenIdMetadataUrl,
      ToBotFromEmulatorOpenIdMetadataUrl: AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
      CallerId: PUBLIC_AZURE_CALLER_ID,
    });
  }

  const credentialsFactory =
    bot.loginUrl && !isMicrosoftLogin(bot.loginUrl) ? localTokenEndpointCredentials(bot) : undefined;
  let inner: BotFrameworkAuthentication;
  try {
    inner = new ConfigurationBotFrameworkAuthentication(settings, credentialsFactory);
  } catch (error) {
    // botbuilder asserts its settings (e.g. a SingleTenant bot without a tenant id) by throwing a bare Error.
    throw new ConfigError([`MICROSOFT_APP_*: ${error instanceof Error ? error.message : String(error)}`]);
  }
  return new RejectForgedTokens(inner);
}

function isMicrosoftLogin(loginUrl: string): boolean {
  return MICROSOFT_LOGIN_HOSTS.has(new URL(loginUrl).hostname.toLowerCase());
}

/**
 * msal-node refuses an `http://` authority and asks the real login host for instance discovery whatever the
 * authority; botbuilder's own factory builds `new ConfidentialClientApplication({ auth: { authority: loginUrl } })`
 * and so cannot reach a local token endpoint. Here msal gets an `https://` authority on the same host that it never
 * contacts (`knownAuthorities` skips discovery, `authorityMetadata` names the endpoints), and the token request goes
 * to `<BOT_LOGIN_URL>/oauth2/v2.0/token` as given. A plain-http token endpoint would carry the client secret in the
 * clear, so only loopback hosts may use one.
 */
function localTokenEndpointCredentials(bot: Config['bot']): ServiceClientCredentialsFactory {
  const loginUrl = new URL(bot.loginUrl as string);
  if (loginUrl.protocol === 'http:' && !isLoopbackHost(loginUrl.hostname)) {
    throw new ConfigError([
      'BOT_LOGIN_URL: plain http is only allowed on a loopback host (it carries the app secret)',
    ]);
  }
  const base = `${loginUrl.origin}${loginUrl.pathname.replace(/\/+$/, '')}`;
  const client = new ConfidentialClientApplication({
    auth: {
      clientId: bot.appId as string,
      clientSecret: bot.appPassword ?? '',
      authority: `https://${loginUrl.host}${loginUrl.pathname.replace(/\/+$/, '')}`,
      knownAuthorities: [loginUrl.host],
      authorityMetadata: JSON.stringify({
        token_endpoint: `${base}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        issuer: `${base}/v2.0`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
      }),
    },
  });
  // botframework-connector bundles msal-node 2.x; its MsalAppCredentials only calls acquireTokenByClientCredential,
  // which the project's msal-node has with the same shape.
  return new MsalServiceClientCredentialsFactory(
    bot.appId as string,
    client as unknown as ConstructorParameters<typeof MsalServiceClientCredentialsFactory>[1],
  );
}

/**
 * botbuilder reports a token whose signature does not verify (or that is not yet valid) as a plain jsonwebtoken
 * error, which CloudAdapter answers with 500. A forged token is an authentication failure: answer 401.
 */
class RejectForgedTokens extends BotFrameworkAuthentication {
  constructor(private readonly inner: BotFrameworkAuthentication) {
    super();
  }

  override authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    return asAuthenticationFailure(() => this.inner.authenticateRequest(activity, authHeader));
  }

  override authenticateStreamingRequest(
    authHeader: string,
    channelIdHeader: string,
  ): Promise<AuthenticateRequestResult> {
    return asAuthenticationFailure(() =>
      this.inner.authenticateStreamingRequest(authHeader, channelIdHeader),
    );
  }

  override authenticateChannelRequest(authHeader: string): Promise<ClaimsIdentity> {
    return asAuthenticationFailure(() => this.inner.authenticateChannelRequest(authHeader));
  }

  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return this.inner.createConnectorFactory(claimsIdentity);
  }

  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return this.inner.createUserTokenClient(claimsIdentity);
  }

  override createBotFrameworkClient(): BotFrameworkClient {
    return this.inner.createBotFrameworkClient();
  }
}

const JWT_ERRORS = new Set(['JsonWebTokenError', 'NotBeforeError', 'TokenExpiredError']);

async function asAuthenticationFailure<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Error && JWT_ERRORS.has(error.name)) {
      throw new AuthenticationError(`Unauthorized. ${error.message}`, 401);
    }
    throw error;
  }
}
