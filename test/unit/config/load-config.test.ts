import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';

const minimal = {
  ATERA_API_KEY: 'sandbox-key-123',
  ATERA_TECHNICIAN_EMAIL: 'ticketzero@msp.example',
  LOCAL_AI_BASE_URL: 'http://127.0.0.1:1234/v1',
  GRAPH_TENANT_ID: '00000000-0000-0000-0000-000000000001',
  GRAPH_CLIENT_ID: 'client',
  GRAPH_CLIENT_SECRET: 'secret',
};

describe('settings', () => {
  it('start from the documented defaults when only the essentials are given', () => {
    const config = loadConfig(minimal);
    expect(config.atera.baseUrl).toBe('https://app.atera.com/api/v3');
    expect(config.atera.pollSeconds).toBe(15);
    expect(config.conversation.maxRounds).toBe(10);
    expect(config.conversation.maxMinutes).toBe(30);
    expect(config.ai.providerOrder).toEqual(['local', 'azure', 'openai']);
    expect(config.store.kind).toBe('lowdb');
    expect(Object.isFrozen(config.atera)).toBe(true);
  });

  it('report every missing or wrong setting at once, each by its variable name', () => {
    let error: unknown;
    try {
      loadConfig({
        ATERA_POLL_SECONDS: 'often',
        CONVERSATION_MAX_ROUNDS: '0',
        AI_PROVIDER_ORDER: 'local,watson',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of [
      'ATERA_API_KEY',
      'ATERA_POLL_SECONDS',
      'CONVERSATION_MAX_ROUNDS',
      'AI_PROVIDER_ORDER',
      'ATERA_TECHNICIAN_ID or ATERA_TECHNICIAN_EMAIL',
      'GRAPH_TENANT_ID or TENANTS_FILE',
    ]) {
      expect(problems).toContain(name);
    }
  });

  it('never echo a secret value in its error message', () => {
    expect(() => loadConfig({ ...minimal, ATERA_API_KEY: 'short' })).toThrow(ConfigError);
    try {
      loadConfig({ ...minimal, ATERA_API_KEY: 'short', ATERA_WEBHOOK_SECRET: 'tiny-secret' });
    } catch (e) {
      const text = (e as Error).message;
      expect(text).toContain('ATERA_API_KEY');
      expect(text).not.toContain('short');
      expect(text).not.toContain('tiny-secret');
    }
  });

  it('require the Azure OpenAI trio together', () => {
    expect(() => loadConfig({ ...minimal, AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com' })).toThrow(
      /AZURE_OPENAI_DEPLOYMENT[\s\S]*AZURE_OPENAI_API_KEY/,
    );
  });
});
