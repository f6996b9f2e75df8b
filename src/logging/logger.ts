import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths redacted from every log line. Secrets and tokens never reach a log; message text is logged only at
 * debug level, through `redactText`.
 */
export const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'clientSecret',
  '*.clientSecret',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers["x-api-key"]',
  'config.headers["X-API-KEY"]',
  // Session cookies (dashboard) and the ops tokens.
  'cookie',
  'req.headers.cookie',
  'headers.cookie',
  'metricsToken',
  'dashboardToken',
  // Personal data: log ids, not addresses.
  'email',
  '*.email',
  'mail',
  '*.mail',
  'userPrincipalName',
  '*.userPrincipalName',
  'phone',
  '*.phone',
];

export interface LoggerSettings {
  level: string;
  pretty: boolean;
  /** Secret values (keys, passwords) replaced by [redacted] wherever they appear in a line. */
  secrets?: readonly string[];
}

export function createLogger(settings: LoggerSettings, destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: 'ticketzero' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const scrub = secretScrubber(settings.secrets ?? []);
  if (scrub) options.hooks = { streamWrite: scrub };
  if (settings.pretty && !destination) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss' } },
    });
  }
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

/** Replaces every occurrence of each secret (as written in a JSON line) with [redacted]; null when none. */
export function secretScrubber(secrets: readonly string[]): ((line: string) => string) | null {
  const needles = [
    ...new Set(
      secrets
        .filter((s) => s.length >= 8)
        // Secrets appear in a JSON line with JSON escaping.
        .flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]),
    ),
  ].sort((a, b) => b.length - a.length);
  if (needles.length === 0) return null;
  const pattern = new RegExp(needles.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (line) => line.replace(pattern, '[redacted]');
}

const EMAIL = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g;
const PHONE = /\+?\d[\d\s().-]{7,}\d/g;
const SECRETISH = /\b(password|passwort|pwd|pin|code|token|secret|key)\b\s*[:=]?\s*\S+/gi;
const LONG_TOKEN = /\b[A-Za-z0-9_\-+/=]{24,}\b/g;

/** Redacts personal data and things that look like secrets from user text before it is logged (debug only). */
export function redactText(text: string): string {
  return text
    .replace(EMAIL, '[email]')
    .replace(SECRETISH, (_m, word: string) => `${word} [redacted]`)
    .replace(LONG_TOKEN, '[token]')
    .replace(PHONE, '[phone]');
}
