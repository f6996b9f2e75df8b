import { z } from 'zod';
import { secret, setting, url } from '../setting.js';

/** Microsoft Graph and the token authority for the default tenant; TENANTS_FILE maps customers to tenants. */
export const graphSection = {
  baseUrl: setting('GRAPH_BASE_URL', url().default('https://graph.microsoft.com/v1.0')),
  authorityHost: setting('GRAPH_AUTHORITY_HOST', url().default('https://login.microsoftonline.com')),
  /** JSON authority metadata for a local token endpoint (sandbox runs); see docs. */
  authorityMetadata: setting('GRAPH_AUTHORITY_METADATA', z.string().optional()),
  tenantId: setting('GRAPH_TENANT_ID', z.string().optional()),
  clientId: setting('GRAPH_CLIENT_ID', z.string().optional()),
  clientSecret: secret('GRAPH_CLIENT_SECRET', z.string().optional()),
  /** The Teams app's id in the tenant's app catalogue (looked up by manifest id when unset). */
  teamsAppCatalogId: setting('TEAMS_APP_CATALOG_ID', z.string().optional()),
  /** JSON file mapping Atera CustomerID → tenant (see docs/multi-tenant.md). */
  tenantsFile: setting('TENANTS_FILE', z.string().optional()),
};
