import { z } from 'zod';
import { secret, setting, url } from '../setting.js';

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** The Bot Framework registration (Azure Bot) that serves the default tenant, and connector endpoints. */
export const botSection = {
  appId: setting('MICROSOFT_APP_ID', z.string().optional()),
  appPassword: secret('MICROSOFT_APP_PASSWORD', z.string().optional()),
  appTenantId: setting('MICROSOFT_APP_TENANT_ID', z.string().optional()),
  appType: setting(
    'MICROSOFT_APP_TYPE',
    z.enum(['SingleTenant', 'MultiTenant', 'UserAssignedMSI']).default('SingleTenant'),
  ),
  /** The Teams app's manifest id (used for proactive installs when no catalogue id is configured). */
  teamsAppId: setting('TEAMS_APP_ID', z.string().optional()),
  /** Connector base URL for proactive messages before any inbound activity told us one. */
  serviceUrl: setting('BOT_SERVICE_URL', url().default('https://smba.trafficmanager.net/teams')),
  /**
   * Where inbound tokens' signing keys are published (OpenID metadata with a `jwks_uri`). Default: the public
   * Bot Framework, https://login.botframework.com/v1/.well-known/openidconfiguration. Tests and local runs point it
   * at the connector sandbox (`sandbox.openIdMetadataUrl`).
   */
  openIdMetadataUrl: setting('BOT_OPENID_METADATA_URL', url().optional()),
  /** The `iss` inbound tokens must carry. Default: https://api.botframework.com. Sandbox: `sandbox.issuer`. */
  tokenIssuer: setting('BOT_TOKEN_ISSUER', z.string().min(1).optional()),
  /**
   * The authority the bot gets its outbound token from, `<login host>/<tenant>`; the token endpoint is
   * `<BOT_LOGIN_URL>/oauth2/v2.0/token`. Default: https://login.microsoftonline.com/<MICROSOFT_APP_TENANT_ID>
   * (botframework.com for MultiTenant). Plain http is accepted on loopback only (the sandbox: `sandbox.loginUrl(tenant)`).
   */
  loginUrl: setting(
    'BOT_LOGIN_URL',
    url()
      .refine(
        (v) => !v.toLowerCase().startsWith('http://') || LOOPBACK.test(new URL(v).hostname),
        'plain http is only allowed on a loopback host (the token request carries the app secret)',
      )
      .optional(),
  ),
};
