/**
 * Facts about a ConversationRecord that every store indexes the same way: when it ended and which thread it has.
 */
import type { ConversationRecord } from '../../ports/conversation-store.js';

/** The technicians' thread id without the `;messageid=…` suffix, so both spellings find the same conversation. */
export function normalizeThreadId(threadId: string): string {
  const cut = threadId.indexOf(';messageid=');
  return (cut === -1 ? threadId : threadId.slice(0, cut)).trim();
}

/** When an ended conversation ended: its outcome's time, else its last update. */
export function endedAtOf(record: ConversationRecord): string {
  return record.outcome?.at ?? record.updatedAt;
}

/** Milliseconds since the epoch of an ISO 8601 time; NaN-safe (an unparseable time sorts first). */
export function timeOf(iso: string | null | undefined): number {
  if (!iso) return 0;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0 : ms;
}

/** Ended conversations newest first, at most `limit`, ended at or after `since` when given. */
export function newestEnded(
  records: readonly ConversationRecord[],
  limit: number,
  since?: string,
): ConversationRecord[] {
  const from = since === undefined ? -Infinity : timeOf(since);
  return records
    .filter((r) => timeOf(endedAtOf(r)) >= from)
    .sort((a, b) => timeOf(endedAtOf(b)) - timeOf(endedAtOf(a)) || b.ticketId - a.ticketId)
    .slice(0, Math.max(0, limit));
}
