/**
 * The tenants file that matches the Graph sandbox (see docs/multi-tenant.md): Atera customers 101 and 102 →
 * Contoso, 103 → Fabrikam, 104 → Tailspin, 106 → the Agents Playground's tenant, 105 unmapped; the MSP's own
 * tenant holds the technicians. Contoso, Fabrikam and Tailspin each have their own single-tenant bot registration;
 * the MSP's bot (MICROSOFT_APP_ID) serves the technicians' channel and tenants without a bot of their own.
 * `test/fixtures/graph/tenants.sandbox.json` is the same document, checked in as the example.
 */
import type { GraphSandbox } from './graph/graph-sandbox.js';
import { PLAYGROUND } from './graph/sandbox-directory.js';

/** Bot registrations of the sandbox's tenants (app id, secret, and the env var the tenants file names). */
export const SANDBOX_BOTS = {
  msp: {
    appId: 'b0000003-0000-4000-8000-000000000003',
    password: 'msp-bot-password',
    tenantId: '33333333-3333-4333-8333-333333333333',
  },
  contoso: {
    appId: 'b0000001-0000-4000-8000-000000000001',
    password: 'contoso-bot-password',
    passwordEnv: 'CONTOSO_BOT_PASSWORD',
    tenantId: '11111111-1111-4111-8111-111111111111',
  },
  fabrikam: {
    appId: 'b0000002-0000-4000-8000-000000000002',
    password: 'fabrikam-bot-password',
    passwordEnv: 'FABRIKAM_BOT_PASSWORD',
    tenantId: '22222222-2222-4222-8222-222222222222',
  },
  tailspin: {
    appId: 'b0000005-0000-4000-8000-000000000005',
    password: 'tailspin-bot-password',
    passwordEnv: 'TAILSPIN_BOT_PASSWORD',
    tenantId: '55555555-5555-4555-8555-555555555555',
  },
} as const;

/** The tenants file's content (JSON-ready). */
export function sandboxTenantsDocument(): Record<string, unknown> {
  const { contoso, fabrikam, tailspin, msp } = SANDBOX_BOTS;
  return {
    tenants: [
      {
        key: 'contoso',
        name: 'Contoso',
        tenantId: contoso.tenantId,
        graph: { clientId: 'c0000001-0000-4000-8000-000000000001', clientSecretEnv: 'CONTOSO_GRAPH_SECRET' },
        teamsAppCatalogId: 'a1000001-0000-4000-8000-000000000001',
        bot: { appId: contoso.appId, appPasswordEnv: contoso.passwordEnv },
        customers: [101, 102],
      },
      {
        key: 'fabrikam',
        name: 'Fabrikam',
        tenantId: fabrikam.tenantId,
        graph: { clientId: 'c0000002-0000-4000-8000-000000000002', clientSecretEnv: 'FABRIKAM_GRAPH_SECRET' },
        bot: { appId: fabrikam.appId, appPasswordEnv: fabrikam.passwordEnv },
        customers: [103],
      },
      {
        key: 'tailspin',
        name: 'Tailspin Toys',
        tenantId: tailspin.tenantId,
        graph: { clientId: 'c0000005-0000-4000-8000-000000000005', clientSecretEnv: 'TAILSPIN_GRAPH_SECRET' },
        teamsAppCatalogId: 'a1000005-0000-4000-8000-000000000005',
        bot: { appId: tailspin.appId, appPasswordEnv: tailspin.passwordEnv },
        customers: [104],
      },
      {
        key: 'msp',
        name: 'The MSP (technicians)',
        tenantId: msp.tenantId,
        graph: { clientId: 'c0000003-0000-4000-8000-000000000003', clientSecretEnv: 'MSP_GRAPH_SECRET' },
        teamsAppCatalogId: 'a1000003-0000-4000-8000-000000000003',
        customers: [],
      },
      {
        key: 'playground',
        name: 'Agents Playground',
        tenantId: PLAYGROUND.tenantId,
        graph: {
          clientId: 'c0000000-0000-4000-8000-000000000000',
          clientSecretEnv: 'PLAYGROUND_GRAPH_SECRET',
        },
        teamsAppCatalogId: 'a1000000-0000-4000-8000-000000000000',
        customers: [106],
      },
    ],
    defaultTenant: null,
  };
}

/** The environment the tenants file names its secrets in, filled from the Graph sandbox's credentials. */
export function sandboxTenantsSecrets(graph: Pick<GraphSandbox, 'credentials'>): Record<string, string> {
  return {
    CONTOSO_GRAPH_SECRET: graph.credentials('contoso').clientSecret,
    FABRIKAM_GRAPH_SECRET: graph.credentials('fabrikam').clientSecret,
    TAILSPIN_GRAPH_SECRET: graph.credentials('tailspin').clientSecret,
    MSP_GRAPH_SECRET: graph.credentials('msp').clientSecret,
    PLAYGROUND_GRAPH_SECRET: graph.credentials('playground').clientSecret,
    [SANDBOX_BOTS.contoso.passwordEnv]: SANDBOX_BOTS.contoso.password,
    [SANDBOX_BOTS.fabrikam.passwordEnv]: SANDBOX_BOTS.fabrikam.password,
    [SANDBOX_BOTS.tailspin.passwordEnv]: SANDBOX_BOTS.tailspin.password,
  };
}
