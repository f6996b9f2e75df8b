/**
 * The words TicketZero writes on the Atera ticket. Plain text that reads well in Atera's UI: who said it and in
 * which round. (The Atera adapter escapes HTML and adds the delivery marker.)
 */
import type { ConversationRecord, Turn } from '../ports/conversation-store.js';

const MAX_COMMENT_CHARS = 8000;

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

/**
 * True for a comment TicketZero wrote: it carries the delivery marker the Atera adapter appends
 * (`[TicketZero ref tz-…]`; the in-memory desk shows it as `[tz-…]`).
 */
export function isTicketZeroComment(text: string): boolean {
  return /\[(?:TicketZero ref )?tz-[\w-]+\]/.test(text);
}
