/**
 * The text of an inbound Teams message as the engine should see it: markup removed, mentions of the bot taken
 * out, other mentions kept as "@Name", control characters dropped, bounded in length.
 */
import type { Activity } from 'botbuilder';

/** Longer messages are cut here (Teams allows about 28 KB; nobody types a useful 8,000-character reply). */
export const MAX_MESSAGE_CHARACTERS = 8000;

export interface MentionEntity {
  type: 'mention';
  text?: string;
  mentioned?: { id?: string; name?: string };
}

export function mentionEntities(activity: Partial<Activity>): MentionEntity[] {
  return (activity.entities ?? []).filter(
    (e): e is MentionEntity & typeof e => e.type === 'mention' && typeof e === 'object',
  );
}

export function mentionsBot(activity: Partial<Activity>, botId: string): boolean {
  return mentionEntities(activity).some((m) => m.mentioned?.id === botId);
}

/** Other people mentioned, without the bot. */
export function otherMentions(activity: Partial<Activity>, botId: string): { id: string; name: string }[] {
  return mentionEntities(activity)
    .filter((m) => m.mentioned?.id && m.mentioned.id !== botId)
    .map((m) => ({ id: m.mentioned!.id!, name: m.mentioned!.name ?? stripTags(m.text ?? '') }));
}

export interface CleanText {
  text: string;
  /** The text was cut to MAX_MESSAGE_CHARACTERS. */
  truncated: boolean;
  /** The text looked like binary data and was left out. */
  unreadable: boolean;
}

export function cleanMessageText(activity: Partial<Activity>, botId: string): CleanText {
  let text = typeof activity.text === 'string' ? activity.text : '';
  for (const mention of mentionEntities(activity)) {
    if (!mention.text) continue;
    const replacement =
      mention.mentioned?.id === botId ? ' ' : `@${mention.mentioned?.name ?? stripTags(mention.text)}`;
    text = text.split(mention.text).join(replacement);
  }
  text = decodeEntities(stripTags(text.replace(/<br\s*\/?>/gi, '\n').replace(/<\/p>\s*<p>/gi, '\n')));
  if (looksBinary(text)) return { text: '', truncated: false, unreadable: true };
  text = text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (text.length > MAX_MESSAGE_CHARACTERS) {
    return { text: text.slice(0, MAX_MESSAGE_CHARACTERS), truncated: true, unreadable: false };
  }
  return { text, truncated: false, unreadable: false };
}

function stripTags(html: string): string {
  return html.replace(/<\/?[a-zA-Z][^<>]*>/g, '');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X'))
      return safeCodePoint(parseInt(name.slice(2), 16), whole);
    if (name.startsWith('#')) return safeCodePoint(parseInt(name.slice(1), 10), whole);
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function safeCodePoint(code: number, fallback: string): string {
  return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : fallback;
}

/** Mostly control characters or U+FFFD replacement characters: someone pasted or sent binary data. */
function looksBinary(text: string): boolean {
  if (text.length < 16) return false;
  let odd = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code === 0xfffd || (code < 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09)) odd += 1;
  }
  return odd / text.length > 0.1;
}
