/**
 * Text that comes from outside (ticket titles, user names, AI summaries of what a user wrote) is shown in cards
 * as literal text: Markdown and link syntax are escaped so nobody can dress up a link or formatting in a
 * technician's view.
 */

/** Characters Adaptive Card Markdown (a CommonMark subset, as Teams renders it) gives a meaning to. */
const MARKDOWN_SPECIALS = /[\\`*_~[\](){}#+!|<>]/g;

export function escapeCardMarkdown(text: string): string {
  return (
    stripControlCharacters(text)
      .replace(MARKDOWN_SPECIALS, (ch) => `\\${ch}`)
      // A line starting "1. " or "- " would become a list item.
      .replace(/^(\s*)(\d+)\.(\s)/gm, '$1$2\\.$3')
      .replace(/^(\s*)-(\s)/gm, '$1\\-$2')
  );
}

/** Drops control characters (except newline and tab) that have no business in a card. */
export function stripControlCharacters(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

/** Shortens to `max` characters on a word boundary where one is near, ending with an ellipsis. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const lastSpace = cut.lastIndexOf(' ');
  return `${(lastSpace > max * 0.6 ? cut.slice(0, lastSpace) : cut).trimEnd()}…`;
}
