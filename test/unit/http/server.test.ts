import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, NotFoundError, TicketZeroError } from '../../../src/errors.js';
import { createHttpServer, listen, resolveBindHost, type ListeningServer } from '../../../src/http/server.js';
import type { Log } from '../../../src/ports/log.js';

interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function recordingLog(lines: LogLine[], bindings: Record<string, unknown> = {}): Log {
  const at =
    (level: string) =>
    (fields: object, message: string): void => {
      lines.push({ level, fields: { ...bindings, ...fields }, message });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingLog(lines, { ...bindings, ...more }),
  };
}

class QuotaError extends TicketZeroError {
  readonly code = 'quota_exceeded_somewhere';
}

describe('the HTTP server', () => {
  const lines: LogLine[] = [];
  let running: ListeningServer;

  beforeAll(async () => {
    const server = createHttpServer({ log: recordingLog(lines), maxBodyBytes: 2048 });
    server.post('/echo', async (req, res) => {
      res.send(200, { received: req.body as unknown });
    });
    server.get('/tickets/:id', async () => {
      throw new NotFoundError('Ticket 4711 does not exist.');
    });
    server.get('/explodes', async () => {
      throw new Error('connection to postgres://admin:hunter2@db failed');
    });
    server.post('/validated', async (req, res) => {
      res.send(200, z.object({ type: z.string() }).parse(req.body));
    });
    server.get('/unmapped', async () => {
      throw new QuotaError('quota used up');
    });
    running = await listen(server, { port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await running?.close();
  });

  const call = (path: string, init?: RequestInit) => fetch(`${running.url}${path}`, init);
  const postJson = (path: string, body: string, headers: Record<string, string> = {}) =>
    call(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('listens on the port it was given (a free one for 0) and reports its URL', () => {
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.port).toBeGreaterThan(0);
  });

  it('answers /healthz while the process is alive', async () => {
    const response = await call('/healthz');

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('parses JSON bodies for routes', async () => {
    const response = await postJson('/echo', '{"ticket": 4711}');

    expect(await response.json()).toEqual({ received: { ticket: 4711 } });
  });

  it('answers malformed JSON with 400 and a clear JSON error, and keeps serving', async () => {
    const response = await postJson('/echo', '{"ticket": ');

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { code: 'invalid_json', message: 'The request body is not valid JSON.' },
    });
    expect((await call('/healthz')).status).toBe(200);
  });

  it('answers a body larger than the limit with 413', async () => {
    const response = await postJson('/echo', JSON.stringify({ text: 'x'.repeat(4096) }));

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'body_too_large' } });
  });

  it('does not parse non-JSON bodies (no forms, no multipart)', async () => {
    const response = await call('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'ticket=4711',
    });

    // The route sees the raw text; only JSON is ever turned into objects.
    expect(await response.json()).toEqual({ received: 'ticket=4711' });
  });

  it('maps a coded TicketZero error to its status, with its message', async () => {
    const response = await call('/tickets/4711');

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: 'not_found', message: 'Ticket 4711 does not exist.' },
    });
  });

  it('answers an unexpected failure with 500 without revealing its message', async () => {
    const response = await call('/explodes');
    const text = await response.text();

    expect(response.status).toBe(500);
    expect(JSON.parse(text)).toEqual({
      error: { code: 'internal', message: 'TicketZero could not handle the request.' },
    });
    expect(text).not.toContain('hunter2');
  });

  it('answers a body that fails a route’s schema with 400, not 500', async () => {
    const response = await postJson('/validated', '{"text":"no type"}');

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_request' } });
  });

  it('answers a coded error without an HTTP mapping with 500 and its code', async () => {
    const response = await call('/unmapped');

    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: 'quota_exceeded_somewhere' } });
  });

  it('answers an unknown route with a JSON 404', async () => {
    const response = await call('/nowhere');

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('logs method, path, status and duration of each request — never bodies, query strings or auth headers', async () => {
    await postJson('/echo?token=query-secret', '{"text":"my password is Sommer2024"}', {
      authorization: 'Bearer header-secret',
    });

    const line = lines.find((l) => l.message === 'request answered' && l.fields['path'] === '/echo');
    expect(line?.fields).toMatchObject({ method: 'POST', path: '/echo', status: 200, component: 'http' });
    expect(typeof line?.fields['ms']).toBe('number');
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain('Sommer2024');
    expect(everything).not.toContain('query-secret');
    expect(everything).not.toContain('header-secret');
  });
});

describe('where the server may listen (resolveBindHost)', () => {
  it('binds to loopback in local mode and says so when no app id is configured', () => {
    const decision = resolveBindHost({});

    expect(decision).toMatchObject({ host: '127.0.0.1', localMode: true });
    expect(decision.warning).toMatch(/local mode/);
  });

  it('accepts an explicit loopback host in local mode', () => {
    expect(resolveBindHost({ host: '::1' })).toMatchObject({ host: '::1', localMode: true });
    expect(resolveBindHost({ host: 'localhost' })).toMatchObject({ host: 'localhost', localMode: true });
  });

  it('refuses a non-loopback host when no app id is configured', () => {
    expect(() => resolveBindHost({ host: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => resolveBindHost({ host: '10.0.0.5' })).toThrow(/HOST/);
  });

  it('listens on every interface, or the given host, once an app id authenticates requests', () => {
    expect(resolveBindHost({ appId: 'app' })).toEqual({ host: '0.0.0.0', localMode: false });
    expect(resolveBindHost({ appId: 'app', host: '10.0.0.5' })).toEqual({
      host: '10.0.0.5',
      localMode: false,
    });
  });
});
