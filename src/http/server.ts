import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import restify from 'restify';
import { ConfigError, PortInUseError, TicketZeroError } from '../errors.js';
import type { Log } from '../ports/log.js';
import { isLoopbackHost } from '../security/loopback-host.js';

export interface HttpServerOptions {
  log: Log;
  /** Largest accepted request body; larger ones answer 413 before they are read to the end. */
  maxBodyBytes: number;
  name?: string;
}

/**
 * The restify server every inbound route is mounted on (/api/messages by the Teams adapter, the Atera webhook,
 * /readyz and /metrics by ops). It parses JSON bodies only (no multipart, no forms), answers every failure with a
 * JSON `{ error: { code, message } }` and a status that matches it, and logs each request's method, path, status
 * and duration — never bodies, query strings or headers.
 */
export function createHttpServer(options: HttpServerOptions): restify.Server {
  const log = options.log.child({ component: 'http' });
  const server = restify.createServer({
    name: options.name ?? 'ticketzero',
    // restify's own logger stays silent: requests are logged below, in TicketZero's shape.
    log: pino({ level: 'silent' }) as unknown as restify.ServerOptions['log'],
    handleUncaughtExceptions: false,
    ignoreTrailingSlash: true,
  });

  server.pre((req, _res, next) => {
    (req as RequestWithTiming).startedAt = process.hrtime.bigint();
    return next();
  });
  // jsonBodyParser reads the body through bodyReader, which honours maxBodySize (missing from @types/restify).
  const bodyOptions = {
    maxBodySize: options.maxBodyBytes,
    mapParams: false,
  } as restify.plugins.JsonBodyParserOptions;
  server.use(restify.plugins.jsonBodyParser(bodyOptions));

  server.on(
    'restifyError',
    (req: restify.Request, res: restify.Response, err: unknown, callback: () => void) => {
      const { status, code, message } = describeError(err);
      if (status >= 500) {
        log.error({ err, method: req.method, path: req.getPath(), status, code }, 'request failed');
      }
      if (!res.headersSent) {
        res.send(status, { error: { code, message } });
      }
      return callback();
    },
  );

  server.on('after', (req: restify.Request, res: restify.Response) => {
    const startedAt = (req as RequestWithTiming).startedAt;
    const ms = startedAt === undefined ? undefined : Number(process.hrtime.bigint() - startedAt) / 1e6;
    const fields = {
      method: req.method,
      path: req.getPath(),
      status: res.statusCode,
      ms: ms === undefined ? undefined : Math.round(ms * 10) / 10,
    };
    if (res.statusCode >= 500) log.warn(fields, 'request answered');
    else log.info(fields, 'request answered');
  });

  server.get('/healthz', (_req, res, next) => {
    res.send(200, { status: 'ok' });
    return next();
  });

  return server;
}

interface RequestWithTiming {
  startedAt?: bigint;
}

/** HTTP status for each TicketZeroError code that can reach a route; anything else is a 500. */
const STATUS_BY_CODE: Record<string, number> = {
  not_found: 404,
  conflict: 409,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  config_invalid: 500,
  unexpected: 500,
};

/** restify's own errors (body parsing, routing) in TicketZero's code vocabulary. */
const CODE_BY_RESTIFY_ERROR: Record<string, string> = {
  InvalidContentError: 'invalid_json',
  PayloadTooLargeError: 'body_too_large',
  ResourceNotFoundError: 'not_found',
  MethodNotAllowedError: 'method_not_allowed',
  UnsupportedMediaTypeError: 'unsupported_media_type',
  BadDigestError: 'invalid_request',
  NotAcceptableError: 'not_acceptable',
};

export function describeError(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof TicketZeroError) {
    const status = STATUS_BY_CODE[err.code] ?? httpStatusOf(err) ?? 500;
    return {
      status,
      code: err.code,
      message: status >= 500 ? 'TicketZero could not handle the request.' : err.message,
    };
  }
  if (err instanceof Error && err.name === 'ZodError') {
    // Schema validation escaping a route is a request of the wrong shape (botbuilder's CloudAdapter validates the
    // activity with zod, e.g. a body without `type`), not a server fault.
    return {
      status: 400,
      code: 'invalid_request',
      message: 'The request body does not have the expected shape.',
    };
  }
  if (err instanceof Error && typeof (err as { statusCode?: unknown }).statusCode === 'number') {
    const status = (err as unknown as { statusCode: number }).statusCode;
    const code = CODE_BY_RESTIFY_ERROR[err.name] ?? (status >= 500 ? 'internal' : 'invalid_request');
    const message =
      code === 'invalid_json'
        ? 'The request body is not valid JSON.'
        : code === 'body_too_large'
          ? 'The request body is larger than this server accepts.'
          : status >= 500
            ? 'TicketZero could not handle the request.'
            : err.message;
    return { status, code, message };
  }
  return { status: 500, code: 'internal', message: 'TicketZero could not handle the request.' };
}

/** Coded errors from adapters may carry the HTTP status a route should answer with (e.g. 400 for a bad payload). */
function httpStatusOf(err: TicketZeroError): number | undefined {
  const status = (err as { httpStatus?: unknown }).httpStatus;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}

export interface ListeningServer {
  /** `http://<host>:<port>` as bound (the real port when 0 was asked for). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listen(
  server: restify.Server,
  at: { port: number; host: string },
): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(at.port, at.host, { cause: error }) : error);
    server.server.once('error', onError);
    server.listen(at.port, at.host, () => {
      server.server.off('error', onError);
      resolve();
    });
  });
  const address = server.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.server.close((error) => (error ? reject(error) : resolve()));
        server.server.closeAllConnections();
      }),
  };
}

export interface BindDecision {
  host: string;
  /** No app id: inbound requests are not authenticated, so only this machine may reach the bot. */
  localMode: boolean;
  warning?: string;
}

/**
 * Where the server may listen. Without bot credentials it runs in local mode, on loopback only, and says so; a
 * non-loopback HOST without an app id is refused, because anyone who could reach it could impersonate Teams.
 */
export function resolveBindHost(config: { host?: string; appId?: string }): BindDecision {
  if (config.appId) return { host: config.host ?? '0.0.0.0', localMode: false };
  const host = config.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new ConfigError([
      `HOST: ${host} is not a loopback address; without MICROSOFT_APP_ID inbound requests are not authenticated, so TicketZero only listens on 127.0.0.1, ::1 or localhost (set MICROSOFT_APP_ID to listen elsewhere)`,
    ]);
  }
  return {
    host,
    localMode: true,
    warning:
      'local mode: no MICROSOFT_APP_ID, inbound Bot Framework requests are not authenticated; listening on loopback only',
  };
}
