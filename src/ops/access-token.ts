/**
 * Token checks for /metrics and the dashboard. Tokens are compared in constant time: both sides are hashed first,
 * so neither their content nor their length shows in the comparison's timing.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export function tokenMatches(given: string | undefined | null, expected: string): boolean {
  if (typeof given !== 'string' || given.length === 0 || expected.length === 0) return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(authorization: string | string[] | undefined): string | null {
  const header = Array.isArray(authorization) ? authorization[0] : authorization;
  if (!header) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * The dashboard session cookie's value: derived from the token, so the cookie never holds the token itself, yet
 * stays valid across restarts and instances, and stops working when the token is rotated.
 */
export function dashboardSessionValue(token: string): string {
  return createHmac('sha256', token).update('ticketzero-dashboard-session-v1').digest('base64url');
}

/** One cookie's value from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
