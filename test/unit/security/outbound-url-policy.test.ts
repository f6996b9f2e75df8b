import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import { classifyOutboundUrl } from '../../../src/security/outbound-url-policy.js';

const minimal = {
  ATERA_API_KEY: 'sandbox-key-123',
  ATERA_TECHNICIAN_EMAIL: 'ticketzero@msp.example',
  LOCAL_AI_BASE_URL: 'https://models.msp.example/v1',
  GRAPH_TENANT_ID: '00000000-0000-0000-0000-000000000001',
  GRAPH_CLIENT_ID: 'client',
  GRAPH_CLIENT_SECRET: 'secret',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...minimal, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('outbound calls at start-up', () => {
  it('accept https everywhere and plain http to loopback (the sandboxes)', () => {
    expect(
      problemsOf({
        LOCAL_AI_BASE_URL: 'http://127.0.0.1:1234/v1',
        ATERA_BASE_URL: 'http://localhost:4010/api/v3',
        GRAPH_BASE_URL: 'http://[::1]:4020/v1.0',
        BOT_SERVICE_URL: 'http://127.0.0.1:56150/_connector',
        AZURE_OPENAI_ENDPOINT: 'https://contoso.openai.azure.com',
        AZURE_OPENAI_DEPLOYMENT: 'gpt-4o-mini',
        AZURE_OPENAI_API_KEY: 'azure-key-0000000',
      }),
    ).toEqual([]);
  });

  it.each([
    ['LOCAL_AI_BASE_URL', 'http://10.0.0.5:1234/v1'],
    ['ATERA_BASE_URL', 'http://atera.msp.example/api/v3'],
    ['GRAPH_BASE_URL', 'http://graph.microsoft.com/v1.0'],
    ['GRAPH_AUTHORITY_HOST', 'http://login.microsoftonline.com'],
    ['OPENAI_BASE_URL', 'http://proxy.msp.example/v1'],
    ['BOT_SERVICE_URL', 'http://smba.trafficmanager.net/teams'],
    ['BOT_OPENID_METADATA_URL', 'http://login.botframework.com/v1/.well-known/openidconfiguration'],
  ])('refuse plain http off loopback for %s, naming the setting', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: plain http is only allowed to a loopback host`));
  });

  it('refuse a plain-http Azure OpenAI endpoint, which carries the key', () => {
    const problems = problemsOf({
      AZURE_OPENAI_ENDPOINT: 'http://contoso.openai.azure.com',
      AZURE_OPENAI_DEPLOYMENT: 'gpt-4o-mini',
      AZURE_OPENAI_API_KEY: 'azure-key-0000000',
    });
    expect(problems).toEqual([expect.stringMatching(/^AZURE_OPENAI_ENDPOINT: .*Azure OpenAI key/)]);
  });

  it('refuse a plain-http token endpoint in the Graph authority metadata', () => {
    const metadata = JSON.stringify({
      token_endpoint: 'http://login.msp.example/{tenant}/oauth2/v2.0/token',
      issuer: 'https://login.msp.example/{tenant}/v2.0',
    });
    expect(problemsOf({ GRAPH_AUTHORITY_METADATA: metadata })).toEqual([
      expect.stringMatching(/^GRAPH_AUTHORITY_METADATA: plain http/),
    ]);
  });

  it('let the operator allow a LAN model server explicitly, and say how in the error', () => {
    const refused = problemsOf({ LOCAL_AI_BASE_URL: 'http://192.168.1.20:1234/v1' });
    expect(refused[0]).toContain('LOCAL_AI_ALLOW_INSECURE_HTTP=true');

    const config = loadConfig({
      ...minimal,
      LOCAL_AI_BASE_URL: 'http://192.168.1.20:1234/v1',
      LOCAL_AI_ALLOW_INSECURE_HTTP: 'true',
    });
    expect(config.ai.localBaseUrl).toBe('http://192.168.1.20:1234/v1');
    // The opt-out is for the model server only.
    expect(
      problemsOf({ LOCAL_AI_ALLOW_INSECURE_HTTP: 'true', OPENAI_BASE_URL: 'http://192.168.1.20:8080/v1' }),
    ).toHaveLength(1);
  });

  it('keep the Atera opt-out working as before', () => {
    expect(
      problemsOf({
        ATERA_BASE_URL: 'http://atera-test.msp.example/api/v3',
        ATERA_ALLOW_INSECURE_HTTP: 'true',
      }),
    ).toEqual([]);
  });

  it('list every insecure URL together with other problems', () => {
    const problems = problemsOf({
      LOCAL_AI_BASE_URL: 'http://10.0.0.5/v1',
      BOT_SERVICE_URL: 'http://teams.example/',
      CONVERSATION_MAX_ROUNDS: '0',
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['LOCAL_AI_BASE_URL', 'BOT_SERVICE_URL', 'CONVERSATION_MAX_ROUNDS']),
    );
  });
});

describe('an outbound URL', () => {
  it.each([
    ['https://graph.microsoft.com/v1.0', 'https'],
    ['http://127.0.0.1:3978', 'loopback_http'],
    ['http://127.8.9.10', 'loopback_http'],
    ['http://localhost:1234', 'loopback_http'],
    ['http://[::1]:80', 'loopback_http'],
    ['http://localhost.attacker.example', 'insecure'],
    ['http://127.0.0.1.nip.io', 'insecure'],
    ['http://0.0.0.0:80', 'insecure'],
    ['ftp://files.example', 'not_http'],
    ['not a url', 'not_http'],
  ])('%s is %s', (url, verdict) => {
    expect(classifyOutboundUrl(url)).toBe(verdict);
  });
});
