/**
 * The words TicketZero writes on the Atera ticket. Plain text that reads well in Atera's UI: who said it and in
 * which round. (The Atera adapter escapes HTML and adds the delivery marker.)
 */
import type { ConversationRecord, Turn } from '../ports/conversation-store.js';
import type { NewComment } from '../ports/ticket-desk.js';

/**
 * The most text one comment carries. Atera publishes no limit for a comment (see the API reference); 8,000
 * characters reads well in its UI and stays far below what its editor holds. A turn's text is shortened to it, and
 * a folded comment never exceeds it unless a single turn alone does.
 */
export const MAX_COMMENT_CHARS = 8000;

function clip(text: string, max = MAX_COMMENT_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 20)}… [shortened]`;
}

export function userTurnComment(record: ConversationRecord, turn: Turn, round: number): string {
  const name = record.user?.displayName ?? 'End user';
  if (record.state === 'escalated' || record.state === 'timed_out') {
    return clip(`${name} (end user, via Teams, after the hand-over):\n${turn.text}`);
  }
  return clip(`${name} (end user, via Teams) — round ${round}:\n${turn.text}`);
}

export function assistantTurnComment(turn: Turn, round: number, maxRounds: number): string {
  const label = round === 0 ? 'first answer' : `round ${round} of ${maxRounds}`;
  const provider = turn.provider ? ` [model: ${turn.provider}]` : '';
  return clip(`TicketZero (AI assistant) — ${label}${provider}:\n${turn.text}`);
}

export function technicianTurnComment(turn: Turn): string {
  return clip(`${turn.authorName ?? 'Technician'} (technician, via TicketZero in Teams):\n${turn.text}`);
}

export function note(text: string): string {
  return clip(`TicketZero: ${text}`);
}

/** `2026-03-23 14:03:12 UTC`: when a part of a folded comment happened. */
function stamp(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The text one part adds to a folded comment (its time, then its words). */
export function foldedPart(comment: NewComment): string {
  return `${stamp(comment.timestampUtc)} · ${comment.text}`;
}

/** Between two parts of a folded comment. */
export const FOLD_SEPARATOR = '\n\n';

/**
 * Several queued comments of one ticket as one Atera comment, in their order: each part keeps its own words,
 * attribution and time, and its marker (so a delivery cut off by a crash is recognised for every part). Written as
 * the end user when every part is theirs, otherwise as TicketZero; the parts share one visibility (the outbox folds
 * only those). One comment is returned as it is.
 */
export function foldComments(parts: readonly NewComment[]): NewComment {
  const [first] = parts;
  if (!first) throw new RangeError('nothing to fold');
  if (parts.length === 1) {
    const alone = { ...first };
    delete alone.awaitsAnswer;
    return alone;
  }
  const endUserIds = new Set(parts.map((p) => (p.author === 'end_user' ? (p.endUserId ?? null) : undefined)));
  const [onlyUser] = [...endUserIds];
  const allTheUsers = endUserIds.size === 1 && onlyUser !== undefined;
  return {
    text: parts.map(foldedPart).join(FOLD_SEPARATOR),
    visibility: first.visibility,
    author: allTheUsers ? 'end_user' : 'ticketzero',
    ...(allTheUsers ? { endUserId: onlyUser } : {}),
    timestampUtc: first.timestampUtc,
    marker: parts.map((p) => p.marker).join(' '),
  };
}

/**
 * True for a comment TicketZero wrote: it carries the delivery marker the Atera adapter appends
 * (`[TicketZero ref tz-…]`, one per part of a folded comment; the in-memory desk shows it as `[tz-…]`).
 */
export function isTicketZeroComment(text: string): boolean {
  return /\[(?:TicketZero ref )?tz-[\w-]+\]/.test(text);
}
