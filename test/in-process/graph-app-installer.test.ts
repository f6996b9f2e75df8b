import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphAppInstaller } from '../../src/adapters/graph/app-installer.js';
import { TeamsAppNotInCatalogError } from '../../src/adapters/graph/graph-error.js';
import { loadTenantMap, type TenantMap } from '../../src/config/tenant-map.js';
import { silentLog } from '../../src/ports/log.js';
import { startGraphSandbox, type GraphSandbox } from '../../src/sandboxes/graph/graph-sandbox.js';
import {
  PLAYGROUND,
  SANDBOX_TEAMS_APP_ID,
  SANDBOX_USERS,
} from '../../src/sandboxes/graph/sandbox-directory.js';
import {
  SANDBOX_TENANTS_FILE,
  sandboxGraphSettings,
  sandboxTenantsEnv,
} from '../fixtures/graph/sandbox-tenants.js';

let sandbox: GraphSandbox;
let tenants: TenantMap;

const idOf = (mail: string) => SANDBOX_USERS.find((u) => u.mail === mail)!.id;

beforeAll(async () => {
  sandbox = await startGraphSandbox();
  tenants = loadTenantMap(
    { tenantsFile: SANDBOX_TENANTS_FILE },
    { teamsAppId: SANDBOX_TEAMS_APP_ID },
    sandboxTenantsEnv(sandbox),
  );
});

afterAll(async () => {
  await sandbox.close();
});

function installer(teamsAppId: string | undefined = SANDBOX_TEAMS_APP_ID) {
  return createGraphAppInstaller({
    tenants,
    graph: sandboxGraphSettings(sandbox),
    teamsAppId,
    log: silentLog,
  });
}

describe('installing TicketZero for a user through Graph', () => {
  it('installs the app (201) and returns the 1:1 chat id, then finds it already installed (409)', async () => {
    const contoso = tenants.tenantForCustomer(101)!;
    const megan = idOf('megan.bowen@contoso.example');
    const apps = installer();
    const from = sandbox.requests.length;

    const first = await apps.ensureInstalled(contoso, megan);
    const second = await apps.ensureInstalled(contoso, megan);

    const chatId = `19:${megan}_b0000001-0000-4000-8000-000000000001@unq.gbl.spaces`;
    expect(first).toEqual({ installed: 'now', chatId });
    expect(second).toEqual({ installed: 'already', chatId });
    const posts = sandbox.requests
      .slice(from)
      .filter((r) => r.method === 'POST' && r.path.endsWith('/installedApps'));
    expect(posts.map((r) => r.status)).toEqual([201, 409]);
    expect(sandbox.installs).toContainEqual(
      expect.objectContaining({ userId: megan, catalogId: 'a1000001-0000-4000-8000-000000000001' }),
    );
  });

  it('uses the catalogue id from the tenant map without asking the catalogue', async () => {
    const from = sandbox.requests.length;
    await installer().ensureInstalled(
      tenants.tenantForCustomer(104)!,
      idOf('isabelle.dubois@tailspin.example'),
    );
    expect(sandbox.requests.slice(from).some((r) => r.path.includes('/appCatalogs/'))).toBe(false);
  });

  it('looks the catalogue id up by manifest id once per tenant when the map has none', async () => {
    const fabrikam = tenants.tenantForCustomer(103)!;
    const apps = installer();
    const from = sandbox.requests.length;

    const adele = await apps.ensureInstalled(fabrikam, idOf('adele.vance@fabrikam.example'));
    const pradeep = await apps.ensureInstalled(fabrikam, idOf('pradeep.gupta@fabrikam.example'));

    expect(adele.installed).toBe('now');
    expect(pradeep.chatId).toMatch(/^19:.+_b0000002-0000-4000-8000-000000000002@unq\.gbl\.spaces$/);
    const lookups = sandbox.requests.slice(from).filter((r) => r.path === '/v1.0/appCatalogs/teamsApps');
    expect(lookups).toHaveLength(1);
    expect(lookups[0]!.query).toContain(`externalId eq '${SANDBOX_TEAMS_APP_ID}'`);
  });

  it('says so with a coded error when the app is not in the tenant’s catalogue', async () => {
    const unpublished = loadTenantMap(
      { tenantsFile: SANDBOX_TENANTS_FILE },
      { teamsAppId: '00000000-dead-4000-8000-000000000000' },
      sandboxTenantsEnv(sandbox),
    );
    const error = await createGraphAppInstaller({
      tenants: unpublished,
      graph: sandboxGraphSettings(sandbox),
      log: silentLog,
    })
      .ensureInstalled(unpublished.tenantForCustomer(103)!, idOf('adele.vance@fabrikam.example'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TeamsAppNotInCatalogError);
    expect((error as TeamsAppNotInCatalogError).code).toBe('teams_app_not_in_catalog');
  });

  it('reports the Agents Playground user’s chat in the Playground tenant', async () => {
    const playground = tenants.tenantForCustomer(106)!;
    const result = await installer().ensureInstalled(playground, PLAYGROUND.user.aadObjectId);
    expect(result.chatId).toBe(`19:${PLAYGROUND.user.aadObjectId}_${PLAYGROUND.botId}@unq.gbl.spaces`);
  });

  it('fails with a coded GraphError for a user the tenant does not have', async () => {
    const error = await installer()
      .ensureInstalled(tenants.tenantForCustomer(101)!, '99999999-9999-4999-8999-999999999999')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'graph_request_failed',
      status: 404,
      graphCode: 'Request_ResourceNotFound',
    });
  });
});
