import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { int, secret, setting, url } from '../setting.js';

/** JSON with at least `token_endpoint`, as msal-node's `authorityMetadata` wants it. */
const authorityMetadataJson = z
  .string()
  .refine((text) => {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      return typeof parsed.token_endpoint === 'string' && typeof parsed.issuer === 'string';
    } catch {
      return false;
    }
  }, 'expected JSON with token_endpoint, authorization_endpoint, issuer and jwks_uri')
  .optional();

/** A PEM file of CA certificates, read once at start-up; the value is the PEM text. */
const pemFile = z
  .string()
  .transform((path, ctx) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `cannot read ${path} (${(error as Error).message})`,
      });
      return z.NEVER;
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${path} holds no PEM certificate` });
      return z.NEVER;
    }
    return text;
  })
  .optional();

/** Microsoft Graph and the token authority for the default tenant; TENANTS_FILE maps customers to tenants. */
export const graphSection = {
  baseUrl: setting('GRAPH_BASE_URL', url().default('https://graph.microsoft.com/v1.0')),
  authorityHost: setting('GRAPH_AUTHORITY_HOST', url().default('https://login.microsoftonline.com')),
  /**
   * msal-node authority metadata (JSON) for a local token endpoint (sandbox runs); `{tenant}` in its URLs stands for
   * each tenant's id. Unset in production (MSAL discovers Microsoft's endpoints itself).
   */
  authorityMetadata: setting('GRAPH_AUTHORITY_METADATA', authorityMetadataJson),
  /** PEM file of extra CAs to trust for Graph calls only (a sandbox's throwaway certificate, a TLS proxy's CA). */
  caPem: setting('GRAPH_CA_FILE', pemFile),
  /** Per Graph call attempt. */
  timeoutMs: setting('GRAPH_TIMEOUT_MS', int(10_000, 100)),
  /** Failed calls in a row (after their retries) that open Graph's circuit; it then refuses calls this long. */
  breakerFailures: setting('GRAPH_BREAKER_FAILURES', int(5, 1)),
  breakerCooldownMs: setting('GRAPH_BREAKER_COOLDOWN_MS', int(30_000, 100)),
  tenantId: setting('GRAPH_TENANT_ID', z.string().optional()),
  clientId: setting('GRAPH_CLIENT_ID', z.string().optional()),
  clientSecret: secret('GRAPH_CLIENT_SECRET', z.string().optional()),
  /** The Teams app's id in the tenant's app catalogue (looked up by manifest id when unset). */
  teamsAppCatalogId: setting('TEAMS_APP_CATALOG_ID', z.string().optional()),
  /** JSON file mapping Atera CustomerID → tenant (see docs/multi-tenant.md). */
  tenantsFile: setting('TENANTS_FILE', z.string().optional()),
};
