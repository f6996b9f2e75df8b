import type { CardSpec } from '../../../ports/chat.js';
import { topLevelCard, type AdaptiveCard } from './adaptive-card.js';
import { fact, settledLine, ticketHeading } from './ticket-facts.js';

/**
 * The end user's first message: their ticket, what TicketZero will do, and two ways to end it at any time:
 * "It's fixed" (the user's own confirmation resolves the ticket) and "Talk to a technician". Once settled, the
 * buttons give way to where the ticket stands. Each button's data names the card, so a press is answered with it.
 */
export function ticketIntroCard(spec: Extract<CardSpec, { kind: 'ticket_intro' }>): AdaptiveCard {
  const { ticket } = spec;
  return topLevelCard({
    fallbackText: spec.settled ?? `Ticket #${ticket.number}: TicketZero is looking into it.`,
    body: [
      ticketHeading(ticket),
      {
        type: 'TextBlock',
        text:
          `I'm TicketZero, your IT team's assistant. I'll try to fix this with you right here: ` +
          `up to ${spec.maxRounds} replies within ${spec.maxMinutes} minutes. ` +
          `Everything we write is added to your ticket, and you can ask for a technician at any time.`,
        wrap: true,
      },
      {
        type: 'FactSet',
        facts: [fact('Company', ticket.customerName), fact('Priority', ticket.priority)],
        spacing: 'medium',
      },
      ...(spec.settled ? [settledLine(spec.settled)] : []),
    ],
    ...(spec.settled
      ? {}
      : {
          actions: [
            {
              type: 'Action.Execute',
              title: 'It’s fixed',
              verb: 'confirm_fixed',
              data: { ticketId: ticket.ticketId, card: 'ticket_intro' },
            },
            {
              type: 'Action.Execute',
              title: 'Talk to a technician',
              verb: 'ask_human',
              data: { ticketId: ticket.ticketId, card: 'ticket_intro' },
            },
          ],
        }),
  });
}
