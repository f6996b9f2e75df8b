/**
 * Operations routes on the bot's restify server:
 * - GET /readyz — 200 when the store, Atera and at least one AI provider are usable, else 503; the body explains
 *   each check.
 * - GET /metrics — Prometheus text. With METRICS_TOKEN set it needs `Authorization: Bearer <token>`; without one it
 *   is served only while the server listens on loopback, and is off (404) when it listens beyond.
 * - GET /dashboard, /dashboard/tickets/:id, /dashboard/api/overview — off (404) unless DASHBOARD_TOKEN is set; the
 *   token comes as a bearer header, or once as `?token=`, which sets an HttpOnly SameSite=Strict session cookie and
 *   redirects to the same page without the token in the address.
 */
import type restify from 'restify';
import type { Clock } from '../ports/clock.js';
import type { ConversationStore } from '../ports/conversation-store.js';
import type { Log } from '../ports/log.js';
import { bearerToken, cookieValue, dashboardSessionValue, tokenMatches } from './access-token.js';
import { loadDashboardData } from './dashboard-report.js';
import {
  DASHBOARD_CSS_PATH,
  renderDashboardPage,
  renderMessagePage,
  renderTranscriptPage,
} from './dashboard-page.js';
import { DASHBOARD_CSS } from './dashboard-styles.js';
import type { Metrics } from './metrics.js';
import type { ReadinessChecks } from './readiness.js';

export interface OpsRoutesDeps {
  metrics: Metrics;
  store: ConversationStore;
  readiness: ReadinessChecks;
  metricsToken?: string | undefined;
  dashboardToken?: string | undefined;
  /** The server listens on a non-loopback interface. */
  exposedBeyondLoopback: boolean;
  minutesSavedPerTicket: number;
  maxRounds: number;
  clock: Clock;
  log: Log;
}

export const DASHBOARD_COOKIE = 'tz_dashboard';
const SESSION_SECONDS = 12 * 60 * 60;

const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

type Handler = (req: restify.Request, res: restify.Response) => Promise<void>;

/** Runs an async handler; its errors go to restify's error handling (JSON answer, logged when 5xx). */
function route(handler: Handler): restify.RequestHandler {
  return (req, res, next) => {
    handler(req, res).then(
      () => next(),
      (error: unknown) => next(error instanceof Error ? error : new Error(String(error))),
    );
  };
}

