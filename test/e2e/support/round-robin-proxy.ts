/**
 * A load balancer in miniature, for the multi-instance tests: forwards each request to the next of several
 * TicketZero instances in turn. An instance that refuses the connection (down) is skipped, as a balancer's
 * health check would; a request that reached an instance which then died is not re-sent to another (balancers do
 * not replay a POST): the caller gets a 502 and, like Teams, delivers the activity again.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ForwardedRequest {
  upstream: string;
  path: string;
  status: number;
}

export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Base URLs of the instances (`http://127.0.0.1:<port>`), in rotation order. */
  upstreams: string[];
  readonly forwarded: ForwardedRequest[];
  close(): Promise<void>;
}

function connectionRefused(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code === 'ECONNREFUSED';
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startRoundRobinProxy(upstreams: string[] = []): Promise<RoundRobinProxy> {
  let next = 0;
  const forwarded: ForwardedRequest[] = [];
  const proxy = { upstreams } as RoundRobinProxy;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'content-type']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const count = proxy.upstreams.length;
    for (let tried = 0; tried < count; tried += 1) {
      const upstream = proxy.upstreams[next++ % count]!;
      let response: Response;
      try {
        response = await fetch(`${upstream}${req.url ?? '/'}`, {
          method: req.method ?? 'GET',
          headers,
          ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
        });
      } catch (error) {
        if (connectionRefused(error)) continue;
        forwarded.push({ upstream, path: req.url ?? '/', status: 502 });
        res.writeHead(502);
        res.end('upstream failed mid-request');
        return;
      }
      const text = Buffer.from(await response.arrayBuffer());
      forwarded.push({ upstream, path: req.url ?? '/', status: response.status });
      const type = response.headers.get('content-type');
      // Separate calls: restify (loaded in the same process by in-process instances) patches writeHead.
      res.writeHead(response.status, type ? { 'content-type': type } : {});
      res.end(text);
      return;
    }
    res.writeHead(503);
    res.end('no instance is up');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return proxy;
}
