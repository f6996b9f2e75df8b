/**
 * One chat completion through the `openai` client, streamed so a first-token timeout can cut off a provider
 * that accepts the connection but never answers. Every failure comes back as a ProviderFailure with a short
 * reason that never contains a key; nothing here throws for a provider's failure.
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
  /** Ask for token usage in the stream (`stream_options.include_usage`); off for servers that reject it. */
  includeUsage: boolean;
  /** Strings that must never appear in a failure reason (the provider's key). */
  secrets: string[];
  log: Log;
}

export async function streamChatCompletion(
  client: OpenAI,
  settings: StreamSettings,
  request: CompletionRequest,
): Promise<ProviderResult> {
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
    const stream = await client.chat.completions.create(
      {
        model: settings.model,
        messages: request.messages,
        stream: true,
        temperature: settings.temperature,
        ...(request.maxTokens ? { max_tokens: request.maxTokens } : {}),
        ...(settings.includeUsage ? { stream_options: { include_usage: true } } : {}),
      },
      { signal: controller.signal, maxRetries: 0, timeout: settings.totalTimeoutMs },
    );

    let finish: string | null = null;
    let usage: TokenUsage | null = null;
    let model = settings.model;
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
