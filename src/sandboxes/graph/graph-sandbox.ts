import { randomBytes, randomUUID } from 'node:crypto';
import type http from 'node:http';
import { GraphFaultSwitch, graphFaultFromJson, type GraphFaults } from './graph-faults.js';
import { listenHttpsAndHttp, throwawayCertificate } from './https-and-http-listener.js';
import { ODataSyntaxError, parseFilter, parseSelect, type FilterClause } from './odata-query.js';
import {
  SANDBOX_TENANTS,
  SANDBOX_USERS,
  type GraphPermission,
  type SandboxTenant,
  type SandboxUser,
} from './sandbox-directory.js';

/**
 * A local Microsoft Graph v1.0 (the paths TicketZero uses) plus the Entra ID token endpoint msal-node needs, on one
 * port: Graph over HTTPS with a throwaway self-signed certificate, the token endpoint over plain HTTP (see
 * docs/multi-tenant.md and the Teams/Graph reference). Each tenant accepts its own client id and secret, issues its
 * own bearer tokens, sees only its own users, and enforces the application permissions it has consented to.
 */
export interface GraphSandboxOptions {
  port?: number;
  host?: string;
  /** Replace the fixture's tenants / users (default: the multi-tenant fixture in sandbox-directory.ts). */
  tenants?: readonly SandboxTenant[];
  users?: readonly SandboxUser[];
  tokenLifetimeSeconds?: number;
}

export interface SandboxRequest {
  method: string;
  /** Decoded path without the query, e.g. `/v1.0/users`. */
  path: string;
  /** Decoded query without the `?`, e.g. `$filter=mail eq 'a@b'&$select=id`. */
  query: string;
  status: number;
  /** The tenant whose token was presented (or whose token endpoint was called). */
  tenantId: string | null;
  /** ms since epoch when the request arrived. */
  at: number;
}

export interface SandboxTokenRequest {
  tenantId: string;
  clientId: string;
  status: number;
}

export interface SandboxInstall {
  tenantId: string;
  userId: string;
  catalogId: string;
  installationId: string;
}

export interface SandboxCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

export interface GraphSandbox {
  /** e.g. `https://127.0.0.1:PORT/v1.0` (GRAPH_BASE_URL). */
  readonly baseUrl: string;
  /** e.g. `https://127.0.0.1:PORT` (GRAPH_AUTHORITY_HOST); never contacted by msal when metadata is given. */
  readonly authorityHost: string;
  readonly port: number;
  /** The certificate to trust for `baseUrl` (GRAPH_CA_FILE). */
  readonly caCertificatePem: string;
  /** msal-node `authorityMetadata` (GRAPH_AUTHORITY_METADATA); without a tenant id, a `{tenant}` template. */
  authorityMetadata(tenantId?: string): string;
  /** The app registration each tenant accepts, by tenant key or id. */
  credentials(tenant: string): SandboxCredentials;
  readonly tenants: readonly SandboxTenant[];
  readonly requests: readonly SandboxRequest[];
  readonly tokenRequests: readonly SandboxTokenRequest[];
  readonly installs: readonly SandboxInstall[];
  readonly faults: GraphFaults;
  addUser(user: SandboxUser): void;
  close(): Promise<void>;
}

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

const USER_PROPERTIES = [
  'id',
  'displayName',
  'givenName',
  'surname',
  'mail',
  'userPrincipalName',
  'proxyAddresses',
  'jobTitle',
  'department',
  'preferredLanguage',
  'officeLocation',
  'accountEnabled',
  'userType',
  'businessPhones',
  'mobilePhone',
] as const;
/** What Graph returns for a user when no `$select` is given (accountEnabled, userType… only when selected). */
const USER_DEFAULT_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];
const DEVICE_PROPERTIES = [
  'id',
  'deviceName',
  'operatingSystem',
  'osVersion',
  'complianceState',
  'lastSyncDateTime',
  'userId',
  'managedDeviceOwnerType',
];

interface IssuedToken {
  tenantId: string;
  clientId: string;
  expiresAt: number;
}

interface Installation extends SandboxInstall {
  installedAt: string;
}

class GraphHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`graph sandbox ${status}`);
  }
}

function graphError(status: number, code: string, message: string): GraphHttpError {
  return new GraphHttpError(status, {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString(),
        'request-id': randomUUID(),
        'client-request-id': randomUUID(),
      },
    },
  });
}

export async function startGraphSandbox(options: GraphSandboxOptions = {}): Promise<GraphSandbox> {
  const tenants = (options.tenants ?? SANDBOX_TENANTS).map((t) => structuredClone(t));
  const users: SandboxUser[] = (options.users ?? SANDBOX_USERS).map((u) => structuredClone(u));
  const tokenLifetime = options.tokenLifetimeSeconds ?? 3599;
  const host = options.host ?? '127.0.0.1';
  const tokens = new Map<string, IssuedToken>();
  const requests: SandboxRequest[] = [];
  const tokenRequests: SandboxTokenRequest[] = [];
  const installations = new Map<string, Installation>();
  const faults = new GraphFaultSwitch();
  const certificate = await throwawayCertificate();
  let origin = '';
  let plainOrigin = '';

  const tenantByIdOrKey = (value: string): SandboxTenant | undefined =>
    tenants.find((t) => t.tenantId.toLowerCase() === value.toLowerCase() || t.key === value);

  const metadata = (tenant: string): string =>
    JSON.stringify({
      token_endpoint: `${plainOrigin}/${tenant}/oauth2/v2.0/token`,
      authorization_endpoint: `${plainOrigin}/${tenant}/oauth2/v2.0/authorize`,
      issuer: `${origin}/${tenant}/v2.0`,
      jwks_uri: `${plainOrigin}/${tenant}/discovery/v2.0/keys`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      tenant_region_scope: 'EU',
    });

  // Authority endpoints ------------------------------------------------------------------------------------------

  function issueToken(tenantSegment: string, form: URLSearchParams): { status: number; body: unknown } {
    const tenant = tenantByIdOrKey(tenantSegment);
    const clientId = form.get('client_id') ?? '';
    const fail = (status: number, error: string, description: string) => {
      if (tenant) tokenRequests.push({ tenantId: tenant.tenantId, clientId, status });
      return {
        status,
        body: {
          error,
          error_description: `${description}\r\nTrace ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`,
          error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)],
          timestamp: new Date().toISOString(),
          trace_id: randomUUID(),
          correlation_id: randomUUID(),
        },
      };
    };
    if (!tenant) return fail(400, 'invalid_request', `AADSTS90002: Tenant '${tenantSegment}' not found.`);
    if (form.get('grant_type') !== 'client_credentials') {
      return fail(400, 'unsupported_grant_type', 'AADSTS70003: The app requested an unsupported grant type.');
    }
    if (clientId !== tenant.clientId) {
      return fail(
        400,
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'.`,
      );
    }
    if (form.get('client_secret') !== tenant.clientSecret) {
      return fail(
        401,
        'invalid_client',
        `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
    const scopes = (form.get('scope') ?? '').split(' ');
    if (!scopes.includes(GRAPH_SCOPE)) {
      return fail(
        400,
        'invalid_scope',
        `AADSTS1002012: The provided value for scope ${form.get('scope') ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const accessToken = randomBytes(32).toString('base64url');
    tokens.set(accessToken, {
      tenantId: tenant.tenantId,
      clientId,
      expiresAt: Date.now() + tokenLifetime * 1000,
    });
    tokenRequests.push({ tenantId: tenant.tenantId, clientId, status: 200 });
    return {
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: tokenLifetime,
        ext_expires_in: tokenLifetime,
        access_token: accessToken,
      },
    };
  }

  // Graph ----------------------------------------------------------------------------------------------------------

  function authenticate(req: http.IncomingMessage): { tenant: SandboxTenant } {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match?.[1]) throw graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const issued = tokens.get(match[1]);
    if (!issued) throw graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    if (issued.expiresAt <= Date.now()) {
      throw graphError(
        401,
        'InvalidAuthenticationToken',
        'Lifetime validation failed, the token is expired.',
      );
    }
    const tenant = tenantByIdOrKey(issued.tenantId);
    if (!tenant) throw graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    return { tenant };
  }

  function requirePermission(tenant: SandboxTenant, permission: GraphPermission): void {
    if (!tenant.permissions.includes(permission)) {
      throw graphError(
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      );
    }
  }

  function findUser(tenant: SandboxTenant, key: string): SandboxUser {
    const lower = key.toLowerCase();
    const found = users.find(
      (u) =>
        u.tenantId === tenant.tenantId &&
        (u.id.toLowerCase() === lower || u.userPrincipalName.toLowerCase() === lower),
    );
    if (!found) {
      throw graphError(
        404,
        'Request_ResourceNotFound',
        `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
      );
    }
    return found;
  }

  function selectUser(user: SandboxUser, select: string[] | undefined): Record<string, unknown> {
    const properties = select ?? USER_DEFAULT_PROPERTIES;
    for (const p of properties) {
      if (!(USER_PROPERTIES as readonly string[]).includes(p)) {
        throw graphError(
          400,
          'BadRequest',
          `Could not find a property named '${p}' on type 'microsoft.graph.user'.`,
        );
      }
    }
    const full: Record<string, unknown> = { ...user, businessPhones: [], mobilePhone: null };
    return Object.fromEntries(properties.map((p) => [p, full[p] ?? null]));
  }

  function userMatches(user: SandboxUser, clause: FilterClause): boolean {
    const value = clause.value.toLowerCase();
    if (clause.kind === 'eq') {
      if (clause.property === 'mail') return (user.mail ?? '').toLowerCase() === value;
      if (clause.property === 'userPrincipalName') return user.userPrincipalName.toLowerCase() === value;
      if (clause.property === 'id') return user.id.toLowerCase() === value;
    } else if (clause.collection === 'proxyAddresses') {
      return user.proxyAddresses.some((p) => p.toLowerCase() === value);
    }
    throw graphError(
      400,
      'Request_UnsupportedQuery',
      'Unsupported or invalid query filter clause specified.',
    );
  }

  function filterOf(url: URL): FilterClause | null {
    const text = url.searchParams.get('$filter');
    if (text === null) return null;
    try {
      return parseFilter(text);
    } catch (error) {
      if (error instanceof ODataSyntaxError) {
        throw graphError(400, 'BadRequest', `Invalid filter clause: ${error.message}.`);
      }
      throw error;
    }
  }

  function chatIdFor(tenant: SandboxTenant, user: SandboxUser, catalogId: string): string {
    if (user.chatId) return user.chatId;
    const app = tenant.teamsApps.find((a) => a.catalogId === catalogId);
    return `19:${user.id}_${app?.botId ?? catalogId}@unq.gbl.spaces`;
  }

  function installationId(userId: string, catalogId: string): string {
    return Buffer.from(`${userId}##${catalogId}`).toString('base64');
  }

  function intuneForbidden(url: URL): GraphHttpError {
    const inner = {
      _version: 3,
      Message: `Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementManagedDevices.Read.All, DeviceManagementManagedDevices.ReadWrite.All - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: ${randomUUID()} - Url: https://fef.msua01.manage.microsoft.com/DeviceFE/StatelessDeviceFEService${url.pathname} - CustomApiErrorPhrase: `,
      CustomApiErrorPhrase: '',
      RetryAfter: null,
      ErrorSourceService: '',
      HttpHeaders: '{}',
    };
    return graphError(403, 'Forbidden', JSON.stringify(inner, null, 2).replace(/\n/g, '\r\n'));
  }

  async function graph(
    req: http.IncomingMessage,
    url: URL,
    body: string,
  ): Promise<{ status: number; body?: unknown; tenantId: string }> {
    const { tenant } = authenticate(req);
    const segments = url.pathname
      .split('/')
      .filter((s) => s.length > 0)
      .slice(1)
      .map((s) => decodeURIComponent(s));
    const method = req.method ?? 'GET';
    const select = parseSelect(url.searchParams.get('$select'));
    const context = `${origin}/v1.0/$metadata`;
    const ok = (value: unknown, status = 200) => ({ status, body: value, tenantId: tenant.tenantId });
    const [root, key, sub, sub2, sub3, sub4] = segments;

    if (root === 'users' && key === undefined && method === 'GET') {
      requirePermission(tenant, 'User.Read.All');
      const clause = filterOf(url);
      const matched = users.filter(
        (u) => u.tenantId === tenant.tenantId && (!clause || userMatches(u, clause)),
      );
      return ok({
        '@odata.context': `${context}#users${select ? `(${select.join(',')})` : ''}`,
        value: matched.map((u) => selectUser(u, select)),
      });
    }
    if (root === 'users' && key !== undefined) {
      requirePermission(tenant, 'User.Read.All');
      const user = findUser(tenant, key);
      if (sub === undefined && method === 'GET') {
        return ok({ '@odata.context': `${context}#users/$entity`, ...selectUser(user, select) });
      }
      if (sub === 'managedDevices' && sub2 === undefined && method === 'GET') {
        if (!tenant.permissions.includes('DeviceManagementManagedDevices.Read.All'))
          throw intuneForbidden(url);
        for (const p of select ?? []) {
          if (!DEVICE_PROPERTIES.includes(p)) {
            throw graphError(
              400,
              'BadRequest',
              `Could not find a property named '${p}' on type 'microsoft.graph.managedDevice'.`,
            );
          }
        }
        return ok({
          '@odata.context': `${context}#users('${user.id}')/managedDevices`,
          value: user.devices.map((d) => {
            const full: Record<string, unknown> = {
              ...d,
              userId: user.id,
              managedDeviceOwnerType: 'company',
            };
            return select ? Object.fromEntries(select.map((p) => [p, full[p] ?? null])) : full;
          }),
        });
      }
      if (sub === 'checkMemberGroups' && sub2 === undefined && method === 'POST') {
        requirePermission(tenant, 'GroupMember.Read.All');
        const groupIds = (parseJson(body) as { groupIds?: unknown }).groupIds;
        if (!Array.isArray(groupIds) || groupIds.some((g) => typeof g !== 'string')) {
          throw graphError(400, 'Request_BadRequest', "Invalid value specified for property 'groupIds'.");
        }
        const member = tenant.groups.filter((g) => groupIds.includes(g.id) && g.memberIds.includes(user.id));
        return ok({ '@odata.context': `${context}#Collection(Edm.String)`, value: member.map((g) => g.id) });
      }
      if (sub === 'teamwork' && sub2 === 'installedApps') {
        requirePermission(tenant, 'TeamsAppInstallation.ReadWriteSelfForUser.All');
        if (sub3 === undefined && method === 'POST') {
          const bind = (parseJson(body) as Record<string, unknown>)['teamsApp@odata.bind'];
          const catalogId =
            typeof bind === 'string' ? /\/appCatalogs\/teamsApps\/([^/?]+)$/.exec(bind)?.[1] : null;
          if (!catalogId)
            throw graphError(400, 'BadRequest', "The 'teamsApp@odata.bind' property is required.");
          if (!tenant.teamsApps.some((a) => a.catalogId === catalogId)) {
            throw graphError(
              404,
              'NotFound',
              `The app '${catalogId}' was not found in the tenant's app catalog.`,
            );
          }
          const id = installationId(user.id, catalogId);
          if (installations.has(id)) throw graphError(409, 'Conflict', 'App is already installed.');
          installations.set(id, {
            tenantId: tenant.tenantId,
            userId: user.id,
            catalogId,
            installationId: id,
            installedAt: new Date().toISOString(),
          });
          return ok(undefined, 201);
        }
        if (sub3 === undefined && method === 'GET') {
          const clause = filterOf(url);
          if (clause && !(clause.kind === 'eq' && clause.property === 'teamsApp/id')) {
            throw graphError(400, 'BadRequest', 'Unsupported filter on installed apps.');
          }
          const expand = (url.searchParams.get('$expand') ?? '').split(',').includes('teamsAppDefinition');
          const mine = [...installations.values()].filter(
            (i) => i.userId === user.id && (!clause || i.catalogId === clause.value),
          );
          return ok({
            '@odata.context': `${context}#users('${user.id}')/teamwork/installedApps`,
            value: mine.map((i) => {
              const app = tenant.teamsApps.find((a) => a.catalogId === i.catalogId);
              return {
                id: i.installationId,
                ...(expand
                  ? {
                      teamsAppDefinition: {
                        id: Buffer.from(`${i.catalogId}##1.0.0##Published`).toString('base64'),
                        teamsAppId: i.catalogId,
                        displayName: app?.displayName ?? null,
                        version: '1.0.0',
                      },
                    }
                  : {}),
              };
            }),
          });
        }
        if (sub3 !== undefined && sub4 === 'chat' && method === 'GET') {
          const installation = installations.get(sub3);
          if (!installation || installation.userId !== user.id) {
            throw graphError(404, 'NotFound', `The installation '${sub3}' was not found for the user.`);
          }
          return ok({
            '@odata.context': `${context}#chats/$entity`,
            id: chatIdFor(tenant, user, installation.catalogId),
            topic: null,
            createdDateTime: installation.installedAt,
            lastUpdatedDateTime: installation.installedAt,
            chatType: 'oneOnOne',
            webUrl: null,
            tenantId: tenant.tenantId,
          });
        }
      }
    }
    if (root === 'appCatalogs' && key === 'teamsApps' && sub === undefined && method === 'GET') {
      requirePermission(tenant, 'AppCatalog.Read.All');
      const clause = filterOf(url);
      if (
        clause &&
        !(clause.kind === 'eq' && ['externalId', 'id', 'distributionMethod'].includes(clause.property))
      ) {
        throw graphError(400, 'BadRequest', 'Unsupported filter on teamsApps.');
      }
      const apps = tenant.teamsApps.filter((a) => {
        if (!clause || clause.kind !== 'eq') return true;
        if (clause.property === 'externalId') return a.externalId === clause.value;
        if (clause.property === 'id') return a.catalogId === clause.value;
        return clause.value === 'organization';
      });
      return ok({
        '@odata.context': `${context}#appCatalogs/teamsApps`,
        value: apps.map((a) => ({
          id: a.catalogId,
          externalId: a.externalId,
          displayName: a.displayName,
          distributionMethod: 'organization',
        })),
      });
    }
    if (root === 'groups' && key !== undefined && sub === 'members' && method === 'GET') {
      requirePermission(tenant, 'GroupMember.Read.All');
      const group = tenant.groups.find((g) => g.id === key);
      if (!group) {
        throw graphError(
          404,
          'Request_ResourceNotFound',
          `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
        );
      }
      const members = users.filter((u) => u.tenantId === tenant.tenantId && group.memberIds.includes(u.id));
      return ok({
        '@odata.context': `${context}#directoryObjects`,
        value: members.map((u) => ({ '@odata.type': '#microsoft.graph.user', ...selectUser(u, select) })),
      });
    }
    throw graphError(400, 'BadRequest', `Resource not found for the segment '${segments.join('/')}'.`);
  }

  // Sandbox control (for `npm run sandbox:graph` and scripted local runs) ----------------------------------------

  function control(method: string, path: string, body: string): { status: number; body?: unknown } | null {
    if (path === '/_sandbox/requests' && method === 'GET') return { status: 200, body: requests };
    if (path === '/_sandbox/installs' && method === 'GET')
      return { status: 200, body: [...installations.values()] };
    if (path === '/_sandbox/faults' && method === 'POST') {
      faults.inject(graphFaultFromJson(parseJson(body)));
      return { status: 204 };
    }
    if (path === '/_sandbox/faults' && method === 'DELETE') {
      faults.clear();
      return { status: 204 };
    }
    if (path === '/_sandbox/users' && method === 'POST') {
      addUser(parseJson(body) as SandboxUser);
      return { status: 201 };
    }
    return null;
  }

  function addUser(user: SandboxUser): void {
    if (!tenantByIdOrKey(user.tenantId)) throw new Error(`unknown tenant ${user.tenantId}`);
    users.push(
      structuredClone({ ...user, devices: user.devices ?? [], proxyAddresses: user.proxyAddresses ?? [] }),
    );
  }

  // Transport ----------------------------------------------------------------------------------------------------

  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void respond(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  };

  async function respond(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const method = req.method ?? 'GET';
    const path = safeDecode(url.pathname);
    const record: SandboxRequest = {
      method,
      path,
      query: safeDecode(url.search.replace(/^\?/, '')),
      status: 0,
      tenantId: null,
      at: Date.now(),
    };
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      requests.push(record);
      res.writeHead(status, {
        ...(payload === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        'request-id': randomUUID(),
        ...headers,
      });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    try {
      const isGraph = path.startsWith('/v1.0/');
      const fault = faults.take(method, path, isGraph);
      if (fault?.kind === 'drop') {
        record.status = -1;
        requests.push(record);
        req.socket.destroy();
        return;
      }
      if (fault?.kind === '429') {
        send(
          429,
          {
            error: {
              code: 'TooManyRequests',
              message: 'Too many requests, retry after some time.',
              innerError: { date: new Date().toISOString(), 'request-id': randomUUID() },
            },
          },
          { 'retry-after': String(fault.retryAfterSeconds ?? 1) },
        );
        return;
      }
      if (fault?.kind === '503') {
        send(
          503,
          { error: { code: 'serviceNotAvailable', message: 'Service Unavailable' } },
          { 'retry-after': String(fault.retryAfterSeconds ?? 1) },
        );
        return;
      }
      if (fault?.kind === '500') {
        send(500, { error: { code: 'generalException', message: 'General exception while processing.' } });
        return;
      }

      const controlled = control(method, path, body);
      if (controlled) return send(controlled.status, controlled.body);

      const auth =
        /^\/([^/]+)\/(oauth2\/v2\.0\/token|v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys)$/.exec(
          path,
        );
      if (auth) {
        const [, tenantSegment = '', endpoint] = auth;
        record.tenantId = tenantByIdOrKey(tenantSegment)?.tenantId ?? null;
        if (endpoint === 'oauth2/v2.0/token' && method === 'POST') {
          const result = issueToken(tenantSegment, new URLSearchParams(body));
          return send(result.status, result.body);
        }
        if (endpoint === 'discovery/v2.0/keys') return send(200, { keys: [] });
        if (method === 'GET') return send(200, JSON.parse(metadata(tenantSegment)));
      }
      if (isGraph) {
        const result = await graph(req, url, body);
        record.tenantId = result.tenantId;
        return send(result.status, result.body);
      }
      send(404, { error: { code: 'NotFound', message: `No route for ${method} ${path}` } });
    } catch (error) {
      if (error instanceof GraphHttpError) return send(error.status, error.body, error.headers);
      send(500, { error: { code: 'generalException', message: String(error) } });
    }
  }

  const listener = await listenHttpsAndHttp(handler, certificate, options.port ?? 0, host);
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  origin = `https://${hostForUrl}:${listener.port}`;
  plainOrigin = `http://${hostForUrl}:${listener.port}`;

  return {
    baseUrl: `${origin}/v1.0`,
    authorityHost: origin,
    port: listener.port,
    caCertificatePem: certificate.certPem,
    authorityMetadata: (tenantId?: string) => metadata(tenantId ?? '{tenant}'),
    credentials(value: string): SandboxCredentials {
      const tenant = tenantByIdOrKey(value);
      if (!tenant) throw new Error(`the Graph sandbox has no tenant ${value}`);
      return { tenantId: tenant.tenantId, clientId: tenant.clientId, clientSecret: tenant.clientSecret };
    },
    tenants,
    requests,
    tokenRequests,
    get installs(): SandboxInstall[] {
      return [...installations.values()].map(({ tenantId, userId, catalogId, installationId: id }) => ({
        tenantId,
        userId,
        catalogId,
        installationId: id,
      }));
    },
    faults,
    addUser,
    close: () => listener.close(),
  };
}

function parseJson(body: string): unknown {
  try {
    return body.length === 0 ? {} : (JSON.parse(body) as unknown);
  } catch {
    throw graphError(400, 'BadRequest', 'Unable to read JSON request payload.');
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
