import type { Log } from '../../ports/log.js';
import { createGraphGateway, DEFAULT_GRAPH_BREAKER, type GraphGateway } from './graph-gateway.js';
import type { GraphCredentialsSource } from './tenant-token-provider.js';

/** The graph config section's shape (GRAPH_BASE_URL, GRAPH_AUTHORITY_*, GRAPH_CA_FILE, GRAPH_TIMEOUT_MS, GRAPH_BREAKER_*). */
export interface GraphConnectionSettings {
  baseUrl: string;
  authorityHost: string;
  authorityMetadata?: string | undefined;
  caPem?: string | undefined;
  timeoutMs?: number | undefined;
  breakerFailures?: number | undefined;
  breakerCooldownMs?: number | undefined;
}

export interface GraphAdapterOptions {
  tenants: GraphCredentialsSource;
  graph: GraphConnectionSettings;
  log: Log;
  /** Share one gateway explicitly; otherwise adapters given the same tenants and settings objects share one. */
  gateway?: GraphGateway;
}

const gateways = new WeakMap<object, WeakMap<object, GraphGateway>>();

/**
 * The gateway for these tenants and settings. The user directory and the app installer built from the same objects
 * share it, so each tenant has one msal-node app and one cached token.
 */
export function gatewayFor(options: GraphAdapterOptions): GraphGateway {
  if (options.gateway) return options.gateway;
  let bySettings = gateways.get(options.tenants);
  if (!bySettings) {
    bySettings = new WeakMap();
    gateways.set(options.tenants, bySettings);
  }
  const existing = bySettings.get(options.graph);
  if (existing) return existing;
  const { graph } = options;
  const gateway = createGraphGateway({
    credentials: options.tenants,
    baseUrl: graph.baseUrl,
    authorityHost: graph.authorityHost,
    ...(graph.authorityMetadata ? { authorityMetadata: graph.authorityMetadata } : {}),
    ...(graph.caPem ? { caPem: graph.caPem } : {}),
    ...(graph.timeoutMs ? { timeoutMs: graph.timeoutMs } : {}),
    ...(graph.breakerFailures
      ? {
          breaker: {
            failures: graph.breakerFailures,
            halfOpenAfterMs: graph.breakerCooldownMs ?? DEFAULT_GRAPH_BREAKER.halfOpenAfterMs,
          },
        }
      : {}),
    log: options.log.child({ component: 'graph' }),
  });
  bySettings.set(options.graph, gateway);
  return gateway;
}
