/**
 * Outbound calls go over HTTPS only: every URL TicketZero calls with a key, a secret or a user's words is checked
 * once, when the settings are parsed. Plain http is accepted on a loopback host (the sandboxes, a model server on
 * the same machine) and, for the local model server and Atera, where the operator opted out explicitly
 * (LOCAL_AI_ALLOW_INSECURE_HTTP for a model server on the LAN, ATERA_ALLOW_INSECURE_HTTP for a test Atera).
 */
import { isLoopbackHost } from './loopback-host.js';

export type UrlVerdict = 'https' | 'loopback_http' | 'insecure' | 'not_http';

export function classifyOutboundUrl(value: string): UrlVerdict {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not_http';
  }
  if (url.protocol === 'https:') return 'https';
  if (url.protocol !== 'http:') return 'not_http';
  return isLoopbackHost(url.hostname) ? 'loopback_http' : 'insecure';
}

/** One outbound URL setting: the variable, its value, and the opt-out that allows plain http to any host. */
export interface OutboundUrl {
  env: string;
  value: string | undefined;
  /** What the call carries, for the error message ("the Atera API key"). */
  carries: string;
  insecureAllowedBy?: { env: string; allowed: boolean };
}

/** Problems in the shape ConfigError lists them: `VARIABLE: what is wrong and how to fix it`. */
export function outboundUrlProblems(urls: readonly OutboundUrl[]): string[] {
  const problems: string[] = [];
  for (const u of urls) {
    if (u.value === undefined) continue;
    const verdict = classifyOutboundUrl(u.value);
    if (verdict === 'https' || verdict === 'loopback_http') continue;
    if (verdict === 'insecure' && u.insecureAllowedBy?.allowed) continue;
    const optOut = u.insecureAllowedBy ? ` or set ${u.insecureAllowedBy.env}=true` : '';
    problems.push(
      verdict === 'not_http'
        ? `${u.env}: expected an https URL`
        : `${u.env}: plain http is only allowed to a loopback host (the call carries ${u.carries}); use https${optOut}`,
    );
  }
  return problems;
}

/** The slices of the settings that name outbound URLs (structural, so config and tests can pass their own). */
export interface OutboundSettings {
  atera: { baseUrl: string; allowInsecureHttp: boolean };
  graph: { baseUrl: string; authorityHost: string; authorityMetadata?: string | undefined };
  ai: {
    localBaseUrl?: string | undefined;
    azureEndpoint?: string | undefined;
    openaiBaseUrl?: string | undefined;
  };
  bot: {
    serviceUrl: string;
    openIdMetadataUrl?: string | undefined;
    loginUrl?: string | undefined;
  };
  security: { localAiAllowInsecureHttp: boolean };
}

/** Every outbound URL in the settings, with what it carries. */
export function outboundUrlsOf(s: OutboundSettings): OutboundUrl[] {
  const tokenEndpoint = tokenEndpointOf(s.graph.authorityMetadata);
  return [
    {
      env: 'ATERA_BASE_URL',
      value: s.atera.baseUrl,
      carries: 'the Atera API key',
      insecureAllowedBy: { env: 'ATERA_ALLOW_INSECURE_HTTP', allowed: s.atera.allowInsecureHttp },
    },
    { env: 'GRAPH_BASE_URL', value: s.graph.baseUrl, carries: 'Graph access tokens' },
    { env: 'GRAPH_AUTHORITY_HOST', value: s.graph.authorityHost, carries: 'the Graph client secret' },
    { env: 'GRAPH_AUTHORITY_METADATA', value: tokenEndpoint, carries: 'the Graph client secret' },
    {
      env: 'LOCAL_AI_BASE_URL',
      value: s.ai.localBaseUrl,
      carries: 'users’ messages',
      insecureAllowedBy: {
        env: 'LOCAL_AI_ALLOW_INSECURE_HTTP',
        allowed: s.security.localAiAllowInsecureHttp,
      },
    },
    { env: 'AZURE_OPENAI_ENDPOINT', value: s.ai.azureEndpoint, carries: 'the Azure OpenAI key' },
    { env: 'OPENAI_BASE_URL', value: s.ai.openaiBaseUrl, carries: 'the OpenAI key' },
    { env: 'BOT_SERVICE_URL', value: s.bot.serviceUrl, carries: 'the bot’s access token' },
    {
      env: 'BOT_OPENID_METADATA_URL',
      value: s.bot.openIdMetadataUrl,
      carries: 'the keys inbound requests are checked with',
    },
    { env: 'BOT_LOGIN_URL', value: s.bot.loginUrl, carries: 'the bot’s app secret' },
  ];
}

function tokenEndpointOf(metadata: string | undefined): string | undefined {
  if (!metadata) return undefined;
  try {
    const parsed = JSON.parse(metadata) as { token_endpoint?: unknown };
    return typeof parsed.token_endpoint === 'string' ? parsed.token_endpoint : undefined;
  } catch {
    return undefined;
  }
}
