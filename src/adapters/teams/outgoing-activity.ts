/** OutgoingMessage (what the engine says) → the message activity Teams shows. */
import type { Activity } from 'botbuilder';
import type { Mention, OutgoingMessage } from '../../ports/chat.js';
import { escapeCardMarkdown } from './cards/card-text.js';
import { FOLD_AFTER_CHARACTERS, longTextCard } from './cards/long-text-card.js';
import { cardAttachment, renderCard } from './cards/render-card.js';
import type { ThreadCardOptions } from './cards/ticket-thread-card.js';

export interface ActivityOptions extends ThreadCardOptions {
  /** Fold texts longer than FOLD_AFTER_CHARACTERS into a card with "Show all" (channel threads). */
  foldLongText?: boolean;
  mention?: Mention;
}

export function toActivity(message: OutgoingMessage, options: ActivityOptions = {}): Partial<Activity> {
  const mention = options.mention ? mentionOf(options.mention) : null;
  if (message.kind === 'card') {
    return {
      type: 'message',
      ...(mention ? { text: mention.text, entities: [mention.entity] } : {}),
      attachments: [cardAttachment(renderCard(message.card, options))],
    };
  }
  if (options.foldLongText && message.text.length > FOLD_AFTER_CHARACTERS) {
    return {
      type: 'message',
      ...(mention ? { text: mention.text, entities: [mention.entity] } : {}),
      attachments: [
        cardAttachment(longTextCard(message.text, message.speaker ? { speaker: message.speaker } : {})),
      ],
    };
  }
  const speaker = message.speaker ? `**${escapeCardMarkdown(message.speaker)}:** ` : '';
  return {
    type: 'message',
    textFormat: 'markdown',
    text: `${mention ? `${mention.text} ` : ''}${speaker}${message.literal ? escapeCardMarkdown(message.text) : message.text}`,
    ...(mention ? { entities: [mention.entity] } : {}),
  };
}

/** A Teams mention: `<at>Name</at>` in the text and a mention entity naming the same person. */
export function mentionOf(who: Mention): {
  text: string;
  entity: { type: 'mention'; text: string; mentioned: { id: string; name: string } };
} {
  const name = who.name.replace(/[<>]/g, '');
  const text = `<at>${name}</at>`;
  return { text, entity: { type: 'mention', text, mentioned: { id: who.id, name } } };
}
