/**
 * A lean Bot Framework connector for the benchmark: the same protocol as the connector sandbox (signed inbound
 * activities, an Entra-style token endpoint, the v3 conversations API with bearer checks), without its full
 * recorder. It notes when each message reaches it (performance.now()) and tells the load generator at once, so
 * thousands of turns per second can be timed without scanning a growing list.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { authorityMetadata } from '../src/sandboxes/connector/connector-sandbox.js';
import { createTokenIssuer } from '../src/sandboxes/connector/token-issuer.js';

export interface ArrivedActivity {
  at: number;
  conversationId: string;
  type: string;
  text: string;
  /** teams-ai streaming updates carry channelData.streamType. */
  streamType: string | null;
}

export interface BenchConnector {
  url: string;
  serviceUrl: string;
  openIdMetadataUrl: string;
  issuer: string;
  loginUrl(tenantId: string): string;
  /** `Authorization` header value for activities sent to the bot (one channel token, valid for an hour). */
  channelAuthorization(): string | undefined;
  onActivity: ((activity: ArrivedActivity) => void) | null;
  /** v3 calls refused for a missing or unknown token. */
  unauthorized: number;
  /** v3 API calls accepted (activities sent or updated, conversations created, members read). */
  calls: number;
  close(): Promise<void>;
}

export async function startBenchConnector(options: {
  appId?: string;
  appPassword?: string;
}): Promise<BenchConnector> {
  const issuer = createTokenIssuer();
  const issued = new Set<string>();
  let conversationCounter = 0;
  let activityCounter = 0;
  let channelToken: string | undefined;

  const server = createServer((req, res) => {
    handle(req, res).catch(() =>
      send(res, 500, { error: { code: 'ServiceError', message: 'bench connector' } }),
    );
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const connector: BenchConnector = {
    url,
    serviceUrl: `${url}/`,
    openIdMetadataUrl: `${url}/v1/.well-known/openidconfiguration`,
    issuer: url,
    loginUrl: (tenantId) => `${url}/${tenantId}`,
    channelAuthorization() {
      if (!options.appId) return undefined;
      channelToken ??= issuer.signChannelToken({ aud: options.appId, iss: url, serviceurl: `${url}/` });
      return `Bearer ${channelToken}`;
    },
    onActivity: null,
    unauthorized: 0,
    calls: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const segments = path
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === '/v1/.well-known/openidconfiguration') {
      return send(res, 200, {
        issuer: url,
        authorization_endpoint: `${url}/v1/authorize`,
        jwks_uri: `${url}/v1/.well-known/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      });
    }
    if (method === 'GET' && path === '/v1/.well-known/keys') return send(res, 200, issuer.jwks());
    if (segments.length === 4 && segments.slice(1).join('/') === 'oauth2/v2.0/token' && method === 'POST') {
      const form = new URLSearchParams(body);
      if (form.get('client_id') !== options.appId || form.get('client_secret') !== options.appPassword) {
        return send(res, 401, {
          error: 'invalid_client',
          error_description: 'AADSTS7000215: Invalid client.',
        });
      }
      const scope = (form.get('scope') ?? '').split(' ').find((s) => s.endsWith('/.default')) ?? '';
      const token = issuer.signAccessToken({
        aud: scope.slice(0, -'/.default'.length),
        iss: `${url}/${segments[0]}/`,
        appid: options.appId ?? '',
        tid: segments[0] ?? '',
      });
      issued.add(token);
      return send(res, 200, {
        token_type: 'Bearer',
        expires_in: 3599,
        ext_expires_in: 3599,
        access_token: token,
      });
    }
    if (method === 'GET' && segments.slice(1).join('/') === 'v2.0/.well-known/openid-configuration') {
      return send(res, 200, authorityMetadata(`${url}/${segments[0] ?? ''}`));
    }
    if (segments[0] !== 'v3' || segments[1] !== 'conversations') {
      return send(res, 404, { error: { code: 'NotFound', message: `No route for ${method} ${path}` } });
    }
    if (options.appId) {
      const token = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
      if (!issued.has(token)) {
        connector.unauthorized += 1;
        return send(res, 401, { message: 'Authorization has been denied for this request.' });
      }
    }
    connector.calls += 1;
    const json = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    if (segments.length === 2 && method === 'POST') {
      conversationCounter += 1;
      return send(res, 201, {
        id: `a:bench-created-${conversationCounter}`,
        activityId: `c${conversationCounter}`,
      });
    }
    const conversationId = segments[2] ?? '';
    if (segments[3] === 'activities' && (method === 'POST' || method === 'PUT')) {
      activityCounter += 1;
      const channelData = json['channelData'] as { streamType?: unknown } | undefined;
      connector.onActivity?.({
        at: performance.now(),
        conversationId,
        type: String(json['type'] ?? ''),
        text: typeof json['text'] === 'string' ? json['text'] : '',
        streamType: typeof channelData?.streamType === 'string' ? channelData.streamType : null,
      });
      return send(res, method === 'POST' ? 201 : 200, { id: `b${activityCounter}` });
    }
    if (segments[3] === 'members' || segments[3] === 'pagedmembers') return send(res, 200, { members: [] });
    return send(res, 404, { error: { code: 'NotFound', message: `No route for ${method} ${path}` } });
  }

  return connector;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
