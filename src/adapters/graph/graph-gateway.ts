import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  GraphError as VendorGraphError,
} from '@microsoft/microsoft-graph-client';
import type { Log } from '../../ports/log.js';
import type { TenantRef } from '../../ports/user-directory.js';
import {
  CircuitOpenError,
  createOutsideSystemPolicy,
  type BreakerSettings,
  type CircuitReport,
} from '../resilience/outside-system-policy.js';
import { parseRetryAfter } from '../resilience/retry-after.js';
import { GraphError } from './graph-error.js';
import { createTenantTokenProvider, type GraphCredentialsSource } from './tenant-token-provider.js';
import { dispatcherTrusting } from './trusted-ca.js';

export interface GraphGatewayOptions {
  credentials: GraphCredentialsSource;
  /** Graph's versioned base URL, e.g. `https://graph.microsoft.com/v1.0` (GRAPH_BASE_URL). */
  baseUrl: string;
  /** e.g. `https://login.microsoftonline.com` (GRAPH_AUTHORITY_HOST). */
  authorityHost: string;
  /** msal-node authority metadata for a local token endpoint (GRAPH_AUTHORITY_METADATA). */
  authorityMetadata?: string;
  /** Extra CA certificates (PEM) to trust for Graph (GRAPH_CA_FILE). */
  caPem?: string;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** Attempts in all, first included (default 4). */
  maxAttempts?: number;
  /** A Retry-After longer than this is not waited for: the call fails as throttled (default 60 s). */
  maxRetryAfterSeconds?: number;
  /** Failed calls in a row that open Graph's circuit, and how long it stays open (default 5, 30 s). */
  breaker?: BreakerSettings;
  log: Log;
}

export const DEFAULT_GRAPH_BREAKER: BreakerSettings = { failures: 5, halfOpenAfterMs: 30_000 };

export interface GraphCall {
  method: 'GET' | 'POST';
  /** Resource path below the version, e.g. `/users`; path segments already encoded. */
  path: string;
  /** OData and other query options (`$filter`, `$select`…), encoded here. */
  query?: Record<string, string>;
  body?: unknown;
}

/** Authenticated, timed and retried Graph calls for any tenant TicketZero serves. */
export interface GraphGateway {
  readonly baseUrl: string;
  /** The response body; a coded GraphError when Graph answers with an error after retries. */
  call<T>(tenant: TenantRef, call: GraphCall): Promise<T>;
  /** Graph's circuit breaker (all tenants: one Graph), for readiness and metrics. */
  circuit(): CircuitReport;
}

const MICROSOFT_GRAPH_HOSTS = new Set([
  'graph.microsoft.com',
  'graph.microsoft.us',
  'dod-graph.microsoft.us',
  'microsoftgraph.chinacloudapi.cn',
]);

/**
 * Builds one `@microsoft/microsoft-graph-client` per tenant, authenticated by that tenant's msal-node app. The
 * client's own retry handler is left out (this gateway's policy retries 429/503/504 and dropped connections,
 * honouring Retry-After); a non-Microsoft host (sandbox, proxy) goes into `customHosts` so the token is attached.
 */
