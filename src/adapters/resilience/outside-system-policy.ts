/**
 * The resilience policy of one outside system (Atera, Graph, the Bot Framework connector, each AI provider), built
 * once per adapter from its settings: cockatiel's circuit breaker around retry around a per-attempt timeout.
 *
 * - timeout: each attempt gets an AbortSignal that fires after `timeoutMs`; the attempt must settle when it fires
 *   (cooperative), so the adapter turns it into its own typed error.
 * - retry: failures the adapter calls transient are tried again with exponential backoff and equal jitter, waiting at
 *   least what the answer's Retry-After asked; bounded by attempts and, optionally, by a time budget for the call.
 * - breaker: `breaker.failures` calls in a row that still failed after their retries open the circuit; it then
 *   refuses calls (CircuitOpenError) for `breaker.halfOpenAfterMs`, lets one probe through, and closes on success.
 *
 * Readiness and metrics read the breaker through `circuit()`; nothing else keeps a copy of its state.
 */
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  IsolatedCircuitError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { TicketZeroError } from '../../errors.js';
import type { Log } from '../../ports/log.js';

export interface RetrySchedule {
  /** Attempts in all, the first included (1: no retry). */
  maxAttempts: number;
  /** The first wait; each further wait doubles, up to `maxDelayMs` (each between half and all of its step). */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Give up when the next wait would end more than this long after the call began (default: no budget). */
  budgetMs?: number;
  /** A Retry-After longer than this is not waited for: the call fails at once (default: no limit). */
  maxRetryAfterMs?: number;
}

export interface BreakerSettings {
  /** Calls in a row that failed (after their retries) with a transient failure before the circuit opens. */
  failures: number;
  /** How long an open circuit refuses calls before it lets one probe call through. */
  halfOpenAfterMs: number;
}

export interface OutsideSystemPolicyOptions {
  /** Names the system in logs, errors and metrics: `atera`, `graph`, `teams_connector`, `ai:<provider>`. */
  system: string;
  /** Per attempt; leave out when the calls time themselves (model providers' first-token and total timeouts). */
  timeoutMs?: number;
  retry: RetrySchedule;
  breaker: BreakerSettings;
  /** Failures that say the system is struggling (no answer, throttled, 5xx): retried and counted by the breaker. */
  isTransient(error: unknown): boolean;
  /** How long the failed answer asked us to wait (its Retry-After), if it did. */
  retryAfterMs?(error: unknown): number | undefined;
  /** Answers (not thrown errors) the breaker counts as failures: the model providers' status results. */
  isFailedResult?(result: unknown): boolean;
  log: Log;
  /** For jitter; tests may pin it. */
  random?: () => number;
}

export interface CallOptions {
  /** Whether this call may be sent again after this transient failure (a POST after a 5xx may not); default yes. */
  mayRepeat?: (error: unknown) => boolean;
  /** Each attempt passes this gate (a client-side rate limit) before its timeout starts. */
  gate?: <T>(attempt: () => Promise<T>) => Promise<T>;
  /** Fields for the `retried` log line (endpoint, tenant…). */
  logFields?: Record<string, unknown>;
}

export interface AttemptContext {
  /** Aborts when the attempt's time is up. */
  signal: AbortSignal;
  /** 1 for the first attempt. */
  attempt: number;
}

export type CircuitStatus = 'closed' | 'open' | 'half_open';

export interface CircuitReport {
  system: string;
  status: CircuitStatus;
  /** True while calls are refused without being tried: open and cooling down, held open, or a probe in flight. */
  refusing: boolean;
}

export interface OutsideSystemPolicy {
  readonly system: string;
  execute<T>(attempt: (context: AttemptContext) => Promise<T>, options?: CallOptions): Promise<T>;
  circuit(): CircuitReport;
}

/** The circuit of `system` is open: the call was refused without being tried. */
export class CircuitOpenError extends TicketZeroError {
  readonly code = 'circuit_open';

  constructor(
    readonly system: string,
    options?: ErrorOptions,
  ) {
    super(`${system} is not called for a while: repeated failures opened its circuit`, options);
  }
}

