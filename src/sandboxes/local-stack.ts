/**
 * Starts the three service sandboxes (Atera, Graph, model) and, optionally, the Bot Framework connector sandbox,
 * and builds the environment that points TicketZero at them. Used by the local run, the demo, the end-to-end
 * tests, the benchmark and the crash harness: the bot itself runs its production code path, only the base URLs
 * differ.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAteraSandbox, type AteraSandbox } from './atera/atera-sandbox.js';
import {
  startConnectorSandbox,
  type ConnectorSandbox,
  type TeamsUser,
} from './connector/connector-sandbox.js';
import { startGraphSandbox, type GraphSandbox } from './graph/graph-sandbox.js';
import { PLAYGROUND, SANDBOX_TEAMS_APP_ID } from './graph/sandbox-directory.js';
import { startModelSandbox, type ModelSandbox } from './model/model-sandbox.js';
import { SANDBOX_BOTS, sandboxTenantsDocument, sandboxTenantsSecrets } from './sandbox-tenants.js';

export const SANDBOX_ATERA_KEY = 'sandbox-atera-api-key-0001';
export const CONTOSO_TENANT = { key: 'contoso', tenantId: '11111111-1111-4111-8111-111111111111' };
export const MSP_TENANT_ID = '33333333-3333-4333-8333-333333333333';
export const CONTOSO_BOT = {
  appId: 'b0000001-0000-4000-8000-000000000001',
  password: 'contoso-bot-password',
};
export const TECH_TEAM = {
  teamId: '19:technicians-team@thread.tacv2',
  channelId: '19:technicians@thread.tacv2',
};

/** Teams identities of sandbox users, matching the Graph sandbox's Entra ids. */
export const TEAMS_USERS = {
  megan: {
    id: '29:megan-bowen',
    aadObjectId: 'a7f3c2e1-5b6d-4c8e-9f01-23456789ab01',
    name: 'Megan Bowen',
    tenantId: CONTOSO_TENANT.tenantId,
    email: 'megan.bowen@contoso.example',
  },
  lukas: {
    id: '29:lukas-schmidt',
    aadObjectId: 'b2e4d6f8-1a3c-4e5f-8071-92a3b4c5d602',
    name: 'Lukas Schmidt',
    tenantId: CONTOSO_TENANT.tenantId,
    email: 'lukas.schmidt@contoso.example',
    locale: 'de-DE',
  },
  dana: {
    id: '29:dana-tech',
    aadObjectId: 'd0000301-0000-4000-8000-000000000301',
    name: 'Dana Tech',
    tenantId: MSP_TENANT_ID,
    email: 'dana.tech@msp.example',
  },
  sam: {
    id: '29:sam-support',
    aadObjectId: 'd0000302-0000-4000-8000-000000000302',
    name: 'Sam Support',
    tenantId: MSP_TENANT_ID,
    email: 'sam.support@msp.example',
  },
  riley: {
    id: '29:riley-sales',
    aadObjectId: 'd0000303-0000-4000-8000-000000000303',
    name: 'Riley Sales',
    tenantId: MSP_TENANT_ID,
    email: 'riley.sales@msp.example',
  },
  /** Fabrikam's tenant (Atera customer 103 in the multi-tenant stack). */
  adele: {
    id: '29:adele-vance',
    aadObjectId: '0a1b2c3d-6f81-43a4-b5c6-e7f8091a2b07',
    name: 'Adele Vance',
    tenantId: SANDBOX_BOTS.fabrikam.tenantId,
    email: 'adele.vance@fabrikam.example',
  },
} satisfies Record<string, TeamsUser>;

/** The MSP's technicians as TECHNICIANS_FILE lists them: Atera's technicians 7 and 8, with their Entra ids. */
export const SANDBOX_TECHNICIANS = [
  {
    name: 'Dana Tech',
    email: 'dana.tech@msp.example',
    ateraContactId: 7,
    aadObjectId: TEAMS_USERS.dana.aadObjectId,
  },
  {
    name: 'Sam Support',
    email: 'sam.support@msp.example',
    ateraContactId: 8,
    aadObjectId: TEAMS_USERS.sam.aadObjectId,
  },
];

