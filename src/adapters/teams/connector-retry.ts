/**
 * Outbound calls to the Bot Framework connector, through the connector's resilience policy
 * (src/adapters/resilience): Teams throttles (429) and sometimes answers 412, 502 or 504; those are retried with
 * exponential backoff and jitter, waiting at least the answer's Retry-After, a bounded number of times, and a run of
 * such failures opens the connector's circuit. Each attempt has a timeout (never repeated: it may have landed).
 * Anything else, or the last failure, becomes a TeamsConnectorError carrying the status.
 */
import { TicketZeroError } from '../../errors.js';
import type { Log } from '../../ports/log.js';
import {
  CircuitOpenError,
  createOutsideSystemPolicy,
  type BreakerSettings,
  type CircuitReport,
} from '../resilience/outside-system-policy.js';
import { parseRetryAfter } from '../resilience/retry-after.js';
import { TeamsConnectorError } from './teams-errors.js';

const RETRIED_STATUSES = new Set([412, 429, 502, 504]);

export interface ConnectorRetrySettings {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Per attempt. */
  timeoutMs: number;
  /** No further attempt starts this long after the first one began (a Retry-After beyond it is not waited for). */
  budgetMs: number;
  /** Failed calls in a row (after their retries) that open the connector's circuit, and how long it stays open. */
  breaker: BreakerSettings;
}

export const DEFAULT_CONNECTOR_RETRY: ConnectorRetrySettings = {
  maxAttempts: 4,
  initialDelayMs: 250,
  maxDelayMs: 4000,
  timeoutMs: 30_000,
  budgetMs: 60_000,
  breaker: { failures: 5, halfOpenAfterMs: 30_000 },
};

/** The HTTP status of a connector error (botbuilder's RestError says `statusCode`, others `status`). */
export function connectorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { statusCode?: unknown; status?: unknown; response?: { status?: unknown } };
  for (const candidate of [e.statusCode, e.status, e.response?.status]) {
    if (typeof candidate === 'number') return candidate;
  }
  return undefined;
}

/** The Retry-After of a connector error's answer, in ms (core-rest-pipeline's headers, or a plain object). */
function connectorRetryAfterMs(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const headers = (error as { response?: { headers?: unknown } }).response?.headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const read = (headers as { get?: unknown }).get;
  const value =
    typeof read === 'function'
      ? (read as (name: string) => unknown).call(headers, 'retry-after')
      : ((headers as Record<string, unknown>)['retry-after'] ??
        (headers as Record<string, unknown>)['Retry-After']);
  return parseRetryAfter(value);
}

/**
 * The longest one connector call can take, retries included: the last attempt starts within the budget and runs
 * at most its timeout. Another instance waits this long before it sends a message this one may still be sending.
 */
export function connectorWorstCallMs(settings: ConnectorRetrySettings = DEFAULT_CONNECTOR_RETRY): number {
  return settings.budgetMs + settings.timeoutMs;
}

export interface ConnectorCall {
  <T>(operation: string, call: () => Promise<T>): Promise<T>;
  /** The connector's circuit breaker, for readiness and metrics. */
  circuit(): CircuitReport;
}

export function createConnectorCall(settings: ConnectorRetrySettings, log: Log): ConnectorCall {
  const policy = createOutsideSystemPolicy({
    system: 'teams_connector',
    timeoutMs: settings.timeoutMs,
    retry: {
      maxAttempts: settings.maxAttempts,
      initialDelayMs: settings.initialDelayMs,
      maxDelayMs: settings.maxDelayMs,
      budgetMs: settings.budgetMs,
    },
    breaker: settings.breaker,
    isTransient: (error) => {
      const status = connectorStatus(error);
      return status !== undefined && RETRIED_STATUSES.has(status);
    },
    retryAfterMs: connectorRetryAfterMs,
    log,
  });
  const connectorCall = async <T>(operation: string, call: () => Promise<T>): Promise<T> => {
    try {
      // botbuilder's calls take no AbortSignal: the attempt stops waiting when its time is up.
      return await policy.execute(
        ({ signal }) => untilAborted(call(), signal, operation, settings.timeoutMs),
        {
          logFields: { operation },
        },
      );
    } catch (error) {
      if (error instanceof TicketZeroError && !(error instanceof CircuitOpenError)) throw error;
      const status = connectorStatus(error);
      throw new TeamsConnectorError(
        error instanceof CircuitOpenError
          ? `connector call ${operation} not sent: ${error.message}`
          : `connector call ${operation} failed${status ? ` with ${status}` : ''}`,
        status,
        {
          cause: error,
        },
      );
    }
  };
  return Object.assign(connectorCall, { circuit: () => policy.circuit() });
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal, operation: string, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(new TeamsConnectorError(`connector call ${operation} timed out after ${ms} ms`, undefined));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
