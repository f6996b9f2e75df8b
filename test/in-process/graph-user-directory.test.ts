import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GraphAuthError, GraphError } from '../../src/adapters/graph/graph-error.js';
import { createGraphGateway } from '../../src/adapters/graph/graph-gateway.js';
import { createGraphUserDirectory } from '../../src/adapters/graph/graph-user-directory.js';
import { loadTenantMap, type TenantMap } from '../../src/config/tenant-map.js';
import { silentLog } from '../../src/ports/log.js';
import type { TenantRef, UserDirectory } from '../../src/ports/user-directory.js';
import { startGraphSandbox, type GraphSandbox } from '../../src/sandboxes/graph/graph-sandbox.js';
import {
  SANDBOX_TENANTS_FILE,
  sandboxGraphSettings,
  sandboxTenantsEnv,
} from '../fixtures/graph/sandbox-tenants.js';

let sandbox: GraphSandbox;
let tenants: TenantMap;
let directory: UserDirectory;
let contoso: TenantRef;
let fabrikam: TenantRef;
let msp: TenantRef;

beforeAll(async () => {
  sandbox = await startGraphSandbox();
  tenants = loadTenantMap({ tenantsFile: SANDBOX_TENANTS_FILE }, {}, sandboxTenantsEnv(sandbox));
  directory = createGraphUserDirectory({ tenants, graph: sandboxGraphSettings(sandbox), log: silentLog });
  contoso = tenants.tenantForCustomer(101)!;
  fabrikam = tenants.tenantForCustomer(103)!;
  msp = tenants.tenants.find((t) => t.key === 'msp')!;
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(() => {
  sandbox.faults.clear();
});

/** The user-lookup queries the sandbox received since `from`. */
function lookups(from: number): string[] {
  return sandbox.requests
    .slice(from)
    .filter((r) => r.path === '/v1.0/users')
    .map((r) => /\$filter=([^&]*)/.exec(r.query)?.[1] ?? '');
}

describe('finding the end user in Microsoft Graph', () => {
  it('finds a user by mail, with job, department, language and a compliant Intune device', async () => {
    const result = await directory.findByEmail(contoso, 'megan.bowen@contoso.example');
    expect(result.status).toBe('found');
    if (result.status !== 'found') return;
    expect(result.user).toMatchObject({
      displayName: 'Megan Bowen',
      jobTitle: 'Marketing Manager',
      department: 'Marketing',
      preferredLanguage: 'en-US',
      tenant: { key: 'contoso', tenantId: '11111111-1111-4111-8111-111111111111' },
    });
    expect(result.user.managedDevices).toEqual([
      expect.objectContaining({ operatingSystem: 'Windows', complianceState: 'compliant' }),
    ]);
  });

  it('reports a noncompliant device and the user’s German language', async () => {
    const result = await directory.findByEmail(contoso, 'Lukas.Schmidt@contoso.example');
    expect(result.status).toBe('found');
    if (result.status !== 'found') return;
    expect(result.user.jobTitle).toBe('Buchhalter');
    expect(result.user.preferredLanguage).toBe('de-DE');
    expect(result.user.managedDevices?.[0]?.complianceState).toBe('noncompliant');
  });

  it('selects accountEnabled and userType explicitly (Graph returns them only when selected)', async () => {
    const from = sandbox.requests.length;
    await directory.findByEmail(contoso, 'megan.bowen@contoso.example');
    const query = sandbox.requests.slice(from).find((r) => r.path === '/v1.0/users')!.query;
    expect(query).toMatch(/\$select=[^&]*accountEnabled/);
    expect(query).toMatch(/\$select=[^&]*userType/);
    expect(query).toMatch(/\$select=[^&]*preferredLanguage/);
  });

  it('falls back to the user principal name when no mailbox has the address', async () => {
    const from = sandbox.requests.length;
    const result = await directory.findByEmail(contoso, 'nestor.wilke@contoso.example');
    expect(result.status === 'found' && result.user.displayName).toBe('Nestor Wilke');
    expect(lookups(from)).toEqual([
      "mail eq 'nestor.wilke@contoso.example'",
      "userPrincipalName eq 'nestor.wilke@contoso.example'",
    ]);
  });

  it('falls back to proxy addresses for an alias', async () => {
    const from = sandbox.requests.length;
    const result = await directory.findByEmail(contoso, 'd.siciliani@contoso.example');
    expect(result.status === 'found' && result.user.displayName).toBe('Diego Siciliani');
    expect(result.status === 'found' && result.user.preferredLanguage).toBe('en-GB');
    expect(lookups(from)).toEqual([
      "mail eq 'd.siciliani@contoso.example'",
      "userPrincipalName eq 'd.siciliani@contoso.example'",
      "proxyAddresses/any(p:p eq 'smtp:d.siciliani@contoso.example')",
    ]);
  });

  it('escapes a single quote in the address (Graph rejects an unescaped one)', async () => {
    const result = await directory.findByEmail(contoso, "liam.o'connor@contoso.example");
    expect(result.status === 'found' && result.user.displayName).toBe("Liam O'Connor");
  });

  it('encodes a plus sign in the address instead of sending it as a space', async () => {
    const result = await directory.findByEmail(contoso, 'megan+support@contoso.example');
    expect(result.status === 'found' && result.user.displayName).toBe('Megan Bowen');
  });

  it('reports a disabled account as disabled, not found', async () => {
    const result = await directory.findByEmail(contoso, 'former.employee@contoso.example');
    expect(result.status).toBe('disabled');
    expect(result.status === 'disabled' && result.user.displayName).toBe('Former Employee');
  });

  it('reports a guest as a guest', async () => {
    const result = await directory.findByEmail(contoso, 'partner.guest@contoso.example');
    expect(result.status).toBe('guest');
  });

  it('reports an unknown address as not found after trying mail, UPN and proxy addresses', async () => {
    const from = sandbox.requests.length;
    expect(await directory.findByEmail(contoso, 'nobody@contoso.example')).toEqual({ status: 'not_found' });
    expect(lookups(from)).toHaveLength(3);
  });

  it('only sees the users of the tenant it asks', async () => {
    expect(await directory.findByEmail(contoso, 'adele.vance@fabrikam.example')).toEqual({
      status: 'not_found',
    });
  });

  it('leaves devices out (null, not an error) in a tenant without the Intune permission', async () => {
    const from = sandbox.requests.length;
    const result = await directory.findByEmail(fabrikam, 'adele.vance@fabrikam.example');
    expect(result.status).toBe('found');
    expect(result.status === 'found' && result.user.managedDevices).toBeNull();
    const devices = sandbox.requests.slice(from).find((r) => r.path.endsWith('/managedDevices'));
    expect(devices?.status).toBe(403);
  });
});

describe('Graph tokens', () => {
  it('gets one token per tenant however many lookups follow', async () => {
    const fresh = loadTenantMap({ tenantsFile: SANDBOX_TENANTS_FILE }, {}, sandboxTenantsEnv(sandbox));
    const own = createGraphUserDirectory({
      tenants: fresh,
      graph: sandboxGraphSettings(sandbox),
      log: silentLog,
    });
    const before = sandbox.tokenRequests.length;
    const addresses = [
      'megan.bowen@contoso.example',
      'lukas.schmidt@contoso.example',
      'nobody@contoso.example',
    ];
    for (let i = 0; i < 3; i += 1) {
      await Promise.all([
        ...addresses.map((a) => own.findByEmail(contoso, a)),
        own.findByEmail(fabrikam, 'adele.vance@fabrikam.example'),
        own.findByEmail(fabrikam, 'pradeep.gupta@fabrikam.example'),
      ]);
    }
    const issued = sandbox.tokenRequests.slice(before);
    expect(issued.filter((t) => t.tenantId === contoso.tenantId)).toHaveLength(1);
    expect(issued.filter((t) => t.tenantId === fabrikam.tenantId)).toHaveLength(1);
  });

  it('fails with a coded auth error (naming no secret) when the tenant refuses the credentials', async () => {
    const env = { ...sandboxTenantsEnv(sandbox), CONTOSO_GRAPH_SECRET: 'not-the-secret' };
    const wrong = loadTenantMap({ tenantsFile: SANDBOX_TENANTS_FILE }, {}, env);
    const own = createGraphUserDirectory({
      tenants: wrong,
      graph: sandboxGraphSettings(sandbox),
      log: silentLog,
    });
    const error = await own.findByEmail(contoso, 'megan.bowen@contoso.example').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphAuthError);
    expect((error as GraphAuthError).code).toBe('graph_auth_failed');
    expect((error as Error).message).toContain('invalid_client');
    expect((error as Error).message).not.toContain('not-the-secret');
  });
});

describe('Graph throttling and failures', () => {
  it('honours Retry-After on a 429 and then answers', async () => {
    sandbox.faults.inject({ kind: '429', match: { path: '/v1.0/users' }, retryAfterSeconds: 1 });
    const from = sandbox.requests.length;
    const result = await directory.findByEmail(contoso, 'megan.bowen@contoso.example');
    expect(result.status).toBe('found');
    const [throttled, retried] = sandbox.requests.slice(from).filter((r) => r.path === '/v1.0/users');
    expect(throttled?.status).toBe(429);
    expect(retried?.status).toBe(200);
    expect(retried!.at - throttled!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives up with a coded GraphError after its bounded retries', async () => {
    const gateway = createGraphGateway({
      credentials: tenants,
      ...sandboxGraphSettings(sandbox),
      maxAttempts: 3,
      log: silentLog,
    });
    const own = createGraphUserDirectory({
      tenants,
      graph: sandboxGraphSettings(sandbox),
      log: silentLog,
      gateway,
    });
    sandbox.faults.inject({ kind: '429', match: { path: '/v1.0/users' }, retryAfterSeconds: 0, times: 10 });
    const from = sandbox.requests.length;
    const error = await own.findByEmail(contoso, 'megan.bowen@contoso.example').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphError);
    expect(error).toMatchObject({ code: 'graph_request_failed', status: 429, path: '/users' });
    expect(sandbox.requests.slice(from).filter((r) => r.path === '/v1.0/users')).toHaveLength(3);
    expect((error as Error).message).not.toMatch(/bearer|megan/i);
  });

  it('does not wait for a Retry-After longer than it allows', async () => {
    const gateway = createGraphGateway({
      credentials: tenants,
      ...sandboxGraphSettings(sandbox),
      maxRetryAfterSeconds: 5,
      log: silentLog,
    });
    const own = createGraphUserDirectory({
      tenants,
      graph: sandboxGraphSettings(sandbox),
      log: silentLog,
      gateway,
    });
    sandbox.faults.inject({ kind: '429', match: { path: '/v1.0/users' }, retryAfterSeconds: 120 });
    const error = await own.findByEmail(contoso, 'megan.bowen@contoso.example').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, retryAfter: '120' });
  });

  it('turns a server error into a coded GraphError with status and path', async () => {
    sandbox.faults.inject({ kind: '500', match: { path: /\/managedDevices$/ } });
    const error = await directory
      .findByEmail(contoso, 'megan.bowen@contoso.example')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphError);
    expect(error).toMatchObject({ status: 500, graphCode: 'generalException' });
    expect((error as GraphError).path).toMatch(/^\/users\/[0-9a-f-]+\/managedDevices$/);
  });

  it('retries a dropped connection', async () => {
    sandbox.faults.inject({ kind: 'drop', match: { path: '/v1.0/users' } });
    const result = await directory.findByEmail(contoso, 'diego.siciliani@contoso.example');
    expect(result.status).toBe('found');
  });
});

describe('technicians’ group membership', () => {
  const group = '44444444-4444-4444-8444-444444444444';

  it('counts Dana Tech and Sam Support as members of the technicians’ group', async () => {
    const dana = await directory.findByEmail(msp, 'dana.tech@msp.example');
    const sam = await directory.findByEmail(msp, 'sam.support@msp.example');
    expect(dana.status === 'found' && (await directory.isInGroup(msp, dana.user.id, group))).toBe(true);
    expect(sam.status === 'found' && (await directory.isInGroup(msp, sam.user.id, group))).toBe(true);
  });

  it('does not count a colleague outside the group', async () => {
    const riley = await directory.findByEmail(msp, 'riley.sales@msp.example');
    expect(riley.status === 'found' && (await directory.isInGroup(msp, riley.user.id, group))).toBe(false);
  });

  it('does not count someone from another tenant', async () => {
    const megan = await directory.findByEmail(contoso, 'megan.bowen@contoso.example');
    expect(megan.status === 'found' && (await directory.isInGroup(msp, megan.user.id, group))).toBe(false);
  });
});