export function createGraphGateway(options: GraphGatewayOptions): GraphGateway {
  const base = new URL(options.baseUrl.replace(/\/+$/, ''));
  const lastSlash = base.pathname.lastIndexOf('/');
  const version = base.pathname.slice(lastSlash + 1) || 'v1.0';
  const root = `${base.origin}${base.pathname.slice(0, lastSlash)}`;
  const scope = MICROSOFT_GRAPH_HOSTS.has(base.hostname)
    ? `${base.origin}/.default`
    : 'https://graph.microsoft.com/.default';
  const tokens = createTenantTokenProvider({
    credentials: options.credentials,
    authorityHost: options.authorityHost,
    ...(options.authorityMetadata ? { authorityMetadata: options.authorityMetadata } : {}),
    scope,
    log: options.log,
  });
  const dispatcher = options.caPem ? dispatcherTrusting(options.caPem) : undefined;
  const clients = new Map<string, Client>();
  const policy = createOutsideSystemPolicy({
    system: 'graph',
    timeoutMs: options.timeoutMs ?? 10_000,
    retry: {
      maxAttempts: options.maxAttempts ?? 4,
      initialDelayMs: 500,
      maxDelayMs: 8000,
      maxRetryAfterMs: (options.maxRetryAfterSeconds ?? 60) * 1000,
    },
    breaker: options.breaker ?? DEFAULT_GRAPH_BREAKER,
    isTransient: (error) => error instanceof GraphError && isTransient(error),
    retryAfterMs: (error) => (error instanceof GraphError ? parseRetryAfter(error.retryAfter) : undefined),
    log: options.log,
  });

  function clientFor(tenant: TenantRef): Client {
    const existing = clients.get(tenant.key);
    if (existing) return existing;
    const authentication = new AuthenticationHandler({
      getAccessToken: () => tokens.accessToken(tenant),
    });
    authentication.setNext(new HTTPMessageHandler());
    const client = Client.initWithMiddleware({
      middleware: authentication,
      baseUrl: root,
      defaultVersion: version,
      ...(MICROSOFT_GRAPH_HOSTS.has(base.hostname) ? {} : { customHosts: new Set([base.hostname]) }),
      ...(dispatcher ? { fetchOptions: { dispatcher } as RequestInit } : {}),
    });
    clients.set(tenant.key, client);
    return client;
  }

  return {
    baseUrl: `${root}/${version}`,
    circuit: () => policy.circuit(),
    async call<T>(tenant: TenantRef, call: GraphCall): Promise<T> {
      const client = clientFor(tenant);
      const target = call.path + queryString(call.query);
      const attempt = async ({ signal }: { signal: AbortSignal }): Promise<T> => {
        // Outside the Graph client so a token failure keeps its own coded error (the client would flatten it);
        // the client's authentication handler then gets the same token from MSAL's cache.
        await tokens.accessToken(tenant);
        const request = client.api(target).option('signal', signal);
        try {
          const result: unknown =
            call.method === 'GET' ? await request.get() : await request.post(call.body ?? {});
          return result as T;
        } catch (error) {
          throw asGraphError(error, tenant, call, signal);
        }
      };
      try {
        return await policy.execute(attempt, {
          logFields: { tenant: tenant.key, method: call.method, path: call.path },
        });
      } catch (error) {
        if (!(error instanceof CircuitOpenError)) throw error;
        throw new GraphError(
          `Graph ${call.method} ${call.path} not sent: ${error.message}`,
          { status: null, path: call.path, graphCode: null, tenantKey: tenant.key },
          { cause: error },
        );
      }
    },
  };
}

function queryString(query: Record<string, string> | undefined): string {
  if (!query) return '';
  const parts = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

function isTransient(error: GraphError): boolean {
  return error.status === null || error.status === 429 || error.status === 503 || error.status === 504;
}

function asGraphError(error: unknown, tenant: TenantRef, call: GraphCall, signal: AbortSignal): GraphError {
  if (!(error instanceof VendorGraphError)) {
    return new GraphError(
      signal.aborted
        ? `Graph ${call.method} ${call.path} timed out`
        : `Graph ${call.method} ${call.path} failed`,
      { status: null, path: call.path, graphCode: null, tenantKey: tenant.key, retryAfter: null },
      { cause: error },
    );
  }
  const status = error.statusCode > 0 ? error.statusCode : null;
  return new GraphError(
    status === null
      ? `Graph ${call.method} ${call.path} ${signal.aborted ? 'timed out' : 'failed without an answer'}`
      : `Graph ${call.method} ${call.path} answered ${status}${error.code ? ` ${error.code}` : ''}`,
    {
      status,
      path: call.path,
      graphCode: error.code ?? null,
      tenantKey: tenant.key,
      retryAfter: error.headers?.get('retry-after') ?? null,
    },
    { cause: error },
  );
}
