import type { TenantRef } from '../../ports/user-directory.js';
import { GraphError, TeamsAppNotInCatalogError } from './graph-error.js';
import { gatewayFor, type GraphAdapterOptions } from './shared-gateway.js';
import type { GraphCredentialsSource } from './tenant-token-provider.js';

/** Installs TicketZero for a user so the bot may message them, and tells the 1:1 chat's id. */
export interface AppInstaller {
  ensureInstalled(
    tenant: TenantRef,
    userId: string,
  ): Promise<{ installed: 'already' | 'now'; chatId: string | null }>;
}

/** The Teams app's ids in a tenant (the tenant map implements it). */
export interface TeamsAppSource {
  teamsApp(tenant: TenantRef): { catalogId: string | null; manifestId: string | null } | null;
}

export interface GraphAppInstallerOptions extends GraphAdapterOptions {
  tenants: GraphCredentialsSource & TeamsAppSource;
  /** The manifest id (TEAMS_APP_ID) used when a tenant names neither a catalogue id nor its own manifest id. */
  teamsAppId?: string | undefined;
}

interface InstalledApp {
  id: string;
}

/**
 * Installs the app for a user through Graph (`POST /users/{id}/teamwork/installedApps`; 409 = already there) and
 * reads the installation's chat (`19:…@unq.gbl.spaces`), which the connector accepts as the 1:1 conversation id.
 * The catalogue id is looked up once per tenant by manifest id when the tenant map does not give it.
 */
export function createGraphAppInstaller(options: GraphAppInstallerOptions): AppInstaller {
  const gateway = gatewayFor(options);
  const log = options.log.child({ component: 'graph-app-installer' });
  const catalogIds = new Map<string, Promise<string>>();

  async function lookUpCatalogId(tenant: TenantRef, manifestId: string): Promise<string> {
    const page = await gateway.call<{ value: { id: string; externalId: string | null }[] }>(tenant, {
      method: 'GET',
      path: '/appCatalogs/teamsApps',
      query: { $filter: `externalId eq '${manifestId.replace(/'/g, "''")}'` },
    });
    const app = page.value[0];
    if (!app) throw new TeamsAppNotInCatalogError(tenant.key, manifestId);
    log.info({ tenant: tenant.key, catalogId: app.id }, 'teams app found in catalogue');
    return app.id;
  }

  function catalogIdFor(tenant: TenantRef): Promise<string> {
    const ids = options.tenants.teamsApp(tenant);
    if (ids?.catalogId) return Promise.resolve(ids.catalogId);
    const manifestId = ids?.manifestId ?? options.teamsAppId ?? null;
    if (!manifestId) return Promise.reject(new TeamsAppNotInCatalogError(tenant.key, null));
    const cacheKey = `${tenant.key}|${manifestId}`;
    let pending = catalogIds.get(cacheKey);
    if (!pending) {
      pending = lookUpCatalogId(tenant, manifestId);
      // A failed lookup is not remembered: the next ticket tries again.
      pending.catch(() => catalogIds.delete(cacheKey));
      catalogIds.set(cacheKey, pending);
    }
    return pending;
  }

  async function chatIdOf(tenant: TenantRef, userId: string, catalogId: string): Promise<string | null> {
    const user = encodeURIComponent(userId);
    const page = await gateway.call<{ value: InstalledApp[] }>(tenant, {
      method: 'GET',
      path: `/users/${user}/teamwork/installedApps`,
      query: { $expand: 'teamsAppDefinition', $filter: `teamsApp/id eq '${catalogId.replace(/'/g, "''")}'` },
    });
    const installation = page.value[0];
    if (!installation) {
      log.warn({ tenant: tenant.key, userId }, 'installation not listed yet');
      return null;
    }
    const chat = await gateway.call<{ id?: string }>(tenant, {
      method: 'GET',
      path: `/users/${user}/teamwork/installedApps/${encodeURIComponent(installation.id)}/chat`,
    });
    return chat.id ?? null;
  }

  return {
    async ensureInstalled(tenant: TenantRef, userId: string) {
      const catalogId = await catalogIdFor(tenant);
      let installed: 'already' | 'now' = 'now';
      try {
        await gateway.call(tenant, {
          method: 'POST',
          path: `/users/${encodeURIComponent(userId)}/teamwork/installedApps`,
          body: { 'teamsApp@odata.bind': `${gateway.baseUrl}/appCatalogs/teamsApps/${catalogId}` },
        });
      } catch (error) {
        if (!(error instanceof GraphError && error.status === 409)) throw error;
        installed = 'already';
      }
      log.info({ tenant: tenant.key, userId, installed }, 'teams app installed for user');
      return { installed, chatId: await chatIdOf(tenant, userId, catalogId) };
    },
  };
}
