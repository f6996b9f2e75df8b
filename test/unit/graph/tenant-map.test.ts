import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTenantMap } from '../../../src/config/tenant-map.js';
import { ConfigError } from '../../../src/errors.js';
import { SANDBOX_TENANTS_FILE } from '../../fixtures/graph/sandbox-tenants.js';

const dir = mkdtempSync(join(tmpdir(), 'ticketzero-tenants-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const sandboxEnv = {
  CONTOSO_GRAPH_SECRET: 'c-secret',
  FABRIKAM_GRAPH_SECRET: 'f-secret',
  TAILSPIN_GRAPH_SECRET: 't-secret',
  MSP_GRAPH_SECRET: 'm-secret',
  PLAYGROUND_GRAPH_SECRET: 'p-secret',
  CONTOSO_BOT_PASSWORD: 'c-bot',
  FABRIKAM_BOT_PASSWORD: 'f-bot',
  TAILSPIN_BOT_PASSWORD: 't-bot',
};

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('the tenant map', () => {
  it('maps each Atera customer to its tenant and declines an unmapped one', () => {
    const map = loadTenantMap({ tenantsFile: SANDBOX_TENANTS_FILE }, {}, sandboxEnv);
    expect(map.tenantForCustomer(101)?.key).toBe('contoso');
    expect(map.tenantForCustomer(102)?.key).toBe('contoso');
    expect(map.tenantForCustomer(103)?.key).toBe('fabrikam');
    expect(map.tenantForCustomer(104)?.key).toBe('tailspin');
    expect(map.tenantForCustomer(105)).toBeNull();
    expect(map.tenantForCustomer(null)).toBeNull();
  });

  it('reads each tenant’s secrets from the environment variables the file names', () => {
    const map = loadTenantMap({ tenantsFile: SANDBOX_TENANTS_FILE }, {}, sandboxEnv);
    const contoso = map.tenantForCustomer(101)!;
    expect(map.graphCredentials(contoso)).toEqual({
      clientId: 'c0000001-0000-4000-8000-000000000001',
      clientSecret: 'c-secret',
    });
    expect(map.botFor(contoso)).toEqual({
      appId: 'b0000001-0000-4000-8000-000000000001',
      appPassword: 'c-bot',
    });
    expect(map.teamsApp(contoso)?.catalogId).toBe('a1000001-0000-4000-8000-000000000001');
  });

  it('finds a tenant by its Entra id, whatever its case', () => {
    const map = loadTenantMap({ tenantsFile: SANDBOX_TENANTS_FILE }, {}, sandboxEnv);
    expect(map.tenantById('22222222-2222-4222-8222-222222222222')).toEqual({
      key: 'fabrikam',
      tenantId: '22222222-2222-4222-8222-222222222222',
    });
    expect(map.tenantById('33333333-3333-4333-8333-333333333333')?.key).toBe('msp');
    expect(map.tenantById('99999999-9999-4999-8999-999999999999')).toBeNull();
  });

  it('sends unmapped customers to the default tenant when the file names one', () => {
    const path = file('with-default.json', {
      tenants: [
        { key: 'contoso', tenantId: '11111111-1111-4111-8111-111111111111', customers: [101] },
        { key: 'fabrikam', tenantId: '22222222-2222-4222-8222-222222222222', customers: [103] },
      ],
      defaultTenant: 'contoso',
    });
    const map = loadTenantMap({ tenantsFile: path, clientId: 'multi', clientSecret: 's' }, {}, {});
    expect(map.tenantForCustomer(999)?.key).toBe('contoso');
    expect(map.tenantForCustomer(103)?.key).toBe('fabrikam');
    // No graph block: the multi-tenant Graph app from GRAPH_CLIENT_ID / GRAPH_CLIENT_SECRET serves the tenant.
    expect(map.graphCredentials(map.tenantForCustomer(103)!)).toEqual({
      clientId: 'multi',
      clientSecret: 's',
    });
  });

  it('without a file, lets the GRAPH_* tenant serve every customer', () => {
    const map = loadTenantMap(
      { tenantId: '11111111-1111-4111-8111-111111111111', clientId: 'app', clientSecret: 'secret' },
      { appId: 'bot', appPassword: 'pw', teamsAppId: 'manifest' },
      {},
    );
    const tenant = { key: 'default', tenantId: '11111111-1111-4111-8111-111111111111' };
    expect(map.tenantForCustomer(12345)).toEqual(tenant);
    expect(map.tenantForCustomer(null)).toEqual(tenant);
    expect(map.teamsApp(tenant)).toEqual({ catalogId: null, manifestId: 'manifest' });
    expect(map.botFor(tenant)).toEqual({ appId: 'bot', appPassword: 'pw' });
  });

  it('without a file, names each missing GRAPH_* setting', () => {
    expect(problemsOf(() => loadTenantMap({}, {}, {}))).toEqual([
      'GRAPH_TENANT_ID: required without TENANTS_FILE',
      'GRAPH_CLIENT_ID: required without TENANTS_FILE',
      'GRAPH_CLIENT_SECRET: required without TENANTS_FILE',
    ]);
  });

  it('lists every problem in the file together, by path and variable name', () => {
    const path = file('broken.json', {
      tenants: [
        {
          key: 'contoso',
          tenantId: '11111111-1111-4111-8111-111111111111',
          graph: { clientId: 'c', clientSecretEnv: 'CONTOSO_GRAPH_SECRET' },
          bot: { appId: 'b', appPasswordEnv: 'CONTOSO_BOT_PASSWORD' },
          customers: [101, 102],
        },
        {
          key: 'fabrikam',
          tenantId: '22222222-2222-4222-8222-222222222222',
          graph: { clientId: 'f', clientSecretEnv: 'FABRIKAM_GRAPH_SECRET' },
          customers: [102],
        },
        { key: 'contoso', tenantId: '55555555-5555-4555-8555-555555555555', customers: [104] },
      ],
      defaultTenant: 'northwind',
    });
    const problems = problemsOf(() =>
      loadTenantMap({ tenantsFile: path }, {}, { FABRIKAM_GRAPH_SECRET: 'x' }),
    );
    const where = `TENANTS_FILE (${path})`;
    expect(problems).toEqual(
      expect.arrayContaining([
        `${where} tenants[0].graph.clientSecretEnv: environment variable CONTOSO_GRAPH_SECRET is not set`,
        `${where} tenants[0].bot.appPasswordEnv: environment variable CONTOSO_BOT_PASSWORD is not set`,
        `${where} tenants[1].customers: customer 102 is already mapped to "contoso"`,
        `${where} tenants[2].key: "contoso" is used twice`,
        expect.stringMatching(/^TENANTS_FILE .* tenants\[2\]\.graph: required/),
        `${where} defaultTenant: "northwind" is not the key of a tenant in the file`,
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  it('reports malformed entries by JSON path', () => {
    const path = file('malformed.json', {
      tenants: [
        { key: 'Contoso Ltd', tenantId: 'contoso.onmicrosoft.com', customers: ['101'], colour: 'blue' },
      ],
    });
    const problems = problemsOf(() => loadTenantMap({ tenantsFile: path }, {}, {}));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/tenants\[0\]\.key: expected a short key/),
        expect.stringMatching(/tenants\[0\]\.tenantId: expected an Entra tenant id/),
        expect.stringMatching(/tenants\[0\]\.customers\[0\]: Expected number/),
        expect.stringMatching(/tenants\[0\]: Unrecognized key\(s\) in object: 'colour'/),
      ]),
    );
  });

  it('refuses a secret written into the file', () => {
    const path = file('secret.json', {
      tenants: [
        {
          key: 'contoso',
          tenantId: '11111111-1111-4111-8111-111111111111',
          graph: { clientId: 'c', clientSecret: 'hunter2' },
          customers: [101],
        },
      ],
    });
    const problems = problemsOf(() => loadTenantMap({ tenantsFile: path }, {}, {}));
    expect(problems).toEqual([
      `TENANTS_FILE (${path}) tenants[0].graph.clientSecret: secrets do not belong in the file; name an environment variable instead`,
    ]);
    expect(problems.join()).not.toContain('hunter2');
  });

  it('reports a file that is missing or not JSON', () => {
    expect(problemsOf(() => loadTenantMap({ tenantsFile: join(dir, 'absent.json') }, {}, {}))[0]).toMatch(
      /^TENANTS_FILE \(.*absent\.json\): cannot be read as JSON/,
    );
    expect(
      problemsOf(() => loadTenantMap({ tenantsFile: file('bad.json', '{ tenants: ') }, {}, {}))[0],
    ).toMatch(/cannot be read as JSON/);
  });
});
