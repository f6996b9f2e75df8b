/** Pieces several cards share: the ticket's heading, its facts and how a phase is named. */
import type { ConversationPhase, TicketSummary } from '../../../ports/chat.js';
import type { CardElement, Fact, TextBlock, TextColor } from './adaptive-card.js';
import { escapeCardMarkdown, shorten } from './card-text.js';

const PHASE_LABELS: Record<ConversationPhase, { label: string; color: TextColor }> = {
  waiting: { label: 'Waiting to start', color: 'default' },
  talking: { label: 'AI is talking with the user', color: 'accent' },
  awaiting_confirmation: { label: 'Waiting for the user to confirm the fix', color: 'accent' },
  paused: { label: 'Paused by a technician', color: 'warning' },
  taken_over: { label: 'A technician has taken over', color: 'warning' },
  resolved: { label: 'Resolved', color: 'good' },
  escalated: { label: 'Escalated to a technician', color: 'attention' },
  timed_out: { label: 'Timed out, handed to a technician', color: 'attention' },
  ended: { label: 'Ended', color: 'default' },
};

export function phaseLabel(phase: ConversationPhase): { label: string; color: TextColor } {
  return PHASE_LABELS[phase];
}

export function ticketHeading(ticket: TicketSummary): TextBlock {
  return {
    type: 'TextBlock',
    text: `Ticket #${escapeCardMarkdown(ticket.number)}: ${escapeCardMarkdown(shorten(ticket.title, 160))}`,
    weight: 'bolder',
    size: 'medium',
    wrap: true,
    style: 'heading',
  };
}

/** Facts are rendered as Markdown by Teams too, so every value is escaped. */
export function fact(title: string, value: string): Fact {
  return { title, value: escapeCardMarkdown(shorten(value, 300)) };
}

export function plainParagraph(text: string, options: { subtle?: boolean } = {}): CardElement {
  return {
    type: 'RichTextBlock',
    inlines: [{ type: 'TextRun', text: shorten(text, 4000), ...(options.subtle ? { isSubtle: true } : {}) }],
  };
}

/** What a user's card shows once its buttons no longer apply (they are left out): where the ticket stands. */
export function settledLine(text: string): CardElement {
  return { type: 'Container', style: 'emphasis', spacing: 'medium', items: [plainParagraph(text)] };
}

export function label(text: string): TextBlock {
  return { type: 'TextBlock', text, weight: 'bolder', spacing: 'medium', wrap: true };
}

/**
 * Adaptive Cards format dates in the viewer's time zone with {{DATE()}}/{{TIME()}}, which need
 * `yyyy-MM-ddTHH:mm:ssZ` exactly. Returns null for something that is not a date.
 */
export function cardDateTime(iso: string): string | null {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return null;
  const utc = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `{{DATE(${utc}, SHORT)}} {{TIME(${utc})}}`;
}
