import type { CardSpec } from '../../../ports/chat.js';
import { topLevelCard, type AdaptiveCard, type CardElement } from './adaptive-card.js';
import { escapeCardMarkdown, shorten } from './card-text.js';
import { label, plainParagraph, ticketHeading } from './ticket-facts.js';

/** Sent to the end user when the ticket is resolved: what was wrong, what was done, the result. */
export function resolutionSummaryCard(spec: Extract<CardSpec, { kind: 'resolution_summary' }>): AdaptiveCard {
  const steps: CardElement[] =
    spec.steps.length === 0
      ? []
      : [
          label('What we did'),
          {
            type: 'TextBlock',
            // Our own numbering; each step's text is escaped so it cannot start a list or a link of its own.
            text: spec.steps
              .slice(0, 20)
              .map((step, i) => `${i + 1}. ${escapeCardMarkdown(shorten(step.replace(/\s+/g, ' '), 400))}`)
              .join('\n'),
            wrap: true,
          },
        ];
  return topLevelCard({
    fallbackText: `Ticket #${spec.ticket.number} is resolved.`,
    body: [
      {
        type: 'Container',
        style: 'good',
        bleed: true,
        items: [{ type: 'TextBlock', text: '✔ Resolved', weight: 'bolder', color: 'good' }],
      },
      ticketHeading(spec.ticket),
      label('The problem'),
      plainParagraph(spec.problem),
      ...steps,
      label('Result'),
      plainParagraph(spec.result),
      {
        type: 'TextBlock',
        text: 'If it comes back, just write here or reply to your ticket.',
        isSubtle: true,
        wrap: true,
        spacing: 'medium',
      },
    ],
  });
}
