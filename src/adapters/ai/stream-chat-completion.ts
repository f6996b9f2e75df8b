/**
 * One chat completion through the `openai` client, streamed so a first-token timeout can cut off a provider
 * that accepts the connection but never answers. Every failure comes back as a ProviderFailure with a short
 * reason that never contains a key; nothing here throws for a provider's failure.
 *
 * Servers that reject `stream_options` (older Azure API versions, older vLLM) are asked again without it, and
 * servers that reject streaming altogether get the non-streaming request; the provider remembers either.
 */
import OpenAI from 'openai';
import type {
  CompletionRequest,
  ProviderFailureStatus,
  ProviderResult,
  TokenUsage,
} from '../../ports/model.js';
import type { Log } from '../../ports/log.js';

export interface StreamSettings {
  name: string;
  model: string;
  /** Time allowed to connect and receive the first piece of text. */
  firstTokenTimeoutMs: number;
  /** Time allowed for the whole answer. */
  totalTimeoutMs: number;
  temperature: number;
  /** What the server accepts; starts optimistic and is turned down when the server rejects a feature. */
  features: ServerFeatures;
  /** Strings that must never appear in a failure reason (the provider's key). */
  secrets: string[];
  log: Log;
}

export interface ServerFeatures {
  /** `stream: true`. */
  streaming: boolean;
  /** `stream_options.include_usage` (token counts in the stream). */
  streamUsage: boolean;
}

export function optimisticFeatures(): ServerFeatures {
  return { streaming: true, streamUsage: true };
}

export async function streamChatCompletion(
  client: OpenAI,
  settings: StreamSettings,
  request: CompletionRequest,
): Promise<ProviderResult> {
  for (;;) {
    const result = await completeOnce(client, settings, request);
    if (result !== 'ask_again') return result;
  }
}

/** Turns off a feature the server rejected with a 400; true when the request is worth asking again. */
function learnFromRejection(error: unknown, settings: StreamSettings): boolean {
  if (!(error instanceof OpenAI.APIError) || (error.status !== 400 && error.status !== 422)) return false;
  const message = `${firstLine(error.error) ?? ''} ${error.message}`;
  const { features } = settings;
  if (features.streamUsage && /stream_options|include_usage/i.test(message)) {
    features.streamUsage = false;
  } else if (features.streaming && /\bstream(ing)?\b/i.test(message)) {
    features.streaming = false;
  } else {
    return false;
  }
  settings.log.info({ provider: settings.name, ...features }, 'model provider feature turned off');
  return true;
}

