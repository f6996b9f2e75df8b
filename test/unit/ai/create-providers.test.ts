import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvidersFromConfig } from '../../../src/adapters/ai/create-providers.js';
import { loadConfig } from '../../../src/config/load-config.js';
import type { Log } from '../../../src/ports/log.js';
import { startModelSandbox, type ModelSandbox } from '../../../src/sandboxes/model/model-sandbox.js';

const base = {
  ATERA_API_KEY: 'sandbox-key-123',
  ATERA_TECHNICIAN_EMAIL: 'ticketzero@msp.example',
  GRAPH_TENANT_ID: '00000000-0000-0000-0000-000000000001',
  GRAPH_CLIENT_ID: 'client',
  GRAPH_CLIENT_SECRET: 'secret',
};

function capturingLog(lines: { level: string; fields: object; message: string }[]): Log {
  const log: Log = {
    debug: (fields, message) => lines.push({ level: 'debug', fields, message }),
    info: (fields, message) => lines.push({ level: 'info', fields, message }),
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
    error: (fields, message) => lines.push({ level: 'error', fields, message }),
    child: () => log,
  };
  return log;
}

let sandbox: ModelSandbox;
beforeAll(async () => {
  sandbox = await startModelSandbox({ apiKey: 'azure-key-abcdef' });
});
afterAll(async () => {
  await sandbox.close();
});

describe('providers from the settings', () => {
  it('builds local, Azure OpenAI and OpenAI in the default order and logs them without keys', () => {
    const config = loadConfig({
      ...base,
      LOCAL_AI_BASE_URL: 'http://127.0.0.1:1234/v1',
      AZURE_OPENAI_ENDPOINT: 'https://contoso-ai.openai.azure.com',
      AZURE_OPENAI_DEPLOYMENT: 'gpt-4o-mini',
      AZURE_OPENAI_API_KEY: 'azure-key-abcdef',
      OPENAI_API_KEY: 'sk-test-0123456789abcdefghij',
    });
    const lines: { level: string; fields: object; message: string }[] = [];
    const providers = createProvidersFromConfig(config.ai, capturingLog(lines));
    expect(providers.map((p) => p.name)).toEqual(['local', 'azure', 'openai']);
    const startup = lines.find((l) => l.message === 'AI providers active');
    expect(startup?.level).toBe('info');
    expect(startup?.fields).toMatchObject({
      providers: [
        { name: 'local', endpoint: 'http://127.0.0.1:1234/v1', model: 'local-model' },
        {
          name: 'azure',
          endpoint: 'https://contoso-ai.openai.azure.com',
          model: 'gpt-4o-mini (api 2024-10-21)',
        },
        { name: 'openai', endpoint: 'https://api.openai.com/v1', model: 'gpt-4o-mini' },
      ],
      notConfigured: [],
    });
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain('azure-key-abcdef');
    expect(logged).not.toContain('sk-test-0123456789');
    expect(logged).not.toContain('lm-studio');
  });

  it('follows AI_PROVIDER_ORDER and leaves out providers without settings', () => {
    const config = loadConfig({
      ...base,
      AI_PROVIDER_ORDER: 'openai,azure,local',
      OPENAI_API_KEY: 'sk-x',
      LOCAL_AI_BASE_URL: 'http://127.0.0.1:11434/v1',
    });
    const lines: { level: string; fields: object; message: string }[] = [];
    expect(createProvidersFromConfig(config.ai, capturingLog(lines)).map((p) => p.name)).toEqual([
      'openai',
      'local',
    ]);
    expect(lines[0]?.fields).toMatchObject({ notConfigured: ['azure'] });
  });

  it('gives an Azure OpenAI provider that answers from its deployment over HTTP', async () => {
    const config = loadConfig({
      ...base,
      AI_PROVIDER_ORDER: 'azure',
      AZURE_OPENAI_ENDPOINT: sandbox.azureEndpoint,
      AZURE_OPENAI_DEPLOYMENT: 'support-gpt',
      AZURE_OPENAI_API_KEY: 'azure-key-abcdef',
    });
    const [azure] = createProvidersFromConfig(config.ai, capturingLog([]));
    const result = await azure!.complete({
      messages: [{ role: 'user', content: '<user_message>\nVPN broken\n</user_message>' }],
    });
    expect(result).toMatchObject({ status: 'ok', provider: 'azure' });
    expect(sandbox.requests.at(-1)?.path).toBe(
      '/openai/deployments/support-gpt/chat/completions?api-version=2024-10-21',
    );
  });
});
