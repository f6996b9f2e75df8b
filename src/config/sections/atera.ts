import { z } from 'zod';
import { bool, int, secret, setting, url } from '../setting.js';

export const ateraSection = {
  baseUrl: setting('ATERA_BASE_URL', url().default('https://app.atera.com/api/v3')),
  apiKey: secret('ATERA_API_KEY', z.string({ required_error: 'required (Atera Admin → API)' }).min(8)),
  pollSeconds: setting('ATERA_POLL_SECONDS', int(15, 1, 3600)),
  /** Tickets handed to the engine at once (bounded queue). */
  maxConcurrentTickets: setting('ATERA_MAX_CONCURRENT_TICKETS', int(10, 1, 1000)),
  /** Client-side limit, below Atera's reported 700 requests per minute. */
  requestsPerMinute: setting('ATERA_REQUESTS_PER_MINUTE', int(600, 1, 700)),
  requestTimeoutMs: setting('ATERA_REQUEST_TIMEOUT_MS', int(15_000, 100)),
  maxRetries: setting('ATERA_MAX_RETRIES', int(5, 0, 20)),
  /** Retries of one request stop after this long in total. */
  retryBudgetMs: setting('ATERA_RETRY_BUDGET_MS', int(60_000, 0)),
  /** Failed requests in a row (after their retries) that open Atera's circuit; it then refuses calls this long. */
  breakerFailures: setting('ATERA_BREAKER_FAILURES', int(5, 1)),
  breakerCooldownMs: setting('ATERA_BREAKER_COOLDOWN_MS', int(30_000, 100)),
  /** The Atera technician TicketZero writes its comments as. */
  technicianId: setting('ATERA_TECHNICIAN_ID', z.coerce.number().int().positive().optional()),
  technicianEmail: setting('ATERA_TECHNICIAN_EMAIL', z.string().email().optional()),
  /** Whether conversation turns are written as internal notes or public replies. */
  commentVisibility: setting('ATERA_COMMENT_VISIBILITY', z.enum(['internal', 'public']).default('internal')),
  /** On first start, also take open tickets created this many minutes before (0: only new ones). */
  backfillMinutes: setting('ATERA_BACKFILL_MINUTES', int(0, 0, 7 * 24 * 60)),
  /** POST /api/atera/webhook is off unless this is set. */
  webhookSecret: secret(
    'ATERA_WEBHOOK_SECRET',
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  /** Allow plain http to a non-loopback Atera (never in production). */
  allowInsecureHttp: setting('ATERA_ALLOW_INSECURE_HTTP', bool(false)),
};