/** Writes `technicians.json` (SANDBOX_TECHNICIANS) into `dataDir`; returns its path for TECHNICIANS_FILE. */
export function writeTechniciansFile(dataDir: string): string {
  const path = join(dataDir, 'technicians.json');
  writeFileSync(path, JSON.stringify(SANDBOX_TECHNICIANS, null, 2));
  return path;
}

export interface LocalStackOptions {
  /** Where the bot's data and the Graph sandbox's certificate go. */
  dataDir: string;
  /**
   * `sandbox`: our connector sandbox (tests, demo, bench); `{ serviceUrl }`: another connector, e.g. the Agents
   * Playground's at http://localhost:56150/_connector (local run).
   */
  connector: 'sandbox' | { serviceUrl: string };
  /** Configure a bot app id so every request is signed and checked (default true with the sandbox connector). */
  authenticated?: boolean;
  /** Talk to the Agents Playground's user and tenant instead of Contoso's. */
  playground?: boolean;
  /** The technicians' team and channel (sandbox connector only). */
  technicians?: boolean;
  /**
   * One MSP, many tenants (sandbox connector only, always authenticated): TENANTS_FILE maps Atera customers to the
   * Graph sandbox's tenants (src/sandboxes/sandbox-tenants.ts); Contoso, Fabrikam and Tailspin each have their own
   * bot registration installed in their tenant, and the MSP's bot (MICROSOFT_APP_ID) serves the rest.
   */
  multiTenant?: boolean;
  modelAnswerDelayMs?: number;
  ateraSeed?: boolean;
  ateraLatencyMs?: number;
  /** Fixed ports for a person running it by hand; 0 (any) by default. */
  ports?: { atera?: number; graph?: number; model?: number; connector?: number };
  host?: string;
}

