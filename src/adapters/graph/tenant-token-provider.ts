import { ConfidentialClientApplication, LogLevel, type Configuration } from '@azure/msal-node';
import type { Log } from '../../ports/log.js';
import type { TenantRef } from '../../ports/user-directory.js';
import { GraphAuthError, GraphTenantUnknownError } from './graph-error.js';

/** The app registration TicketZero uses for Graph in one tenant (client-credentials grant). */
export interface GraphCredentials {
  clientId: string;
  clientSecret: string;
}

/** Where per-tenant credentials come from (the tenant map implements it). */
export interface GraphCredentialsSource {
  graphCredentials(tenant: TenantRef): GraphCredentials | null;
}

export interface TenantTokenProviderOptions {
  credentials: GraphCredentialsSource;
  /** e.g. `https://login.microsoftonline.com` (GRAPH_AUTHORITY_HOST). */
  authorityHost: string;
  /**
   * msal-node `authorityMetadata` JSON for a local token endpoint (GRAPH_AUTHORITY_METADATA); `{tenant}` in its URLs
   * becomes the tenant id. When set, the authority host is only a name and is never contacted.
   */
  authorityMetadata?: string;
  /** e.g. `https://graph.microsoft.com/.default`. */
  scope: string;
  log: Log;
}

export interface TenantTokenProvider {
  /** An app-only access token for the tenant, from MSAL's cache while it is valid. */
  accessToken(tenant: TenantRef): Promise<string>;
}

/**
 * One msal-node ConfidentialClientApplication per tenant (and client id), so each tenant has its own token cache;
 * MSAL serves cached tokens until shortly before they expire.
 */
export function createTenantTokenProvider(options: TenantTokenProviderOptions): TenantTokenProvider {
  const apps = new Map<string, ConfidentialClientApplication>();
  // MSAL does not merge concurrent cache misses; callers arriving while a token is on its way wait for that one.
  const inFlight = new Map<string, Promise<string>>();
  const authorityHost = options.authorityHost.replace(/\/+$/, '');

  function appFor(tenant: TenantRef): ConfidentialClientApplication {
    const credentials = options.credentials.graphCredentials(tenant);
    if (!credentials) throw new GraphTenantUnknownError(tenant.key);
    const cacheKey = `${tenant.tenantId}|${credentials.clientId}`;
    const existing = apps.get(cacheKey);
    if (existing) return existing;
    const log = options.log.child({ tenant: tenant.key, tenantId: tenant.tenantId });
    const config: Configuration = {
      auth: {
        clientId: credentials.clientId,
        clientSecret: credentials.clientSecret,
        authority: `${authorityHost}/${tenant.tenantId}`,
        ...(options.authorityMetadata
          ? { authorityMetadata: options.authorityMetadata, knownAuthorities: [new URL(authorityHost).host] }
          : {}),
      },
      system: {
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (level, message, containsPii) => {
            if (containsPii) return;
            if (level === LogLevel.Error) log.error({ detail: message }, 'msal error');
            else log.warn({ detail: message }, 'msal warning');
          },
        },
      },
    };
    const app = new ConfidentialClientApplication(config);
    apps.set(cacheKey, app);
    return app;
  }

  async function acquire(app: ConfidentialClientApplication, tenant: TenantRef): Promise<string> {
    try {
      const result = await app.acquireTokenByClientCredential({ scopes: [options.scope] });
      if (!result?.accessToken) throw new Error('the token response held no access token');
      return result.accessToken;
    } catch (error) {
      const reason = (error as { errorCode?: unknown }).errorCode;
      throw new GraphAuthError(
        `could not get a Graph token for tenant "${tenant.key}"${typeof reason === 'string' ? ` (${reason})` : ''}`,
        tenant.key,
        { cause: error },
      );
    }
  }

  return {
    accessToken(tenant: TenantRef): Promise<string> {
      let app: ConfidentialClientApplication;
      try {
        app = appFor(tenant);
      } catch (error) {
        return Promise.reject(error as Error);
      }
      const key = `${tenant.key}|${tenant.tenantId}`;
      const pending = inFlight.get(key);
      if (pending) return pending;
      const request = acquire(app, tenant).finally(() => inFlight.delete(key));
      inFlight.set(key, request);
      return request;
    },
  };
}
