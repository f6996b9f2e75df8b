/**
 * How long an answer's `Retry-After` header asks us to wait, in milliseconds: delta-seconds or an HTTP date
 * (RFC 9110 §10.2.3); undefined when there is no header or it cannot be read. A date in the past is 0.
 */
export function parseRetryAfter(header: unknown, nowMs: number = Date.now()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