export interface LocalStack {
  atera: AteraSandbox;
  graph: GraphSandbox;
  model: ModelSandbox;
  connector: ConnectorSandbox | null;
  /** Settings for TicketZero (merge with your own; PORT is left to the caller). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  mkdirSync(options.dataDir, { recursive: true });
  if (options.multiTenant && options.connector !== 'sandbox') {
    throw new Error('startLocalStack: multiTenant needs the sandbox connector');
  }
  const multiTenant = options.multiTenant === true;
  const authenticated = options.connector === 'sandbox' && (multiTenant || (options.authenticated ?? true));
  const [atera, graph, model] = await Promise.all([
    startAteraSandbox({
      apiKey: SANDBOX_ATERA_KEY,
      host,
      port: options.ports?.atera ?? 0,
      seed: options.ateraSeed ?? true,
      ...(options.ateraLatencyMs ? { latencyMs: options.ateraLatencyMs } : {}),
    }),
    startGraphSandbox({ host, port: options.ports?.graph ?? 0 }),
    startModelSandbox({
      host,
      port: options.ports?.model ?? 0,
      answerDelayMs: options.modelAnswerDelayMs ?? 0,
    }),
  ]);
  const connector =
    options.connector === 'sandbox'
      ? await startConnectorSandbox({
          host,
          port: options.ports?.connector ?? 0,
          ...(multiTenant
            ? {
                appId: SANDBOX_BOTS.msp.appId,
                appPassword: SANDBOX_BOTS.msp.password,
                apps: [SANDBOX_BOTS.contoso, SANDBOX_BOTS.fabrikam, SANDBOX_BOTS.tailspin].map((b) => ({
                  appId: b.appId,
                  appPassword: b.password,
                })),
                tenantApps: Object.fromEntries(
                  [SANDBOX_BOTS.contoso, SANDBOX_BOTS.fabrikam, SANDBOX_BOTS.tailspin].map((b) => [
                    b.tenantId,
                    b.appId,
                  ]),
                ),
              }
            : authenticated
              ? { appId: CONTOSO_BOT.appId, appPassword: CONTOSO_BOT.password }
              : { signingKey: null }),
          botName: 'TicketZero',
        })
      : null;
  if (connector) {
    for (const user of Object.values(TEAMS_USERS)) connector.addUser(user);
    if (options.technicians) {
      connector.addTeam({
        ...TECH_TEAM,
        name: 'MSP Technicians',
        channelName: 'Tickets',
        members: [TEAMS_USERS.dana, TEAMS_USERS.sam],
      });
    }
  }

  const env: Record<string, string> = {
    ...ateraSandboxEnv(atera),
    ...graphSandboxEnv(graph, options.dataDir, options.playground ? 'playground' : 'contoso'),
    ...modelSandboxEnv(model),
    DATA_DIR: options.dataDir,
    HOST: host,
  };
  if (connector) {
    env.BOT_SERVICE_URL = connector.url;
    if (authenticated) {
      Object.assign(env, {
        MICROSOFT_APP_ID: CONTOSO_BOT.appId,
        MICROSOFT_APP_PASSWORD: CONTOSO_BOT.password,
        MICROSOFT_APP_TENANT_ID: CONTOSO_TENANT.tenantId,
        BOT_OPENID_METADATA_URL: connector.openIdMetadataUrl,
        BOT_TOKEN_ISSUER: connector.issuer,
        BOT_LOGIN_URL: connector.loginUrl(CONTOSO_TENANT.tenantId),
      });
    }
    if (options.technicians) {
      Object.assign(env, {
        TECH_TEAM_ID: TECH_TEAM.teamId,
        TECH_CHANNEL_ID: TECH_TEAM.channelId,
      });
      env.TECHNICIANS_FILE = writeTechniciansFile(options.dataDir);
    }
  } else if (typeof options.connector === 'object') {
    env.BOT_SERVICE_URL = options.connector.serviceUrl;
  }
  if (multiTenant && connector) {
    const tenantsFile = join(options.dataDir, 'tenants.json');
    writeFileSync(tenantsFile, JSON.stringify(sandboxTenantsDocument(), null, 2));
    delete env.GRAPH_TENANT_ID;
    delete env.GRAPH_CLIENT_ID;
    delete env.GRAPH_CLIENT_SECRET;
    Object.assign(env, sandboxTenantsSecrets(graph), {
      TENANTS_FILE: tenantsFile,
      MICROSOFT_APP_ID: SANDBOX_BOTS.msp.appId,
      MICROSOFT_APP_PASSWORD: SANDBOX_BOTS.msp.password,
      MICROSOFT_APP_TENANT_ID: SANDBOX_BOTS.msp.tenantId,
      BOT_LOGIN_URL: connector.loginUrl(SANDBOX_BOTS.msp.tenantId),
    });
  }

  return {
    atera,
    graph,
    model,
    connector,
    env,
    async close() {
      await Promise.allSettled([atera.close(), graph.close(), model.close(), connector?.close()]);
    },
  };
}

/** Settings that point TicketZero at the Atera sandbox (as technician 9, the automation account). */
export function ateraSandboxEnv(atera: AteraSandbox): Record<string, string> {
  return {
    ATERA_BASE_URL: atera.baseUrl,
    ATERA_API_KEY: atera.apiKey,
    ATERA_TECHNICIAN_ID: '9',
    ATERA_TECHNICIAN_EMAIL: 'ticketzero@msp.example',
    ATERA_POLL_SECONDS: '1',
  };
}

/**
 * Settings that point TicketZero at the Graph sandbox as one of its tenants (`playground`: the Agents Playground's
 * user's; `contoso`); writes the sandbox's CA certificate into `dataDir`.
 */
export function graphSandboxEnv(
  graph: GraphSandbox,
  dataDir: string,
  tenantKey: 'playground' | 'contoso',
): Record<string, string> {
  const caFile = join(dataDir, 'graph-sandbox-ca.pem');
  writeFileSync(caFile, graph.caCertificatePem);
  const creds = graph.credentials(tenantKey);
  return {
    GRAPH_BASE_URL: graph.baseUrl,
    GRAPH_AUTHORITY_HOST: graph.authorityHost,
    GRAPH_AUTHORITY_METADATA: graph.authorityMetadata(),
    GRAPH_CA_FILE: caFile,
    GRAPH_TENANT_ID: creds.tenantId,
    GRAPH_CLIENT_ID: creds.clientId,
    GRAPH_CLIENT_SECRET: creds.clientSecret,
    TEAMS_APP_ID: SANDBOX_TEAMS_APP_ID,
  };
}

/** Settings that make the model sandbox TicketZero's only AI provider. */
export function modelSandboxEnv(model: ModelSandbox): Record<string, string> {
  return {
    LOCAL_AI_BASE_URL: model.baseUrl,
    LOCAL_AI_MODEL: 'ticketzero-sandbox',
    AI_PROVIDER_ORDER: 'local',
    AI_BREAKER_COOLDOWN_MS: '2000',
  };
}

export { PLAYGROUND };
