import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { TenantDirectory, TenantRef } from '../ports/user-directory.js';
import type { Env } from './setting.js';

/**
 * The tenant map: which Microsoft 365 tenant serves each Atera customer, and the credentials TicketZero uses there.
 * Read from TENANTS_FILE (JSON, see docs/multi-tenant.md); without it, the GRAPH_* settings describe one tenant
 * that serves every customer. The file names environment variables for secrets, never the secrets themselves.
 */
export interface TenantSettings extends TenantRef {
  /** Shown in logs and messages to technicians. */
  name: string;
  graph: { clientId: string; clientSecret: string };
  /** The Teams app's id in this tenant's catalogue; null: looked up by manifest id. */
  teamsAppCatalogId: string | null;
  /** The Teams app's manifest id in this tenant (defaults to TEAMS_APP_ID). */
  teamsAppId: string | null;
  /** The bot registration serving this tenant (single-tenant bots: one per tenant); null when none is set. */
  bot: { appId: string; appPassword: string } | null;
  /** Atera CustomerIDs mapped to this tenant ('all' without a tenants file). */
  customers: readonly number[] | 'all';
}

export interface TenantMap extends TenantDirectory {
  readonly tenants: readonly TenantSettings[];
  /** Serves customers the file does not list; null when unmapped customers are declined. */
  readonly defaultTenant: TenantRef | null;
  settingsFor(tenant: TenantRef): TenantSettings | null;
  /** For the Graph adapter (GraphCredentialsSource). */
  graphCredentials(tenant: TenantRef): { clientId: string; clientSecret: string } | null;
  /** For the app installer (TeamsAppSource). */
  teamsApp(tenant: TenantRef): { catalogId: string | null; manifestId: string | null } | null;
  /** For the Teams adapter: the bot registration that serves the tenant. */
  botFor(tenant: TenantRef): { appId: string; appPassword: string } | null;
}

/** The settings the tenant map falls back on (the graph and bot config sections have this shape). */
export interface TenantMapGraphDefaults {
  tenantsFile?: string | undefined;
  tenantId?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  teamsAppCatalogId?: string | undefined;
}

export interface TenantMapBotDefaults {
  appId?: string | undefined;
  appPassword?: string | undefined;
  teamsAppId?: string | undefined;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12,13}$/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const envName = z.string().regex(ENV_NAME, 'expected an environment variable name (letters, digits, _)');
const tenantId = z.string().regex(GUID, 'expected an Entra tenant id (GUID)');

const TenantEntry = z
  .object({
    key: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a short key (lowercase letters, digits, -)'),
    name: z.string().min(1).optional(),
    tenantId,
    graph: z
      .object({ clientId: z.string().min(1), clientSecretEnv: envName })
      .strict()
      .optional(),
    teamsAppCatalogId: z.string().min(1).optional(),
    teamsAppId: z.string().min(1).optional(),
    bot: z
      .object({ appId: z.string().min(1), appPasswordEnv: envName })
      .strict()
      .optional(),
    customers: z.array(z.number().int('expected whole numbers').positive('expected positive numbers')),
  })
  .strict();

const TenantsFile = z
  .object({
    tenants: z.array(TenantEntry).min(1, 'list at least one tenant'),
    defaultTenant: z.string().nullable().optional(),
  })
  .strict();

const SECRET_KEYS = ['clientSecret', 'appPassword', 'password', 'secret'];

/**
 * Builds the tenant map from TENANTS_FILE (when set) or the single-tenant GRAPH_* settings. Throws a ConfigError
 * listing every problem, each with where it is (file path and JSON path) and the variable involved.
 */
export function loadTenantMap(
  graph: TenantMapGraphDefaults,
  bot: TenantMapBotDefaults,
  env: Env = process.env,
): TenantMap {
  const problems: string[] = [];
  const tenants = graph.tenantsFile
    ? fromFile(graph.tenantsFile, graph, bot, env, problems)
    : fromSettings(graph, bot, problems);
  if (problems.length > 0 || !tenants) throw new ConfigError(problems);
  return createTenantMap(tenants.list, tenants.defaultKey);
}

function fromSettings(
  graph: TenantMapGraphDefaults,
  bot: TenantMapBotDefaults,
  problems: string[],
): { list: TenantSettings[]; defaultKey: string } | null {
  if (!graph.tenantId) problems.push('GRAPH_TENANT_ID: required without TENANTS_FILE');
  else if (!GUID.test(graph.tenantId)) problems.push('GRAPH_TENANT_ID: expected an Entra tenant id (GUID)');
  if (!graph.clientId) problems.push('GRAPH_CLIENT_ID: required without TENANTS_FILE');
  if (!graph.clientSecret) problems.push('GRAPH_CLIENT_SECRET: required without TENANTS_FILE');
  if (!graph.tenantId || !graph.clientId || !graph.clientSecret || problems.length > 0) return null;
  return {
    defaultKey: 'default',
    list: [
      {
        key: 'default',
        name: 'default',
        tenantId: graph.tenantId,
        graph: { clientId: graph.clientId, clientSecret: graph.clientSecret },
        teamsAppCatalogId: graph.teamsAppCatalogId ?? null,
        teamsAppId: bot.teamsAppId ?? null,
        bot: bot.appId && bot.appPassword ? { appId: bot.appId, appPassword: bot.appPassword } : null,
        customers: 'all',
      },
    ],
  };
}

