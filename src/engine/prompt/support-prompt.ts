/**
 * Builds the messages for one round of the support conversation: the system prompt (rules, ticket and user
 * context, reply format) and the conversation so far, fitted to a token budget so even a 4k-context local model
 * gets the whole request. Older rounds are shortened into a summary before the latest ones are touched.
 */
import { isTicketZeroComment } from '../atera-comment-text.js';
import type { ChatMessage } from '../../ports/model.js';
import type { Device, Ticket } from '../../ports/ticket-desk.js';
import type { EndUserProfile } from '../../ports/user-directory.js';
import {
  LANGUAGE_NAMES,
  detectLanguage,
  supportLanguageOf,
  type SupportLanguage,
} from './detect-language.js';
import { REPLY_FORMAT, SUPPORT_RULES } from './support-rules.js';
import { estimateTextTokens, estimateTokens } from './token-estimate.js';
import { neutraliseUntrustedText, wrapAsData } from './untrusted-text.js';

export { estimateTokens, estimateTextTokens };

export interface TranscriptEntry {
  role: 'user' | 'assistant' | 'technician';
  text: string;
}

export interface SupportPromptInput {
  ticket: Ticket;
  user: EndUserProfile | null;
  devices: Device[];
  transcript: TranscriptEntry[];
  roundsLeft: number;
  minutesLeft: number;
  /** Upper bound for the whole request (system prompt + conversation), in estimated tokens. */
  tokenBudget: number;
  /** The assistant has asked the user to confirm the fix. */
  awaitingConfirmation: boolean;
}

/** How much context the system prompt carries; lower detail when the budget is tight. */
interface Detail {
  descriptionChars: number;
  devices: number;
  profile: boolean;
}

const DETAIL_LEVELS: readonly Detail[] = [
  { descriptionChars: 1500, devices: 5, profile: true },
  { descriptionChars: 600, devices: 2, profile: true },
  { descriptionChars: 200, devices: 0, profile: true },
  { descriptionChars: 0, devices: 0, profile: false },
];

/** Share of the budget the system prompt may take before its context is shortened. */
const SYSTEM_SHARE = 0.55;
const SUMMARY_SHARE = 0.15;
const SUMMARY_LINE_CHARS = 100;

export function buildSupportPrompt(input: SupportPromptInput): ChatMessage[] {
  const language = pickLanguage(input);
  const budget = input.tokenBudget;

  let system = '';
  for (const detail of DETAIL_LEVELS) {
    system = systemPrompt(input, language, detail);
    if (estimateTokens([{ role: 'system', content: system }]) <= budget * SYSTEM_SHARE) break;
  }

  const kickoff = kickoffText(input);
  const fixed = estimateTokens([
    { role: 'system', content: system },
    { role: 'user', content: kickoff },
  ]);
  const history = fitHistory(input.transcript, Math.max(0, budget - fixed));

  const messages = mergeSameRole([
    { role: 'system', content: system },
    { role: 'user', content: history.summary ? `${kickoff}\n\n${history.summary}` : kickoff },
    ...history.messages,
  ]);
  return shrinkToBudget(messages, budget);
}

function pickLanguage(input: SupportPromptInput): { code: SupportLanguage | null; why: string } {
  const lastUser = [...input.transcript].reverse().find((t) => t.role === 'user' && t.text.trim() !== '');
  const fromChat = lastUser ? detectLanguage(lastUser.text) : null;
  if (fromChat) return { code: fromChat, why: 'the user writes in it' };
  const fromProfile = supportLanguageOf(input.user?.preferredLanguage);
  if (fromProfile) return { code: fromProfile, why: "the user's preferred language" };
  const fromTicket = detectLanguage(`${input.ticket.title} ${input.ticket.description}`);
  if (fromTicket) return { code: fromTicket, why: 'the ticket is written in it' };
  return { code: null, why: '' };
}

function systemPrompt(
  input: SupportPromptInput,
  language: { code: SupportLanguage | null; why: string },
  detail: Detail,
): string {
  const parts = [SUPPORT_RULES, ticketContext(input.ticket, detail)];
  const profile = userContext(input.user, detail);
  if (profile) parts.push(profile);
  const devices = rmmDevices(input.devices, detail);
  if (devices) parts.push(devices);
  parts.push(
    language.code
      ? `Language hint: ${language.code}. Reply in ${LANGUAGE_NAMES[language.code]} (${language.why}); if the user switches language, follow them.`
      : "Language hint: none. Reply in the language of the user's last message (English if unclear).",
  );
  parts.push(statusLine(input));
  parts.push(REPLY_FORMAT);
  return parts.join('\n\n');
}

