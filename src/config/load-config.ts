import { ConfigError } from '../errors.js';
import { outboundUrlProblems, outboundUrlsOf } from '../security/outbound-url-policy.js';
import { parseSection, type Env, type SectionSpec, type SectionValue } from './setting.js';
import { aiSection } from './sections/ai.js';
import { ateraSection } from './sections/atera.js';
import { botSection } from './sections/bot.js';
import { conversationSection } from './sections/conversation.js';
import { graphSection } from './sections/graph.js';
import { httpSection } from './sections/http.js';
import { opsSection } from './sections/ops.js';
import { securitySection } from './sections/security.js';
import { storeSection } from './sections/store.js';
import { techniciansSection } from './sections/technicians.js';

const sections = {
  http: httpSection,
  bot: botSection,
  atera: ateraSection,
  graph: graphSection,
  ai: aiSection,
  conversation: conversationSection,
  store: storeSection,
  technicians: techniciansSection,
  security: securitySection,
  ops: opsSection,
} satisfies Record<string, SectionSpec>;

export type Config = { readonly [K in keyof typeof sections]: Readonly<SectionValue<(typeof sections)[K]>> };

/** Every setting's variable name (documented one by one in .env.example). */
export const ALL_SETTINGS: readonly string[] = Object.values(sections).flatMap((spec) =>
  Object.values(spec as SectionSpec).map((s) => s.env),
);

/** Names of every variable holding a secret, so logs and error messages can leave them out. */
export const SECRET_SETTINGS: readonly string[] = Object.values(sections).flatMap((spec) =>
  Object.values(spec as SectionSpec)
    .filter((s) => s.secret)
    .map((s) => s.env),
);

/**
 * Parses and validates every setting once. Throws ConfigError listing every problem, each with its variable name.
 * Nothing else in TicketZero reads the environment.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const parsed = Object.fromEntries(
    Object.entries(sections).map(([name, spec]) => [name, parseSection(spec as SectionSpec, env, problems)]),
  ) as { -readonly [K in keyof Config]: SectionValue<(typeof sections)[K]> };

  crossCheck(parsed, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  for (const value of Object.values(parsed)) Object.freeze(value);
  return Object.freeze(parsed);
}

function crossCheck(
  c: { -readonly [K in keyof Config]: SectionValue<(typeof sections)[K]> },
  problems: string[],
): void {
  if (c.bot.appId && !c.bot.appPassword) {
    problems.push('MICROSOFT_APP_PASSWORD: required when MICROSOFT_APP_ID is set');
  }
  if (c.bot.appId && c.bot.appType === 'SingleTenant' && !c.bot.appTenantId) {
    problems.push('MICROSOFT_APP_TENANT_ID: required for a SingleTenant bot');
  }
  if (c.store.kind === 'postgres' && !c.store.databaseUrl) {
    problems.push('DATABASE_URL: required when STORE=postgres');
  }
  if (!c.atera.technicianId && !c.atera.technicianEmail) {
    problems.push(
      'ATERA_TECHNICIAN_ID or ATERA_TECHNICIAN_EMAIL: one is required (the technician TicketZero writes as)',
    );
  }
  const configured = new Set<string>();
  if (c.ai.localBaseUrl) configured.add('local');
  if (c.ai.azureEndpoint || c.ai.azureDeployment || c.ai.azureApiKey) {
    if (!c.ai.azureEndpoint) problems.push('AZURE_OPENAI_ENDPOINT: required when Azure OpenAI is configured');
    if (!c.ai.azureDeployment)
      problems.push('AZURE_OPENAI_DEPLOYMENT: required when Azure OpenAI is configured');
    if (!c.ai.azureApiKey) problems.push('AZURE_OPENAI_API_KEY: required when Azure OpenAI is configured');
    configured.add('azure');
  }
  if (c.ai.openaiApiKey) configured.add('openai');
  if (!(c.ai.providerOrder ?? []).some((p) => configured.has(p))) {
    problems.push(
      'AI_PROVIDER_ORDER: no provider in the order is configured (set LOCAL_AI_BASE_URL, AZURE_OPENAI_* or OPENAI_API_KEY)',
    );
  }
  if (!c.graph.tenantsFile && !c.graph.tenantId) {
    problems.push(
      'GRAPH_TENANT_ID or TENANTS_FILE: one is required (which Microsoft 365 tenant serves the tickets)',
    );
  }
  if (c.graph.tenantId && (!c.graph.clientId || !c.graph.clientSecret)) {
    problems.push('GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET: required with GRAPH_TENANT_ID');
  }
  // Outbound calls over HTTPS only (loopback and explicit opt-outs excepted): src/security/outbound-url-policy.ts.
  problems.push(...outboundUrlProblems(outboundUrlsOf(c)));
}