function fromFile(
  file: string,
  graph: TenantMapGraphDefaults,
  bot: TenantMapBotDefaults,
  env: Env,
  problems: string[],
): { list: TenantSettings[]; defaultKey: string | null } | null {
  const where = `TENANTS_FILE (${file})`;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    problems.push(`${where}: cannot be read as JSON (${(error as Error).message})`);
    return null;
  }

  findSecrets(raw, '', (path) =>
    problems.push(
      `${where} ${path}: secrets do not belong in the file; name an environment variable instead`,
    ),
  );
  if (problems.length > 0) return null;

  const parsed = TenantsFile.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      problems.push(`${where} ${jsonPath(issue.path)}: ${issue.message}`);
    return null;
  }

  const list: TenantSettings[] = [];
  const keys = new Map<string, number>();
  const tenantIds = new Map<string, string>();
  const customerOwner = new Map<number, string>();
  parsed.data.tenants.forEach((entry, i) => {
    const at = `${where} tenants[${i}]`;
    if (keys.has(entry.key)) problems.push(`${at}.key: "${entry.key}" is used twice`);
    keys.set(entry.key, i);
    const idLower = entry.tenantId.toLowerCase();
    const sameId = tenantIds.get(idLower);
    if (sameId) problems.push(`${at}.tenantId: also the tenant id of "${sameId}"`);
    tenantIds.set(idLower, entry.key);
    for (const customer of entry.customers) {
      const owner = customerOwner.get(customer);
      if (owner) problems.push(`${at}.customers: customer ${customer} is already mapped to "${owner}"`);
      customerOwner.set(customer, entry.key);
    }

    let credentials: TenantSettings['graph'] | null = null;
    if (entry.graph) {
      const value = readEnv(env, entry.graph.clientSecretEnv);
      if (value === undefined) {
        problems.push(
          `${at}.graph.clientSecretEnv: environment variable ${entry.graph.clientSecretEnv} is not set`,
        );
      } else {
        credentials = { clientId: entry.graph.clientId, clientSecret: value };
      }
    } else if (graph.clientId && graph.clientSecret) {
      credentials = { clientId: graph.clientId, clientSecret: graph.clientSecret };
    } else {
      problems.push(
        `${at}.graph: required (or set GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET for a multi-tenant Graph app consented in every tenant)`,
      );
    }

    let botSettings: TenantSettings['bot'] = null;
    if (entry.bot) {
      const value = readEnv(env, entry.bot.appPasswordEnv);
      if (value === undefined) {
        problems.push(
          `${at}.bot.appPasswordEnv: environment variable ${entry.bot.appPasswordEnv} is not set`,
        );
      } else {
        botSettings = { appId: entry.bot.appId, appPassword: value };
      }
    } else if (bot.appId && bot.appPassword) {
      botSettings = { appId: bot.appId, appPassword: bot.appPassword };
    }

    if (credentials) {
      list.push({
        key: entry.key,
        name: entry.name ?? entry.key,
        tenantId: entry.tenantId,
        graph: credentials,
        teamsAppCatalogId: entry.teamsAppCatalogId ?? null,
        teamsAppId: entry.teamsAppId ?? bot.teamsAppId ?? null,
        bot: botSettings,
        customers: [...entry.customers],
      });
    }
  });

  const defaultKey = parsed.data.defaultTenant ?? null;
  if (defaultKey !== null && !keys.has(defaultKey)) {
    problems.push(`${where} defaultTenant: "${defaultKey}" is not the key of a tenant in the file`);
  }
  return { list, defaultKey };
}

function createTenantMap(list: TenantSettings[], defaultKey: string | null): TenantMap {
  const refs = new Map<string, TenantRef>(
    list.map((t) => [t.key, Object.freeze({ key: t.key, tenantId: t.tenantId })]),
  );
  const byCustomer = new Map<number, TenantRef>();
  for (const t of list) {
    if (t.customers === 'all') continue;
    for (const c of t.customers) byCustomer.set(c, refs.get(t.key)!);
  }
  const defaultTenant = defaultKey === null ? null : (refs.get(defaultKey) ?? null);
  const settingsFor = (tenant: TenantRef): TenantSettings | null =>
    list.find((t) => t.key === tenant.key && t.tenantId === tenant.tenantId) ?? null;

  return {
    tenants: list.map((t) => Object.freeze(t)),
    defaultTenant,
    tenantForCustomer(customerId: number | null): TenantRef | null {
      if (customerId !== null) {
        const mapped = byCustomer.get(customerId);
        if (mapped) return mapped;
      }
      return defaultTenant;
    },
    tenantById(id: string): TenantRef | null {
      const found = list.find((t) => t.tenantId.toLowerCase() === id.toLowerCase());
      return found ? refs.get(found.key)! : null;
    },
    settingsFor,
    graphCredentials: (tenant) => settingsFor(tenant)?.graph ?? null,
    teamsApp(tenant) {
      const settings = settingsFor(tenant);
      return settings ? { catalogId: settings.teamsAppCatalogId, manifestId: settings.teamsAppId } : null;
    },
    botFor: (tenant) => settingsFor(tenant)?.bot ?? null,
  };
}

function readEnv(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function findSecrets(value: unknown, path: string, report: (path: string) => void): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => findSecrets(v, `${path}[${i}]`, report));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const here = path ? `${path}.${k}` : k;
      if (SECRET_KEYS.includes(k)) report(here);
      else findSecrets(v, here, report);
    }
  }
}

function jsonPath(path: (string | number)[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
