/**
 * Outbound calls to the Bot Framework connector: Teams throttles (429) and sometimes answers 412, 502 or 504;
 * those are retried with exponential backoff and jitter, a bounded number of times. Anything else, or the last
 * failure, becomes a TeamsConnectorError carrying the status.
 */
import { ExponentialBackoff, handleWhen, retry, type IPolicy } from 'cockatiel';
import { TicketZeroError } from '../../errors.js';
import type { Log } from '../../ports/log.js';
import { TeamsConnectorError } from './teams-errors.js';

const RETRIED_STATUSES = new Set([412, 429, 502, 504]);

export interface ConnectorRetrySettings {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_CONNECTOR_RETRY: ConnectorRetrySettings = {
  maxAttempts: 4,
  initialDelayMs: 250,
  maxDelayMs: 4000,
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

export type ConnectorCall = <T>(operation: string, call: () => Promise<T>) => Promise<T>;

export function createConnectorCall(settings: ConnectorRetrySettings, log: Log): ConnectorCall {
  const policy: IPolicy = retry(
    handleWhen((error) => {
      const status = connectorStatus(error);
      return status !== undefined && RETRIED_STATUSES.has(status);
    }),
    {
      maxAttempts: Math.max(0, settings.maxAttempts - 1),
      backoff: new ExponentialBackoff({
        initialDelay: settings.initialDelayMs,
        maxDelay: settings.maxDelayMs,
      }),
    },
  );
  return async (operation, call) => {
    let attempt = 0;
    try {
      return await policy.execute(() => {
        attempt += 1;
        if (attempt > 1) log.warn({ operation, attempt }, 'retrying connector call');
        return call();
      });
    } catch (error) {
      if (error instanceof TicketZeroError) throw error;
      const status = connectorStatus(error);
      throw new TeamsConnectorError(
        `connector call ${operation} failed${status ? ` with ${status}` : ''}`,
        status,
        {
          cause: error,
        },
      );
    }
  };
}
