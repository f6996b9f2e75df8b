/**
 * Azure OpenAI: a deployment on an Azure OpenAI resource, called with the `api-key` header and an API version.
 */
import { AzureOpenAI } from 'openai';
import type { Log } from '../../ports/log.js';
import type { ModelProvider } from '../../ports/model.js';
import { optimisticFeatures, streamChatCompletion } from './stream-chat-completion.js';

export interface AzureOpenAIProviderOptions {
  name?: string;
  /** e.g. https://contoso-ai.openai.azure.com */
  endpoint: string;
  deployment: string;
  /** e.g. 2024-10-21 */
  apiVersion: string;
  apiKey: string;
  firstTokenTimeoutMs: number;
  totalTimeoutMs: number;
  temperature: number;
  log: Log;
}

export function createAzureOpenAIProvider(options: AzureOpenAIProviderOptions): ModelProvider {
  const name = options.name ?? 'azure';
  // The base URL is given in full so the client never falls back to OPENAI_BASE_URL / AZURE_OPENAI_ENDPOINT
  // from the environment: settings come only from TicketZero's config.
  const client = new AzureOpenAI({
    baseURL: `${options.endpoint.replace(/\/+$/, '')}/openai/deployments/${encodeURIComponent(options.deployment)}`,
    apiKey: options.apiKey,
    apiVersion: options.apiVersion,
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: options.totalTimeoutMs,
  });
  const features = optimisticFeatures();
  return {
    name,
    complete: (request) =>
      streamChatCompletion(
        client,
        {
          name,
          model: options.deployment,
          firstTokenTimeoutMs: options.firstTokenTimeoutMs,
          totalTimeoutMs: options.totalTimeoutMs,
          temperature: options.temperature,
          features,
          secrets: [options.apiKey],
          log: options.log,
        },
        request,
      ),
  };
}
