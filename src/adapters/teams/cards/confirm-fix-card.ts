import type { CardSpec } from '../../../ports/chat.js';
import { topLevelCard, type AdaptiveCard } from './adaptive-card.js';
import { plainParagraph, ticketHeading } from './ticket-facts.js';

/** Asks the end user whether the proposed fix worked. */
export function confirmFixCard(spec: Extract<CardSpec, { kind: 'confirm_fix' }>): AdaptiveCard {
  const { ticket } = spec;
  return topLevelCard({
    fallbackText: `Is it fixed? Reply "yes" or "no".`,
    body: [ticketHeading(ticket), plainParagraph(spec.question)],
    actions: [
      {
        type: 'Action.Execute',
        title: "Yes, it's fixed",
        verb: 'confirm_fixed',
        data: { ticketId: ticket.ticketId },
        style: 'positive',
      },
      {
        type: 'Action.Execute',
        title: 'No, still broken',
        verb: 'still_broken',
        data: { ticketId: ticket.ticketId },
      },
    ],
  });
}