function ticketContext(ticket: Ticket, detail: Detail): string {
  const reporter = `${ticket.endUser.firstName} ${ticket.endUser.lastName}`.trim() || 'unknown';
  const lines = [
    `Ticket #${ticket.number}: ${oneLine(ticket.title)}`,
    `Priority: ${ticket.priority}`,
    `Customer: ${ticket.customer.name}`,
    `Reported by: ${reporter}`,
  ];
  if (detail.descriptionChars > 0 && ticket.description.trim()) {
    lines.push(`Description: ${clipChars(ticket.description.trim(), detail.descriptionChars)}`);
  }
  // What was written on the ticket in Atera by people (TicketZero's own comments carry its marker and are left out).
  const written = [
    ['Latest comment by the user on the ticket', ticket.lastComments?.endUser],
    ['Latest comment by a technician on the ticket', ticket.lastComments?.technician],
  ] as const;
  for (const [label, text] of written) {
    if (detail.descriptionChars > 0 && text?.trim() && !isTicketZeroComment(text)) {
      lines.push(`${label}: ${clipChars(text.trim(), Math.ceil(detail.descriptionChars / 3))}`);
    }
  }
  return `The ticket (data):\n${wrapAsData('ticket', lines.join('\n'))}`;
}

function userContext(user: EndUserProfile | null, detail: Detail): string | null {
  if (!user) return null;
  const who = [user.displayName, user.jobTitle, user.department].filter(Boolean).join(', ');
  const lines = [`The user (from the company directory): ${neutraliseUntrustedText(oneLine(who))}`];
  if (detail.profile && user.preferredLanguage) lines.push(`Preferred language: ${user.preferredLanguage}`);
  if (detail.devices > 0 && user.managedDevices && user.managedDevices.length > 0) {
    const devices = user.managedDevices.slice(0, detail.devices).map((d) => {
      const os = [d.operatingSystem, d.osVersion].filter(Boolean).join(' ');
      return `- ${neutraliseUntrustedText(oneLine(d.name))} (${os}): compliance ${d.complianceState}`;
    });
    lines.push(`Managed devices (Intune):\n${devices.join('\n')}`);
  }
  return lines.join('\n');
}

function rmmDevices(devices: Device[], detail: Detail): string | null {
  if (detail.devices === 0 || devices.length === 0) return null;
  const lines = devices.slice(0, detail.devices).map((d) => {
    const seen = d.online ? 'online' : d.lastSeen ? `offline, last seen ${d.lastSeen}` : 'offline';
    return `- ${neutraliseUntrustedText(oneLine(d.name))} (${neutraliseUntrustedText(oneLine(d.os))}): ${seen}`;
  });
  return `The user's computers in the RMM:\n${lines.join('\n')}`;
}

function statusLine(input: SupportPromptInput): string {
  const lines = [
    `Conversation: ${input.roundsLeft} round(s) and about ${input.minutesLeft} minute(s) left before a technician takes over.`,
  ];
  if (input.roundsLeft <= 1) {
    lines.push(
      'This is the last round: if the problem is not solved now, tell the user a technician will follow up and use outcome=needs_human.',
    );
  }
  if (input.awaitingConfirmation) {
    lines.push(
      'You asked the user to confirm the problem is solved. If they confirm, use outcome=resolved_pending_confirmation; if it still fails, continue troubleshooting.',
    );
  }
  return lines.join('\n');
}

function kickoffText(input: SupportPromptInput): string {
  const name = input.user?.displayName?.split(' ')[0] || input.ticket.endUser.firstName || '';
  return `(TicketZero: the support chat about this ticket is open. Greet ${neutraliseUntrustedText(oneLine(name)) || 'the user'}, refer to the ticket, and give the first one or two steps or ask the first question.)`;
}

interface FittedHistory {
  messages: ChatMessage[];
  summary: string | null;
}

