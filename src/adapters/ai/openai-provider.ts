/**
 * OpenAI's own API (api.openai.com), with an API key and a model name.
 */
import type { Log } from '../../ports/log.js';
import type { ModelProvider } from '../../ports/model.js';
import { createOpenAICompatibleProvider } from './openai-compatible-provider.js';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAIProviderOptions {
  name?: string;
  apiKey: string;
  model: string;
  /** Only to point at a proxy or a sandbox; api.openai.com otherwise. */
  baseUrl?: string;
  firstTokenTimeoutMs: number;
  totalTimeoutMs: number;
  temperature: number;
  log: Log;
}

export function createOpenAIProvider(options: OpenAIProviderOptions): ModelProvider {
  return createOpenAICompatibleProvider({
    name: options.name ?? 'openai',
    baseUrl: options.baseUrl ?? OPENAI_BASE_URL,
    apiKey: options.apiKey,
    model: options.model,
    firstTokenTimeoutMs: options.firstTokenTimeoutMs,
    totalTimeoutMs: options.totalTimeoutMs,
    temperature: options.temperature,
    includeUsage: true,
    log: options.log,
  });
}
