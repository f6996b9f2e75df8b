import type { CardSpec } from '../../../ports/chat.js';
import { topLevelCard, type AdaptiveCard } from './adaptive-card.js';
import { plainParagraph, settledLine, ticketHeading } from './ticket-facts.js';

/** Asks the end user whether the proposed fix worked; once settled, where the ticket stands instead of buttons. */
export function confirmFixCard(spec: Extract<CardSpec, { kind: 'confirm_fix' }>): AdaptiveCard {
  const { ticket } = spec;
  return topLevelCard({
    fallbackText: spec.settled ?? `Is it fixed? Reply "yes" or "no".`,
    body: [
      ticketHeading(ticket),
      plainParagraph(spec.question),
      ...(spec.settled ? [settledLine(spec.settled)] : []),
    ],
    ...(spec.settled
      ? {}
      : {
          actions: [
            {
              type: 'Action.Execute',
              title: "Yes, it's fixed",
              verb: 'confirm_fixed',
              data: { ticketId: ticket.ticketId, card: 'confirm_fix' },
              style: 'positive',
            },
            {
              type: 'Action.Execute',
              title: 'No, still broken',
              verb: 'still_broken',
              data: { ticketId: ticket.ticketId, card: 'confirm_fix' },
            },
          ],
        }),
  });
}
