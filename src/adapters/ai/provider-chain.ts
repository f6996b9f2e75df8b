/**
 * The model chain: tries providers in the configured order within one turn and fails over on any failure
 * (error, timeout, 429/5xx, empty or malformed answer). Each provider sits behind its own resilience policy
 * (src/adapters/resilience): after `breakerFailures` failures in a row it is skipped without a call for
 * `breakerCooldownMs`, then one probe call is let through (half-open) and a success closes the circuit again. The
 * policy does not retry (the chain fails over to the next provider instead) and sets no timeout of its own (each
 * provider times its stream: first token and total).
 */
import type { Log } from '../../ports/log.js';
import type {
  ChainResult,
  CompletionRequest,
  ModelChain,
  ModelProvider,
  ProviderFailure,
  ProviderResult,
} from '../../ports/model.js';
import {
  createProviderStatsRecorder,
  type ProviderStats,
  type ProviderStatsRecorder,
} from './provider-stats.js';
import {
  CircuitOpenError,
  createOutsideSystemPolicy,
  type OutsideSystemPolicy,
} from '../resilience/outside-system-policy.js';

export type { ProviderStats };

export interface ProviderChainOptions {
  providers: ModelProvider[];
  /** Consecutive failures that open a provider's circuit. */
  breakerFailures: number;
  /** How long an open circuit skips its provider before a probe call. */
  breakerCooldownMs: number;
  log: Log;
}

export interface ProviderChain extends ModelChain {
  stats(): ProviderStats[];
  /** True while the provider is skipped: circuit open and cooling down, or a probe call in flight. */
  isOpen(name: string): boolean;
  /** True when every provider is skipped, so a turn would get the fallback answer without waiting. */
  allOpen(): boolean;
}

interface Entry {
  provider: ModelProvider;
  policy: OutsideSystemPolicy;
  stats: ProviderStatsRecorder;
}

export function createProviderChain(options: ProviderChainOptions): ProviderChain {
  const { log } = options;
  const entries: Entry[] = options.providers.map((provider) => ({
    provider,
    policy: createOutsideSystemPolicy({
      system: `ai:${provider.name}`,
      retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 },
      breaker: { failures: options.breakerFailures, halfOpenAfterMs: options.breakerCooldownMs },
      // A provider returns its failures as a status; one that throws has failed too.
      isTransient: () => true,
      isFailedResult: (result) => (result as ProviderResult).status !== 'ok',
      log: log.child({ provider: provider.name }),
    }),
    stats: createProviderStatsRecorder(provider.name),
  }));

  const skipped = (entry: Entry): boolean => entry.policy.circuit().refusing;

  async function attempt(entry: Entry, request: CompletionRequest): Promise<ProviderResult> {
    const name = entry.provider.name;
    if (skipped(entry)) {
      return {
        status: 'circuit_open',
        provider: name,
        error: 'skipped: repeated failures opened its circuit',
      };
    }
    try {
      return await entry.policy.execute(() => {
        entry.stats.recordCall();
        return entry.provider.complete(request);
      });
    } catch (error) {
      if (error instanceof CircuitOpenError) {
        return {
          status: 'circuit_open',
          provider: name,
          error: 'skipped: repeated failures opened its circuit',
        };
      }
      // A provider must not throw; if one does, it is a failure like any other.
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return { status: 'error', provider: name, error: `provider threw: ${reason}`.slice(0, 300) };
    }
  }

  return {
    providers: entries.map((e) => e.provider.name),

    async complete(request: CompletionRequest): Promise<ChainResult> {
      const failures: ProviderFailure[] = [];
      let shownText = false;
      for (const entry of entries) {
        if (request.signal?.aborted) {
          failures.push({ status: 'error', provider: entry.provider.name, error: 'cancelled by the caller' });
          continue;
        }
        let restarted = false;
        const forward = request.onText;
        const onText: CompletionRequest['onText'] = forward
          ? (piece) => {
              const restart = shownText && !restarted;
              restarted = true;
              shownText = true;
              forward(piece, { provider: entry.provider.name, restart });
            }
          : undefined;

        const started = performance.now();
        const result = await attempt(entry, { ...request, onText });
        const ms = Math.round(performance.now() - started);
        if (result.status === 'ok') {
          entry.stats.recordSuccess(result.latencyMs, result.usage);
          log.info(
            {
              provider: result.provider,
              model: result.model,
              ms,
              promptTokens: result.usage?.promptTokens ?? null,
              completionTokens: result.usage?.completionTokens ?? null,
              failedBefore: failures.length,
            },
            'model answered',
          );
          return result;
        }
        entry.stats.recordFailure(result.status);
        failures.push(result);
        log.warn(
          { provider: result.provider, status: result.status, ms, reason: result.error },
          'model provider failed',
        );
      }
      log.error(
        { providers: failures.map((f) => `${f.provider}:${f.status}`) },
        'every model provider failed',
      );
      return { status: 'all_failed', failures };
    },

    stats: () => entries.map((e) => e.stats.snapshot()),
    isOpen: (name) => {
      const entry = entries.find((e) => e.provider.name === name);
      return entry ? skipped(entry) : false;
    },
    allOpen: () => entries.length > 0 && entries.every(skipped),
  };
}