function toMessage(entry: TranscriptEntry, maxTokens: number): ChatMessage {
  const text = clipToTokens(entry.text.trim(), maxTokens);
  if (entry.role === 'user') return { role: 'user', content: wrapAsData('user_message', text) };
  if (entry.role === 'technician') {
    return {
      role: 'assistant',
      content: `(A human technician wrote to the user:)\n${neutraliseUntrustedText(text)}`,
    };
  }
  return { role: 'assistant', content: neutraliseUntrustedText(text) };
}

/** Newest messages first, each clipped to a share of what is available; what does not fit becomes a summary. */
function fitHistory(transcript: TranscriptEntry[], available: number): FittedHistory {
  const entries = transcript.filter((t) => t.text.trim() !== '');
  if (entries.length === 0) return { messages: [], summary: null };

  const all = entries.map((e, i) =>
    toMessage(e, i === entries.length - 1 ? available * 0.5 : available * 0.25),
  );
  if (estimateTokens(all) <= available) return { messages: all, summary: null };

  const summaryBudget = Math.floor(available * SUMMARY_SHARE);
  const room = available - summaryBudget;
  const kept: ChatMessage[] = [];
  let used = 0;
  let firstKept = entries.length;
  for (let i = entries.length - 1; i >= 0; i--) {
    const message = all[i] as ChatMessage;
    const cost = estimateTokens([message]);
    if (used + cost > room) {
      if (kept.length === 0) {
        // The newest message always goes in, shortened to the room there is.
        kept.unshift(toMessage(entries[i] as TranscriptEntry, Math.max(20, room - 20)));
        firstKept = i;
      }
      break;
    }
    kept.unshift(message);
    used += cost;
    firstKept = i;
  }
  return { messages: kept, summary: summarise(entries.slice(0, firstKept), summaryBudget) };
}

function summarise(dropped: TranscriptEntry[], budget: number): string | null {
  if (dropped.length === 0) return null;
  const lines: string[] = [];
  let used =
    estimateTextTokens('Earlier in this chat (shortened, oldest first):\n<earlier_chat>\n</earlier_chat>') +
    20;
  for (let i = dropped.length - 1; i >= 0; i--) {
    const entry = dropped[i] as TranscriptEntry;
    const who = entry.role === 'user' ? 'user' : entry.role === 'technician' ? 'technician' : 'you';
    const line = `- ${who}: ${clipChars(oneLine(entry.text), SUMMARY_LINE_CHARS)}`;
    const cost = estimateTextTokens(line) + 1;
    if (used + cost > budget) break;
    lines.unshift(line);
    used += cost;
  }
  const omitted = dropped.length - lines.length;
  const head = omitted > 0 ? `(${omitted} earlier message(s) not shown)\n` : '';
  return `Earlier in this chat (shortened, oldest first):\n${wrapAsData('earlier_chat', head + lines.join('\n'))}`;
}

function mergeSameRole(messages: ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    const last = out.at(-1);
    if (last && last.role === m.role && m.role !== 'system') last.content = `${last.content}\n\n${m.content}`;
    else out.push({ ...m });
  }
  return out;
}

/** Last resort when the pieces above still exceed the budget: shorten the longest conversation message. */
function shrinkToBudget(messages: ChatMessage[], budget: number): ChatMessage[] {
  for (let attempt = 0; attempt < 30 && estimateTokens(messages) > budget; attempt++) {
    const candidates = messages.slice(1).filter((m) => estimateTextTokens(m.content) > 40);
    if (candidates.length === 0) break;
    const longest = candidates.reduce((a, b) =>
      estimateTextTokens(b.content) > estimateTextTokens(a.content) ? b : a,
    );
    const over = estimateTokens(messages) - budget;
    longest.content = clipToTokens(
      longest.content,
      Math.max(30, estimateTextTokens(longest.content) - over - 10),
    );
  }
  return messages;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function clipChars(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}

const CLIP_MARK = ' […] ';

/** Keeps the start and the end of a long text (where people put the question and the error message). */
function clipToTokens(text: string, maxTokens: number): string {
  const limit = Math.floor(maxTokens);
  if (estimateTextTokens(text) <= limit) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (estimateTextTokens(headAndTail(text, mid)) <= limit) low = mid;
    else high = mid - 1;
  }
  return headAndTail(text, low);
}

function headAndTail(text: string, keep: number): string {
  if (keep >= text.length) return text;
  const head = Math.ceil(keep * 0.7);
  return `${text.slice(0, head)}${CLIP_MARK}${text.slice(text.length - (keep - head))}`;
}
