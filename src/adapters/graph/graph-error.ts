import { TicketZeroError } from '../../errors.js';

/**
 * A Graph call that failed after its retries: `status` is the HTTP status (null for a timeout or a dropped
 * connection), `path` the resource path without its query (no e-mail addresses, never a token), `graphCode` the
 * code from Graph's error body (e.g. `Request_ResourceNotFound`).
 */
export class GraphError extends TicketZeroError {
  readonly code = 'graph_request_failed';
  readonly status: number | null;
  readonly path: string;
  readonly graphCode: string | null;
  readonly tenantKey: string;
  /** The Retry-After header of a 429/503 answer, as sent. */
  readonly retryAfter: string | null;

  constructor(
    message: string,
    details: {
      status: number | null;
      path: string;
      graphCode: string | null;
      tenantKey: string;
      retryAfter?: string | null;
    },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.status = details.status;
    this.path = details.path;
    this.graphCode = details.graphCode;
    this.tenantKey = details.tenantKey;
    this.retryAfter = details.retryAfter ?? null;
  }
}

/** The tenant's token could not be obtained (wrong client id or secret, no consent, authority unreachable). */
export class GraphAuthError extends TicketZeroError {
  readonly code = 'graph_auth_failed';

  constructor(
    message: string,
    readonly tenantKey: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A tenant TicketZero has no Graph credentials for (not in the tenant map). */
export class GraphTenantUnknownError extends TicketZeroError {
  readonly code = 'graph_tenant_unknown';

  constructor(readonly tenantKey: string) {
    super(`no Graph credentials for tenant "${tenantKey}"`);
  }
}

/** The TicketZero app is not in the tenant's Teams app catalogue (not published there, or wrong manifest id). */
export class TeamsAppNotInCatalogError extends TicketZeroError {
  readonly code = 'teams_app_not_in_catalog';

  constructor(
    readonly tenantKey: string,
    readonly manifestId: string | null,
  ) {
    super(
      manifestId
        ? `the Teams app ${manifestId} is not in the app catalogue of tenant "${tenantKey}"`
        : `no Teams app catalogue id or manifest id configured for tenant "${tenantKey}"`,
    );
  }
}
