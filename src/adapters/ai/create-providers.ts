/**
 * Builds the model providers from the `ai` settings, in the configured order. A provider without settings is
 * left out; the active ones are logged at start-up (names, endpoints and models, never keys).
 */
import type { Config } from '../../config/load-config.js';
import type { Log } from '../../ports/log.js';
import type { ModelProvider } from '../../ports/model.js';
import { createAzureOpenAIProvider } from './azure-openai-provider.js';
import { createOpenAICompatibleProvider } from './openai-compatible-provider.js';
import { OPENAI_BASE_URL, createOpenAIProvider } from './openai-provider.js';

export function createProvidersFromConfig(ai: Config['ai'], log: Log): ModelProvider[] {
  const timing = {
    firstTokenTimeoutMs: ai.firstTokenTimeoutMs,
    totalTimeoutMs: ai.totalTimeoutMs,
    temperature: ai.temperature,
  };
  const providers: ModelProvider[] = [];
  const active: { name: string; endpoint: string; model: string }[] = [];
  const seen = new Set<string>();

  for (const kind of ai.providerOrder) {
    if (seen.has(kind)) continue;
    seen.add(kind);
    const providerLog = log.child({ provider: kind });
    if (kind === 'local' && ai.localBaseUrl) {
      providers.push(
        createOpenAICompatibleProvider({
          name: 'local',
          baseUrl: ai.localBaseUrl,
          apiKey: ai.localApiKey,
          model: ai.localModel,
          ...timing,
          log: providerLog,
        }),
      );
      active.push({ name: 'local', endpoint: ai.localBaseUrl, model: ai.localModel });
    } else if (kind === 'azure' && ai.azureEndpoint && ai.azureDeployment && ai.azureApiKey) {
      providers.push(
        createAzureOpenAIProvider({
          name: 'azure',
          endpoint: ai.azureEndpoint,
          deployment: ai.azureDeployment,
          apiVersion: ai.azureApiVersion,
          apiKey: ai.azureApiKey,
          ...timing,
          log: providerLog,
        }),
      );
      active.push({
        name: 'azure',
        endpoint: ai.azureEndpoint,
        model: `${ai.azureDeployment} (api ${ai.azureApiVersion})`,
      });
    } else if (kind === 'openai' && ai.openaiApiKey) {
      providers.push(
        createOpenAIProvider({
          name: 'openai',
          apiKey: ai.openaiApiKey,
          model: ai.openaiModel,
          ...(ai.openaiBaseUrl ? { baseUrl: ai.openaiBaseUrl } : {}),
          ...timing,
          log: providerLog,
        }),
      );
      active.push({ name: 'openai', endpoint: ai.openaiBaseUrl ?? OPENAI_BASE_URL, model: ai.openaiModel });
    }
  }

  const left = ['local', 'azure', 'openai'].filter((k) => !active.some((a) => a.name === k));
  log.info(
    {
      providers: active,
      notConfigured: left,
      firstTokenTimeoutMs: ai.firstTokenTimeoutMs,
      totalTimeoutMs: ai.totalTimeoutMs,
    },
    'AI providers active',
  );
  return providers;
}
