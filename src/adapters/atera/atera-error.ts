import { TicketZeroError } from '../../errors.js';

/**
 * An Atera request that failed: carries the endpoint (method and path, never the query or the API key) and the
 * HTTP status when there was an answer. `retryable` says whether trying again later can help (429, 5xx, network).
 */
export class AteraError extends TicketZeroError {
  readonly code = 'atera_request_failed';

  constructor(
    message: string,
    readonly endpoint: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    options?: ErrorOptions & { retryAfterMs?: number },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }

  /** From a 429's Retry-After header, when it had one. */
  readonly retryAfterMs: number | undefined;
}

/** The Atera base URL is plain http to a host that is not loopback (refused unless explicitly allowed). */
export class AteraInsecureUrlError extends TicketZeroError {
  readonly code = 'atera_insecure_url';
}