async function completeOnce(
  client: OpenAI,
  settings: StreamSettings,
  request: CompletionRequest,
): Promise<ProviderResult | 'ask_again'> {
  const started = performance.now();
  const controller = new AbortController();
  let timedOut: 'first_token' | 'total' | null = null;
  const firstTokenTimer = setTimeout(() => {
    timedOut = 'first_token';
    controller.abort();
  }, settings.firstTokenTimeoutMs);
  const totalTimer = setTimeout(() => {
    timedOut = 'total';
    controller.abort();
  }, settings.totalTimeoutMs);
  const onCallerAbort = () => controller.abort();
  request.signal?.addEventListener('abort', onCallerAbort, { once: true });

  const fail = (status: ProviderFailureStatus, error: string): ProviderResult => ({
    status,
    provider: settings.name,
    error: scrub(error, settings.secrets),
  });

  const stoppedEarly = (): ProviderResult | null => {
    if (timedOut === 'first_token') {
      return fail('timeout', `no answer within ${settings.firstTokenTimeoutMs} ms (connect and first token)`);
    }
    if (timedOut === 'total')
      return fail('timeout', `answer not complete within ${settings.totalTimeoutMs} ms`);
    if (request.signal?.aborted) return fail('error', 'cancelled by the caller');
    return null;
  };

  let text = '';
  try {
    const body = {
      model: settings.model,
      messages: request.messages,
      temperature: settings.temperature,
      ...(request.maxTokens ? { max_tokens: request.maxTokens } : {}),
    };
    const callOptions = { signal: controller.signal, maxRetries: 0, timeout: settings.totalTimeoutMs };
    let finish: string | null = null;
    let usage: TokenUsage | null = null;
    let model = settings.model;

    if (!settings.features.streaming) {
      // No first token to wait for: only the total timeout applies.
      clearTimeout(firstTokenTimer);
      const completion = await client.chat.completions.create({ ...body, stream: false }, callOptions);
      const choice = Array.isArray(completion.choices) ? completion.choices[0] : undefined;
      text = typeof choice?.message?.content === 'string' ? choice.message.content : '';
      finish = choice?.finish_reason ?? null;
      if (typeof completion.model === 'string' && completion.model) model = completion.model;
      if (completion.usage) {
        usage = {
          promptTokens: completion.usage.prompt_tokens ?? 0,
          completionTokens: completion.usage.completion_tokens ?? 0,
        };
      }
      if (text) request.onText?.(text, { provider: settings.name, restart: false });
    } else {
      const stream = await client.chat.completions.create(
        {
          ...body,
          stream: true,
          ...(settings.features.streamUsage ? { stream_options: { include_usage: true } } : {}),
        },
        callOptions,
      );
      for await (const chunk of stream) {
        if (typeof chunk.model === 'string' && chunk.model) model = chunk.model;
        if (chunk.usage) {
          usage = {
            promptTokens: chunk.usage.prompt_tokens ?? 0,
            completionTokens: chunk.usage.completion_tokens ?? 0,
          };
        }
        const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
        if (!choice) continue;
        const piece = choice.delta?.content;
        if (typeof piece === 'string' && piece !== '') {
          if (text === '') clearTimeout(firstTokenTimer);
          text += piece;
          request.onText?.(piece, { provider: settings.name, restart: false });
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
    }

    // The client ends the stream quietly when it is aborted, so a timeout can show up here rather than as an error.
    const stopped = stoppedEarly();
    if (stopped) return stopped;
    if (!finish) return fail('invalid', 'the answer stream ended before the answer was complete');
    if (text.trim() === '') return fail('invalid', `empty answer (finish reason ${finish})`);
    return {
      status: 'ok',
      text,
      provider: settings.name,
      model,
      usage,
      latencyMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    const stopped = stoppedEarly();
    if (stopped) return stopped;
    if (learnFromRejection(error, settings)) return 'ask_again';
    const [status, reason] = classify(error);
    settings.log.debug({ provider: settings.name, status, errorName: errorName(error) }, 'model call failed');
    return fail(status, text ? `${reason} (after ${text.length} characters of answer)` : reason);
  } finally {
    clearTimeout(firstTokenTimer);
    clearTimeout(totalTimer);
    request.signal?.removeEventListener('abort', onCallerAbort);
  }
}

function classify(error: unknown): [ProviderFailureStatus, string] {
  if (error instanceof OpenAI.APIConnectionTimeoutError) return ['timeout', 'the request timed out'];
  if (error instanceof OpenAI.APIConnectionError)
    return ['unavailable', `connection failed: ${causeText(error)}`];
  if (error instanceof OpenAI.APIError) {
    const status = error.status;
    const detail = `HTTP ${status ?? '?'}${error.code ? ` ${String(error.code)}` : ''}: ${firstLine(error.error) ?? 'no detail'}`;
    if (status === 429) return ['rate_limited', detail];
    if (status === 408) return ['timeout', detail];
    if (status !== undefined && status >= 500) return ['unavailable', detail];
    if (status === undefined)
      return [
        'invalid',
        `the provider sent an error event in the stream: ${firstLine(error.error) ?? error.message}`,
      ];
    return ['error', detail];
  }
  if (error instanceof SyntaxError) return ['invalid', 'malformed answer (not valid JSON)'];
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (
      typeof code === 'string' ||
      /premature close|terminated|aborted|socket hang up|ECONNRESET/i.test(error.message)
    ) {
      return ['unavailable', `the connection dropped: ${typeof code === 'string' ? code : error.message}`];
    }
    return ['error', `${error.name}: ${error.message}`];
  }
  return ['error', String(error)];
}

function causeText(error: Error): string {
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error.message;
}

function firstLine(body: unknown): string | null {
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message.split('\n')[0]!.slice(0, 200) : null;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.constructor.name : typeof error;
}

const KEYLIKE =
  /\b(?:sk-[A-Za-z0-9_*-]{6,}|(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,})\b/g;

/** Removes the provider's key and anything shaped like a key from a failure reason. */
export function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out.replace(KEYLIKE, '[redacted]').slice(0, 300);
}
