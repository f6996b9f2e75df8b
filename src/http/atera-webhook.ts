/**
 * POST /api/atera/webhook: Atera's ticket automation rules call it ("Trigger webhook"). Atera publishes no payload
 * schema and no signature, so a call is only a hint: authenticated by a secret of our own (header
 * X-TicketZero-Secret, or ?secret= because Atera can only be given a URL), it nudges the ticket watcher, which reads
 * the ticket through the API. Off unless ATERA_WEBHOOK_SECRET is configured.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type restify from 'restify';
import type { Log } from '../ports/log.js';

export const ATERA_WEBHOOK_PATH = '/api/atera/webhook';
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const MAX_DEPTH = 6;

export interface AteraWebhookDeps {
  /** Undefined: the route is not mounted (404). */
  secret: string | undefined;
  watcher: { nudge(ticketId?: number): void };
  log: Log;
  maxBodyBytes?: number;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time comparison of equal-length digests, so neither content nor length leaks through timing. */
export function secretMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(given), digest(expected));
}

function asTicketId(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

const normalise = (key: string) => key.toLowerCase().replace(/[_\-\s]/g, '');

/**
 * The ticket id in an undocumented payload: a `TicketID`/`ticketId`/`ticket_id` key anywhere (breadth first), else
 * an `id` at the top level or inside a `ticket` object.
 */
export function findTicketId(body: unknown): number | undefined {
  let level: { value: unknown; parentKey: string | null }[] = [{ value: body, parentKey: null }];
  let idFallback: number | undefined;
  for (let depth = 0; depth < MAX_DEPTH && level.length > 0; depth++) {
    const next: typeof level = [];
    for (const { value, parentKey } of level) {
      if (Array.isArray(value)) {
        for (const item of value) next.push({ value: item, parentKey });
        continue;
      }
      if (!value || typeof value !== 'object') continue;
      for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
        const k = normalise(key);
        if (k === 'ticketid') {
          const id = asTicketId(child);
          if (id !== undefined) return id;
        }
        if (k === 'id' && (parentKey === null || parentKey === 'ticket') && idFallback === undefined) {
          idFallback = asTicketId(child);
        }
        if (child && typeof child === 'object') next.push({ value: child, parentKey: k });
      }
    }
    level = next;
  }
  return idFallback;
}

function parseBody(body: unknown): unknown {
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const text = body.toString();
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
  return body;
}

export function registerAteraWebhook(server: restify.Server, deps: AteraWebhookDeps): void {
  const log = deps.log.child({ component: 'atera-webhook' });
  const secret = deps.secret;
  if (!secret) {
    log.info({}, 'atera webhook off (no ATERA_WEBHOOK_SECRET)');
    return;
  }
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  // Before the body is read: refuse oversized calls by their declared length.
  server.pre((req, res, next) => {
    const path = (req.url ?? '').split('?')[0]?.replace(/\/+$/, '');
    const length = Number(req.headers['content-length'] ?? 0);
    if (path === ATERA_WEBHOOK_PATH && length > maxBodyBytes) {
      res.send(413, { error: { code: 'body_too_large', message: 'The webhook body is too large.' } });
      return next(false);
    }
    return next();
  });

  server.post(ATERA_WEBHOOK_PATH, (req, res, next) => {
    const header = req.headers['x-ticketzero-secret'];
    const fromHeader = Array.isArray(header) ? header[0] : header;
    const fromQuery = new URL(req.url ?? '/', 'http://localhost').searchParams.get('secret') ?? undefined;
    if (!secretMatches(fromHeader ?? fromQuery, secret)) {
      log.warn({ hasSecret: fromHeader !== undefined || fromQuery !== undefined }, 'atera webhook refused');
      res.send(401, { error: { code: 'unauthorized', message: 'Missing or wrong webhook secret.' } });
      return next(false);
    }
    const raw: unknown = (req as { body?: unknown }).body;
    const size = typeof raw === 'string' || Buffer.isBuffer(raw) ? Buffer.byteLength(raw) : 0;
    if (size > maxBodyBytes) {
      res.send(413, { error: { code: 'body_too_large', message: 'The webhook body is too large.' } });
      return next(false);
    }
    const ticketId = findTicketId(parseBody(raw));
    deps.watcher.nudge(ticketId);
    log.info({ ticketId: ticketId ?? null }, 'atera webhook accepted');
    res.send(202, { accepted: true, ticketId: ticketId ?? null });
    return next();
  });
}
