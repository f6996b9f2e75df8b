/**
 * Typed access to the parts of Atera's REST API v3 TicketZero uses. One axios instance and one resilience policy
 * (timeout, retry honouring Retry-After, circuit breaker: src/adapters/resilience) per client; every attempt goes
 * through the client-side rate limit, and a failure is an AteraError naming the endpoint and status (never the key).
 */
import axios, { AxiosError, AxiosHeaders, type AxiosInstance, type AxiosResponse, type Method } from 'axios';
import type { Log } from '../../ports/log.js';
import { silentLog } from '../../ports/log.js';
import type {
  AteraActionResult,
  AteraAgentDto,
  AteraCommentDto,
  AteraContactDto,
  AteraCreateCommentDto,
  AteraCustomerDto,
  AteraPage,
  AteraTicketDto,
  AteraUpdateTicketDto,
} from './atera-dto.js';
import { isLoopbackHost } from '../../security/loopback-host.js';
import { AteraError, AteraInsecureUrlError } from './atera-error.js';
import {
  CircuitOpenError,
  createOutsideSystemPolicy,
  type BreakerSettings,
  type CircuitReport,
  type OutsideSystemPolicy,
} from '../resilience/outside-system-policy.js';
import { parseRetryAfter } from '../resilience/retry-after.js';
import { createAteraRateLimit, type AteraRateLimit } from './atera-rate-limit.js';
import { DEFAULT_RETRY, type RetrySettings } from './retry-policy.js';

export interface AteraClientOptions {
  /** e.g. https://app.atera.com/api/v3 */
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
  /** Client-side limit; Atera's is reported as 700 per minute. */
  requestsPerMinute?: number;
  /** Retry settings; pass NO_RETRY (or small delays) in tests. */
  retry?: RetrySettings;
  /** Failed requests in a row that open the circuit, and how long it stays open (default 5, 30 s). */
  breaker?: BreakerSettings;
  /** Plain http to a non-loopback host; refused unless true. */
  allowInsecureHttp?: boolean;
  userAgent?: string;
  log?: Log;
  /** For jitter; tests may pin it. */
  random?: () => number;
  /** Told about every HTTP attempt's answer (metrics, readiness); must not throw. */
  onResponse?: (info: AteraResponseInfo) => void;
}

export interface AteraResponseInfo {
  method: string;
  /** The path with ids templated, e.g. `/tickets/{id}/comments`. */
  endpoint: string;
  /** HTTP status; null when no answer came (timeout, connection refused). */
  status: number | null;
  ms: number;
}

/** `/tickets/123/comments` → `/tickets/{id}/comments`, so metrics labels stay few. */
export function templateAteraPath(path: string): string {
  return path.replace(/\/\d+(?=\/|$)/g, '/{id}');
}

/** Atera's maximum page size for most lists. */
export const MAX_ITEMS_IN_PAGE = 50;
const MAX_CONTACTS_IN_PAGE = 500;
/** A list longer than this many pages is treated as a paging fault rather than read forever. */
const MAX_PAGES = 1000;
const DEFAULT_USER_AGENT = 'TicketZero/0.1 (+https://github.com/ticketzero; Atera API v3 client)';

interface RequestSpec {
  method: Method;
  path: string;
  params?: Record<string, string | number | boolean | undefined>;
  data?: unknown;
  /** Safe to send again after an unclear failure (GET, PUT). POSTs are repeated only when surely not processed. */
  idempotent: boolean;
  /**
   * Writing or reading comments can wait: when the budget is short, the ticket feed, ticket reads and changes go
   * first, so a backlog of comments never holds up noticing new tickets.
   */
  deferrable?: boolean;
}

