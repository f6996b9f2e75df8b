import type { CardSpec } from '../../../ports/chat.js';
import { topLevelCard, type AdaptiveCard } from './adaptive-card.js';
import { fact, label, plainParagraph, ticketHeading } from './ticket-facts.js';

/** Tells the end user that a person takes it from here, why, and what happens next. */
export function handoverNoticeCard(spec: Extract<CardSpec, { kind: 'handover_notice' }>): AdaptiveCard {
  const { ticket } = spec;
  return topLevelCard({
    fallbackText: `A technician is taking over ticket #${ticket.number}.`,
    body: [
      {
        type: 'Container',
        style: 'emphasis',
        bleed: true,
        items: [{ type: 'TextBlock', text: 'A technician takes it from here', weight: 'bolder' }],
      },
      ticketHeading(ticket),
      label('Why'),
      plainParagraph(spec.reason),
      label('What happens next'),
      plainParagraph(spec.nextSteps),
      ...(ticket.technicianName
        ? [
            {
              type: 'FactSet' as const,
              facts: [fact('Technician', ticket.technicianName)],
              spacing: 'medium' as const,
            },
          ]
        : []),
    ],
  });
}
