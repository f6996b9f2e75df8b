/**
 * Text from the ticket and the user goes to the model as data, never as instructions: it is wrapped in tags the
 * system prompt names, and anything inside it that looks like those tags or like a control block is defused.
 */

/** The tags that delimit data in the prompt. */
export const DATA_TAGS = [
  'ticket',
  'ticket_description',
  'user_message',
  'technician_message',
  'earlier_chat',
] as const;
export type DataTag = (typeof DATA_TAGS)[number];

const TAG_LOOKALIKE = new RegExp(`<\\s*(/?)\\s*(${DATA_TAGS.join('|')})\\b`, 'gi');

/** Defuses control-block and data-tag lookalikes so user text cannot end its own data block or speak for the model. */
export function neutraliseUntrustedText(text: string): string {
  return text
    .replace(/\[(?=\[)/g, '[ ')
    .replace(/\](?=\])/g, '] ')
    .replace(TAG_LOOKALIKE, (_m, slash: string, name: string) => `‹${slash}${name}`)
    .replaceAll('\u0000', '');
}

export function wrapAsData(tag: DataTag, text: string): string {
  return `<${tag}>\n${neutraliseUntrustedText(text)}\n</${tag}>`;
}
