import { z } from 'zod';
import { secret, setting, url } from '../setting.js';

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
  /** Overrides for signed-request validation against a local OpenID/JWKS server (tests). */
  openIdMetadataUrl: setting('BOT_OPENID_METADATA_URL', url().optional()),
  tokenIssuer: setting('BOT_TOKEN_ISSUER', z.string().optional()),
  /** Outbound token endpoint override (tests and sovereign clouds). */
  loginUrl: setting('BOT_LOGIN_URL', url().optional()),
};
