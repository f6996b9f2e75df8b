/**
 * Any server speaking the OpenAI chat-completions API: LM Studio (http://localhost:1234/v1), Ollama
 * (http://localhost:11434/v1), vLLM, llama.cpp's server, the model sandbox.
 */
import OpenAI from 'openai';
import type { Log } from '../../ports/log.js';
import type { ModelProvider } from '../../ports/model.js';
import { optimisticFeatures, streamChatCompletion } from './stream-chat-completion.js';

export interface OpenAICompatibleProviderOptions {
  name: string;
  /** Base URL ending in /v1. */
  baseUrl: string;
  /** Local servers usually accept any key; LM Studio's convention is "lm-studio". */
  apiKey: string;
  model: string;
  firstTokenTimeoutMs: number;
  totalTimeoutMs: number;
  temperature: number;
  /** Ask for token counts in the stream; default true (LM Studio, Ollama ≥ 0.5 and vLLM support it). */
  includeUsage?: boolean;
  log: Log;
}

export function createOpenAICompatibleProvider(options: OpenAICompatibleProviderOptions): ModelProvider {
  const client = new OpenAI({
    baseURL: options.baseUrl,
    apiKey: options.apiKey || 'none',
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: options.totalTimeoutMs,
  });
  const features = { ...optimisticFeatures(), streamUsage: options.includeUsage ?? true };
  return {
    name: options.name,
    complete: (request) =>
      streamChatCompletion(
        client,
        {
          name: options.name,
          model: options.model,
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