export function createOutsideSystemPolicy(options: OutsideSystemPolicyOptions): OutsideSystemPolicy {
  const { system, log } = options;
  const random = options.random ?? Math.random;
  const isFailedResult = options.isFailedResult ?? (() => false);
  const breaker: CircuitBreakerPolicy = circuitBreaker(
    handleWhen((error) => options.isTransient(error)).orWhenResult(isFailedResult),
    {
      halfOpenAfter: options.breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.breaker.failures),
    },
  );
  breaker.onBreak(() => log.warn({ system, cooldownMs: options.breaker.halfOpenAfterMs }, 'circuit opened'));
  breaker.onHalfOpen(() => log.info({ system }, 'circuit probe'));
  breaker.onReset(() => log.info({ system }, 'circuit closed'));
  const perAttempt =
    options.timeoutMs === undefined ? null : timeout(options.timeoutMs, TimeoutStrategy.Cooperative);

  /** Wait before the next attempt, or null to give up (not repeatable, Retry-After too long, budget spent). */
  function nextDelay(
    error: unknown,
    failedAttempts: number,
    startedAt: number,
    call: CallOptions,
  ): number | null {
    const schedule = options.retry;
    if (!options.isTransient(error)) return null;
    if (call.mayRepeat && !call.mayRepeat(error)) return null;
    const advised = options.retryAfterMs?.(error);
    if (
      advised !== undefined &&
      schedule.maxRetryAfterMs !== undefined &&
      advised > schedule.maxRetryAfterMs
    ) {
      return null;
    }
    const step = Math.min(schedule.maxDelayMs, schedule.initialDelayMs * 2 ** (failedAttempts - 1));
    const jittered = step / 2 + random() * (step / 2);
    const delay = Math.round(advised !== undefined ? Math.max(advised, jittered) : jittered);
    if (schedule.budgetMs !== undefined && Date.now() - startedAt + delay > schedule.budgetMs) return null;
    return delay;
  }

  function circuit(): CircuitReport {
    const state = breaker.state;
    if (state === CircuitState.Closed) return { system, status: 'closed', refusing: false };
    if (state === CircuitState.Open) {
      // cockatiel lets the next call probe once the cooldown has passed; its own record says when it opened.
      const { ownState } = breaker.toJSON() as { ownState?: { openedAt?: number } };
      const openedAt = ownState?.openedAt ?? 0;
      const cooling = Date.now() - openedAt < options.breaker.halfOpenAfterMs;
      return { system, status: cooling ? 'open' : 'half_open', refusing: cooling };
    }
    return { system, status: state === CircuitState.HalfOpen ? 'half_open' : 'open', refusing: true };
  }

  return {
    system,
    circuit,
    async execute<T>(attempt: (context: AttemptContext) => Promise<T>, call: CallOptions = {}): Promise<T> {
      const startedAt = Date.now();
      let failedAttempts = 0;
      let delayMs = 0;
      const retries = retry(
        handleWhen((error) => {
          failedAttempts += 1;
          const delay = nextDelay(error, failedAttempts, startedAt, call);
          if (delay === null) return false;
          delayMs = delay;
          return true;
        }),
        {
          maxAttempts: Math.max(0, options.retry.maxAttempts - 1),
          backoff: new DelegateBackoff(() => delayMs),
        },
      );
      retries.onRetry((reason) => {
        const error = 'error' in reason ? reason.error : undefined;
        log.warn(
          {
            system,
            ...call.logFields,
            attempt: reason.attempt,
            delayMs: reason.delay,
            status: statusOf(error),
          },
          'outside call retried',
        );
      });
      const once = (n: number): Promise<T> =>
        perAttempt
          ? perAttempt.execute(({ signal }) => attempt({ signal, attempt: n }))
          : attempt({ signal: new AbortController().signal, attempt: n });
      const gated = (n: number): Promise<T> => (call.gate ? call.gate(() => once(n)) : once(n));
      try {
        return await breaker.execute(() => retries.execute(({ attempt: n }) => gated(n + 1)));
      } catch (error) {
        if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) {
          throw new CircuitOpenError(system, { cause: error });
        }
        throw error;
      }
    },
  };
}

function statusOf(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : null;
}
