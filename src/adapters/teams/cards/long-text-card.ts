import { topLevelCard, type AdaptiveCard } from './adaptive-card.js';
import { shorten } from './card-text.js';
import { plainParagraph } from './ticket-facts.js';

/** Texts longer than this are folded in channel threads: the start is shown, the rest behind "Show all". */
export const FOLD_AFTER_CHARACTERS = 600;

/** A long message as a card: its first part, and the full text in an expandable section. */
export function longTextCard(text: string, options: { speaker?: string } = {}): AdaptiveCard {
  return topLevelCard({
    fallbackText: shorten(text, FOLD_AFTER_CHARACTERS),
    body: [
      ...(options.speaker
        ? [
            {
              type: 'RichTextBlock' as const,
              inlines: [{ type: 'TextRun' as const, text: options.speaker, weight: 'bolder' as const }],
            },
          ]
        : []),
      plainParagraph(shorten(text, FOLD_AFTER_CHARACTERS)),
    ],
    actions: [
      {
        type: 'Action.ShowCard',
        title: 'Show all',
        card: { type: 'AdaptiveCard', body: [plainParagraph(text)] },
      },
    ],
  });
}