/** Atera's clock as its answer's `Date` header tells it (whole seconds), ISO 8601 UTC; null when absent or unreadable. */
function serverTimeOf(response: AxiosResponse): string | null {
  const raw: unknown = response.headers?.date;
  if (typeof raw !== 'string' || raw === '') return null;
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

export const DEFAULT_ATERA_BREAKER: BreakerSettings = { failures: 5, halfOpenAfterMs: 30_000 };

export class AteraClient {
  private readonly http: AxiosInstance;
  private readonly limiter: AteraRateLimit;
  private readonly policy: OutsideSystemPolicy;
  private readonly apiKey: string;
  private readonly onResponse: ((info: AteraResponseInfo) => void) | undefined;

  constructor(options: AteraClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      if (!(url.protocol === 'http:' && options.allowInsecureHttp)) {
        throw new AteraInsecureUrlError(
          `The Atera base URL must use https (plain http only to a loopback address), got ${url.protocol}//${url.host}`,
        );
      }
    }
    this.apiKey = options.apiKey;
    this.onResponse = options.onResponse;
    this.limiter = createAteraRateLimit(options.requestsPerMinute ?? 600);
    const retry = options.retry ?? DEFAULT_RETRY;
    this.policy = createOutsideSystemPolicy({
      system: 'atera',
      timeoutMs: options.timeoutMs ?? 15_000,
      retry: {
        maxAttempts: retry.maxRetries + 1,
        initialDelayMs: retry.baseDelayMs,
        maxDelayMs: retry.maxDelayMs,
        budgetMs: retry.budgetMs,
      },
      breaker: options.breaker ?? DEFAULT_ATERA_BREAKER,
      isTransient: (error) => error instanceof AteraError && error.retryable,
      retryAfterMs: (error) => (error instanceof AteraError ? error.retryAfterMs : undefined),
      log: options.log ?? silentLog,
      ...(options.random ? { random: options.random } : {}),
    });
    this.http = axios.create({
      baseURL: options.baseUrl.replace(/\/+$/, ''),
      headers: {
        'X-API-KEY': options.apiKey,
        'User-Agent': options.userAgent ?? DEFAULT_USER_AGENT,
        Accept: 'application/json',
      },
      maxRedirects: 0,
    });
  }

  /** The circuit breaker's state, for readiness and metrics. */
  circuit(): CircuitReport {
    return this.policy.circuit();
  }

  // Tickets -------------------------------------------------------------------------------------------------

  listTickets(
    query: { page?: number; itemsInPage?: number; ticketStatus?: string; customerId?: number } = {},
  ) {
    return this.request<AteraPage<AteraTicketDto>>({
      method: 'GET',
      path: '/tickets',
      params: { ...query, page: query.page ?? 1, itemsInPage: query.itemsInPage ?? MAX_ITEMS_IN_PAGE },
      idempotent: true,
    });
  }

  /**
   * Every ticket modified at or after `sinceIso` (by Atera's clock), all pages, each ticket once; and Atera's clock
   * when it answered the first page (its `Date` header), which bounds what the answer covers.
   */
  async listTicketsModifiedSince(
    sinceIso: string,
  ): Promise<{ tickets: AteraTicketDto[]; serverTime: string | null }> {
    const { items, serverTime } = await this.readPages<AteraTicketDto>(
      '/tickets/lastmodified',
      { date: sinceIso },
      MAX_ITEMS_IN_PAGE,
    );
    const byId = new Map<number, AteraTicketDto>();
    for (const t of items) byId.set(Number(t.TicketID), t);
    return { tickets: [...byId.values()], serverTime };
  }

  getTicket(ticketId: number): Promise<AteraTicketDto> {
    return this.request({ method: 'GET', path: `/tickets/${ticketId}`, idempotent: true });
  }

  updateTicket(ticketId: number, change: AteraUpdateTicketDto): Promise<AteraActionResult> {
    return this.request({ method: 'PUT', path: `/tickets/${ticketId}`, data: change, idempotent: true });
  }

  /** Deferrable like writing one: reading comments back or for the chat waits behind the ticket feed. */
  listComments(ticketId: number): Promise<AteraCommentDto[]> {
    return this.listAll<AteraCommentDto>(`/tickets/${ticketId}/comments`, {}, MAX_ITEMS_IN_PAGE, {
      deferrable: true,
    });
  }

  /** Not repeated after an unclear failure: Atera has no idempotency key (the caller reads back first). */
  addComment(ticketId: number, comment: AteraCreateCommentDto): Promise<AteraActionResult> {
    return this.request({
      method: 'POST',
      path: `/tickets/${ticketId}/comments`,
      data: comment,
      idempotent: false,
      deferrable: true,
    });
  }

  // Contacts, customers, agents ----------------------------------------------------------------------------

  findContactsByEmail(email: string): Promise<AteraContactDto[]> {
    return this.listAll<AteraContactDto>('/contacts', { 'searchOptions.email': email }, MAX_CONTACTS_IN_PAGE);
  }

  listCustomers(): Promise<AteraCustomerDto[]> {
    return this.listAll<AteraCustomerDto>('/customers', {});
  }

  getCustomer(customerId: number): Promise<AteraCustomerDto> {
    return this.request({ method: 'GET', path: `/customers/${customerId}`, idempotent: true });
  }

  /** RMM agents (devices), of one customer when given. */
  listAgents(customerId?: number): Promise<AteraAgentDto[]> {
    return this.listAll<AteraAgentDto>(
      customerId === undefined ? '/agents' : `/agents/customer/${customerId}`,
      {},
    );
  }

  // Plumbing ------------------------------------------------------------------------------------------------

  /** Reads every page of a list endpoint (paging envelope; `totalPages`, `totalItemCount` or `totalItems`). */
  async listAll<T>(
    path: string,
    params: Record<string, string | number | boolean | undefined>,
    itemsInPage = MAX_ITEMS_IN_PAGE,
    options: { deferrable?: boolean } = {},
  ): Promise<T[]> {
    return (await this.readPages<T>(path, params, itemsInPage, options)).items;
  }

  private async readPages<T>(
    path: string,
    params: Record<string, string | number | boolean | undefined>,
    itemsInPage: number,
    options: { deferrable?: boolean } = {},
  ): Promise<{ items: T[]; serverTime: string | null }> {
    const items: T[] = [];
    let serverTime: string | null = null;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const response = await this.exchange<AteraPage<T>>({
        method: 'GET',
        path,
        params: { ...params, page, itemsInPage },
        idempotent: true,
        ...(options.deferrable ? { deferrable: true } : {}),
      });
      if (page === 1) serverTime = serverTimeOf(response);
      const envelope = response.data;
      const pageItems = Array.isArray(envelope?.items) ? envelope.items : [];
      items.push(...pageItems);
      const size = envelope.itemsInPage ?? itemsInPage;
      const total = envelope.totalItemCount ?? envelope.totalItems;
      const more =
        typeof envelope.totalPages === 'number'
          ? page < envelope.totalPages
          : typeof total === 'number'
            ? page * size < total
            : pageItems.length >= size && pageItems.length > 0;
      if (!more || pageItems.length === 0) return { items, serverTime };
    }
    throw new AteraError(
      `Atera GET ${path} has more than ${MAX_PAGES} pages`,
      `GET ${path}`,
      undefined,
      false,
    );
  }

  private async request<T>(spec: RequestSpec): Promise<T> {
    return (await this.exchange<T>(spec)).data;
  }

  private async exchange<T>(spec: RequestSpec): Promise<AxiosResponse<T>> {
    const endpoint = `${spec.method.toUpperCase()} ${spec.path}`;
    const repeatable = new WeakSet<AteraError>();
    try {
      return await this.policy.execute<AxiosResponse<T>>(
        async ({ signal }) => {
          const attemptStarted = Date.now();
          try {
            const response = await this.http.request<T>({
              method: spec.method,
              url: spec.path,
              params: spec.params,
              data: spec.data,
              signal,
            });
            this.report(spec, response.status, attemptStarted);
            return response;
          } catch (cause) {
            this.report(
              spec,
              cause instanceof AxiosError ? (cause.response?.status ?? null) : null,
              attemptStarted,
            );
            const failure = this.describeFailure(cause, endpoint, spec.idempotent, signal);
            // A 429's Retry-After holds back every request of this client, not only this one.
            if (failure.error.retryAfterMs !== undefined) this.limiter.pauseFor(failure.error.retryAfterMs);
            if (failure.repeatable) repeatable.add(failure.error);
            throw failure.error;
          }
        },
        {
          gate: (attempt) => this.limiter.schedule(attempt, { deferrable: spec.deferrable === true }),
          mayRepeat: (error) => error instanceof AteraError && repeatable.has(error),
          logFields: { endpoint },
        },
      );
    } catch (error) {
      if (error instanceof CircuitOpenError) {
        throw new AteraError(`Atera ${endpoint} not sent: ${error.message}`, endpoint, undefined, true, {
          cause: error,
        });
      }
      throw error;
    }
  }

  private report(spec: RequestSpec, status: number | null, startedAt: number): void {
    this.onResponse?.({
      method: spec.method.toUpperCase(),
      endpoint: templateAteraPath(spec.path),
      status,
      ms: Date.now() - startedAt,
    });
  }

  private describeFailure(
    cause: unknown,
    endpoint: string,
    idempotent: boolean,
    signal: AbortSignal,
  ): { error: AteraError; repeatable: boolean } {
    if (!(cause instanceof AxiosError)) {
      const message = cause instanceof Error ? cause.message : String(cause);
      return {
        error: new AteraError(
          `Atera ${endpoint} failed: ${this.scrub(message)}`,
          endpoint,
          undefined,
          false,
          {
            cause,
          },
        ),
        repeatable: false,
      };
    }
    const sanitized = this.sanitize(cause);
    const status = cause.response?.status;
    if (status !== undefined) {
      const retryAfterMs =
        status === 429 ? parseRetryAfter(cause.response?.headers['retry-after']) : undefined;
      const retryable = status === 429 || status >= 500;
      const hint =
        status === 401 || status === 403
          ? ': the API key was refused (check ATERA_API_KEY)'
          : status === 429
            ? ': rate limited'
            : '';
      return {
        error: new AteraError(`Atera ${endpoint} answered ${status}${hint}`, endpoint, status, retryable, {
          cause: sanitized,
          retryAfterMs,
        }),
        // A 429 is refused before processing, so even a POST can be sent again; a 5xx POST may have been stored.
        repeatable: status === 429 || (retryable && idempotent),
      };
    }
    // The policy's per-attempt timeout aborts the request: axios reports a cancellation.
    const code = signal.aborted ? 'ECONNABORTED' : (cause.code ?? 'network error');
    const neverSent = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
    return {
      error: new AteraError(
        `Atera ${endpoint} failed without an answer (${code})`,
        endpoint,
        undefined,
        true,
        {
          cause: sanitized,
        },
      ),
      repeatable: idempotent || neverSent,
    };
  }

  /** The AxiosError kept as cause, without the API key in its config or the raw request it holds. */
  private sanitize(error: AxiosError): AxiosError {
    const headers = error.config?.headers;
    if (headers instanceof AxiosHeaders) headers.set('X-API-KEY', '[redacted]');
    else if (headers) (headers as Record<string, unknown>)['X-API-KEY'] = '[redacted]';
    error.request = undefined;
    if (error.response) error.response.request = undefined;
    error.message = this.scrub(error.message);
    return error;
  }

  private scrub(message: string): string {
    return this.apiKey ? message.split(this.apiKey).join('[redacted]') : message;
  }
}
