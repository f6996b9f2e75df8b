/**
 * Plain text as Atera stores it in a comment's `Comment` field: the technician's rich-text editor (and the customer
 * portal) save `<p>` paragraphs with `<br>` line breaks; an e-mail reply keeps the mail's own HTML body, usually a
 * `<div dir="ltr">` and, at its end, the previous message quoted under an "On … wrote:" line.
 * Text is escaped the way a browser serialises it (`&`, `<`, `>`, no-break spaces), so `&lt;b&gt;` is what a typed
 * `<b>` looks like. Written for the sandbox alone: it must not share code with the client that reads it back.
 */

/** What a browser's innerHTML does to a text node. */
function escapeText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\u00a0/g, '&nbsp;');
}

function paragraphs(text: string): string[] {
  return text
    .replace(/\r\n?/g, '\n')
    .trim()
    .split(/\n[ \t]*\n+/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => escapeText(p).replace(/\n/g, '<br>'));
}

/** A reply typed in Atera's editor (technician) or the customer portal (end user). */
export function editorHtml(text: string): string {
  return paragraphs(text)
    .map((p) => `<p>${p}</p>`)
    .join('');
}

export interface QuotedMessage {
  /** Who wrote the quoted message, e.g. `Dana Tech`. */
  name: string;
  email: string | null;
  /** When it was written (epoch ms, Atera's clock); shown in UTC. */
  at: number;
  /** The quoted message's HTML as it was stored. */
  html: string;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Tue, 24 Mar 2026 at 09:12` (UTC), the way a mail client dates the message it quotes. */
function mailDate(ms: number): string {
  const d = new Date(ms);
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${WEEKDAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} at ${hh}:${mm}`;
}

/** An e-mail reply's body as Atera keeps it, with the previous message quoted at its end when given. */
export function emailHtml(text: string, quoted?: QuotedMessage): string {
  const body = `<div dir="ltr">${paragraphs(text).join('<br><br>')}</div>`;
  if (!quoted) return body;
  const who = escapeText(quoted.email ? `${quoted.name} <${quoted.email}>` : quoted.name);
  return (
    `${body}<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">` +
    `On ${mailDate(quoted.at)}, ${who} wrote:<br></div>` +
    '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">' +
    `${quoted.html}</blockquote></div>`
  );
}
