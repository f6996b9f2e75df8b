/** Turns a CardSpec (what the engine wants to say) into the Adaptive Card 1.5 Teams renders. */
import type { CardSpec } from '../../../ports/chat.js';
import { ADAPTIVE_CARD_CONTENT_TYPE, type AdaptiveCard } from './adaptive-card.js';
import { confirmFixCard } from './confirm-fix-card.js';
import { handoverNoticeCard } from './handover-notice-card.js';
import { resolutionSummaryCard } from './resolution-summary-card.js';
import { ticketIntroCard } from './ticket-intro-card.js';
import { ticketThreadCard, type ThreadCardOptions } from './ticket-thread-card.js';

export function renderCard(spec: CardSpec, options: ThreadCardOptions = {}): AdaptiveCard {
  switch (spec.kind) {
    case 'ticket_intro':
      return ticketIntroCard(spec);
    case 'confirm_fix':
      return confirmFixCard(spec);
    case 'resolution_summary':
      return resolutionSummaryCard(spec);
    case 'handover_notice':
      return handoverNoticeCard(spec);
    case 'ticket_thread':
      return ticketThreadCard(spec, options);
  }
}

/** The attachment that carries a card in a message activity. */
export function cardAttachment(card: AdaptiveCard): { contentType: string; content: AdaptiveCard } {
  return { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card };
}