export function registerOpsRoutes(server: restify.Server, deps: OpsRoutesDeps): void {
  const log = deps.log.child({ component: 'ops' });

  server.get(
    '/readyz',
    route(async (_req, res) => {
      const report = await deps.readiness.run();
      if (!report.ready) {
        log.warn(
          {
            failing: Object.entries(report.checks)
              .filter(([, c]) => !c.ok)
              .map(([name]) => name),
          },
          'not ready',
        );
      }
      res.header('Cache-Control', 'no-store');
      res.send(report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not_ready', ...report });
    }),
  );

  registerMetrics(server, deps, log);
  if (deps.dashboardToken) registerDashboard(server, deps, deps.dashboardToken);
  else log.info({}, 'dashboard off (no DASHBOARD_TOKEN)');
}

function registerMetrics(server: restify.Server, deps: OpsRoutesDeps, log: Log): void {
  const token = deps.metricsToken;
  if (!token && deps.exposedBeyondLoopback) {
    log.warn({}, 'metrics off: the server listens beyond loopback and METRICS_TOKEN is not set');
    return;
  }
  server.get(
    '/metrics',
    route(async (req, res) => {
      if (token && !tokenMatches(bearerToken(req.headers.authorization), token)) {
        res.header('WWW-Authenticate', 'Bearer realm="ticketzero-metrics"');
        res.send(401, {
          error: { code: 'unauthorized', message: 'A valid METRICS_TOKEN bearer token is required.' },
        });
        return;
      }
      const body = await deps.metrics.render();
      res.sendRaw(200, body, { 'Content-Type': deps.metrics.contentType, 'Cache-Control': 'no-store' });
    }),
  );
}

function registerDashboard(server: restify.Server, deps: OpsRoutesDeps, token: string): void {
  const session = dashboardSessionValue(token);

  const isSecure = (req: restify.Request): boolean =>
    req.isSecure() || String(req.headers['x-forwarded-proto'] ?? '').toLowerCase() === 'https';

  /**
   * True when the request may see the dashboard. Answers the request itself (401, or the redirect that swaps a
   * `?token=` for the session cookie) when it returns false.
   */
  const admit = (req: restify.Request, res: restify.Response): boolean => {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const queryToken = url.searchParams.get('token');
    if (queryToken !== null) {
      if (!tokenMatches(queryToken, token)) {
        deny(res);
        return false;
      }
      url.searchParams.delete('token');
      const cookie = [
        `${DASHBOARD_COOKIE}=${session}`,
        'Path=/dashboard',
        'HttpOnly',
        'SameSite=Strict',
        `Max-Age=${SESSION_SECONDS}`,
        ...(isSecure(req) ? ['Secure'] : []),
      ].join('; ');
      res.sendRaw(303, '', {
        Location: `${url.pathname}${url.search}`,
        'Set-Cookie': cookie,
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
      });
      return false;
    }
    if (tokenMatches(bearerToken(req.headers.authorization), token)) return true;
    if (tokenMatches(cookieValue(req.headers.cookie, DASHBOARD_COOKIE), session)) return true;
    deny(res);
    return false;
  };

  const deny = (res: restify.Response): void => {
    res.sendRaw(
      401,
      renderMessagePage(
        'Sign-in required',
        'Open this page with the dashboard token: send it as a bearer token, or open /dashboard?token=… once to get a session cookie.',
      ),
      { ...PAGE_HEADERS, 'WWW-Authenticate': 'Bearer realm="ticketzero-dashboard"' },
    );
  };

  const overview = () =>
    loadDashboardData(deps.store, {
      now: deps.clock.now(),
      maxRounds: deps.maxRounds,
      minutesSavedPerTicket: deps.minutesSavedPerTicket,
      providerStats: deps.metrics.providerStats(),
    });

  server.get(
    DASHBOARD_CSS_PATH,
    route(async (_req, res) => {
      res.sendRaw(200, DASHBOARD_CSS, {
        'Content-Type': 'text/css; charset=utf-8',
        'Cache-Control': 'public, max-age=3600',
        'X-Content-Type-Options': 'nosniff',
      });
    }),
  );

  // Browsers ask for /favicon.ico after the sign-in redirect; the page itself declares an empty icon.
  server.get(
    '/favicon.ico',
    route(async (_req, res) => {
      res.sendRaw(204, '', { 'Cache-Control': 'public, max-age=86400' });
    }),
  );

  server.get(
    '/dashboard',
    route(async (req, res) => {
      if (!admit(req, res)) return;
      res.sendRaw(200, renderDashboardPage(await overview()), PAGE_HEADERS);
    }),
  );

  server.get(
    '/dashboard/api/overview',
    route(async (req, res) => {
      if (!admit(req, res)) return;
      res.header('Cache-Control', 'no-store');
      res.send(200, await overview());
    }),
  );

  server.get(
    '/dashboard/tickets/:id',
    route(async (req, res) => {
      if (!admit(req, res)) return;
      const raw = String((req.params as Record<string, unknown>)['id'] ?? '');
      const ticketId = /^\d{1,15}$/.test(raw) ? Number(raw) : null;
      // The store decrypts the transcript; only a request that passed the token check reaches this read.
      const record = ticketId === null ? null : await deps.store.getConversation(ticketId);
      if (!record) {
        res.sendRaw(
          404,
          renderMessagePage('Not found', 'TicketZero has no conversation for this ticket.'),
          PAGE_HEADERS,
        );
        return;
      }
      res.sendRaw(200, renderTranscriptPage(record, deps.maxRounds), PAGE_HEADERS);
    }),
  );
}
