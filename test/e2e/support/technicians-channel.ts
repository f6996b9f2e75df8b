/**
 * What the technicians see in Teams and what reached Atera, read from the sandboxes: the ticket's thread in the
 * technicians' channel (its card, updated in place, and the replies under it), the end user's 1:1 chat and the
 * Atera ticket's comments. Used by the technicians' end-to-end suites.
 */
import { expect } from 'vitest';
import type { RecordedActivity } from '../../../src/sandboxes/connector/connector-sandbox.js';
import type { TeamsChannelRef } from '../../../src/sandboxes/connector/teams-activities.js';
import { TEAMS_USERS } from '../../../src/sandboxes/local-stack.js';
import { describeActivity, eventually, type RunningTicketZero } from './running-ticketzero.js';

export interface SandboxTicket {
  id: number;
  number: string;
}

export function newTicket(
  r: RunningTicketZero,
  overrides: Partial<{ title: string; description: string; email: string; priority: string }> = {},
): SandboxTicket {
  const dto = r.stack.atera.createTicket({
    title: overrides.title ?? 'VPN drops every few minutes',
    description: overrides.description ?? 'Since this morning the VPN disconnects every five minutes.',
    endUserEmail: overrides.email ?? TEAMS_USERS.megan.email,
    endUserFirstName: 'Megan',
    endUserLastName: 'Bowen',
    customerId: 101,
    priority: overrides.priority ?? 'High',
  });
  return { id: dto.TicketID, number: String(dto.TicketNumber ?? dto.TicketID) };
}

export interface TicketThread {
  /** The thread's conversation id, `19:…@thread.tacv2;messageid=<root>`. */
  conversationId: string;
  /** The root message (the ticket card) id. */
  rootId: string;
  /** Where a technician replies in this thread (for `connector.teamMemberSays`). */
  where: TeamsChannelRef;
}

/** The thread TicketZero opened for a ticket in the technicians' channel (waits for it). */
export async function threadOf(
  r: RunningTicketZero,
  ticket: SandboxTicket,
  channel: { teamId: string; channelId: string },
): Promise<TicketThread> {
  const root = await r.connector.waitFor(
    (a) =>
      a.operation === 'create' &&
      a.conversationId.startsWith(`${channel.channelId};messageid=`) &&
      JSON.stringify(a.attachments ?? []).includes(`Ticket #${ticket.number}:`),
    10_000,
  );
  const rootId = root.conversationId.split(';messageid=')[1]!;
  return {
    conversationId: root.conversationId,
    rootId,
    where: { teamId: channel.teamId, channelId: channel.channelId, threadId: rootId },
  };
}

interface CardJson {
  body?: Array<{ type?: string; text?: string; facts?: Array<{ title: string; value: string }> }>;
  actions?: Array<{ type?: string; verb?: string; title?: string }>;
}

/** The thread's card as the channel shows it now (the latest version of the root message). */
export function threadCard(r: RunningTicketZero, thread: TicketThread): CardJson {
  const root = r.connector
    .conversation(thread.conversationId)
    ?.messages.find((m) => m.activityId === thread.rootId);
  const content = (root?.attachments?.[0] as { content?: CardJson } | undefined)?.content;
  if (!content) throw new Error(`the thread ${thread.conversationId} has no card`);
  return content;
}

/** The card's state line ("AI is talking with the user", "Paused by a technician", …). */
export function cardState(card: CardJson): string {
  return card.body?.[1]?.text ?? '';
}

export function cardFact(card: CardJson, title: string): string | undefined {
  const facts = card.body?.find((b) => b.type === 'FactSet')?.facts ?? [];
  return facts.find((f) => f.title === title)?.value;
}

export function cardVerbs(card: CardJson): string[] {
  return (card.actions ?? []).map((a) => a.verb ?? '');
}

/** Waits until the thread card shows `state`. */
export async function cardShows(
  r: RunningTicketZero,
  thread: TicketThread,
  state: string,
): Promise<CardJson> {
  return eventually(() => {
    const card = threadCard(r, thread);
    expect(cardState(card)).toBe(state);
    return card;
  });
}

/** The replies under the thread's card, as text (folded texts and cards by their kind). */
export function threadReplies(r: RunningTicketZero, thread: TicketThread): RecordedActivity[] {
  return (r.connector.conversation(thread.conversationId)?.messages ?? []).filter(
    (m) => m.activityId !== thread.rootId,
  );
}

export function threadTexts(r: RunningTicketZero, thread: TicketThread): string[] {
  return threadReplies(r, thread).map(describeActivity);
}

/** Waits for a reply in the thread whose text matches. */
export async function threadReply(
  r: RunningTicketZero,
  thread: TicketThread,
  pattern: RegExp,
): Promise<RecordedActivity> {
  return eventually(() => {
    const found = threadReplies(r, thread).find((m) => pattern.test(describeActivity(m)));
    expect(
      found,
      `a reply matching ${pattern} in the thread; seen:\n${threadTexts(r, thread).join('\n')}`,
    ).toBeDefined();
    return found!;
  });
}

/** The 1:1 chat TicketZero opened with a user (waits for it and for the first answer after the card). */
export async function chatWith(r: RunningTicketZero, aadObjectId: string): Promise<string> {
  const first = await r.connector.waitFor((a) => {
    const c = r.connector.conversation(a.conversationId);
    return c?.kind === 'personal' && c.members.some((m) => m.aadObjectId === aadObjectId);
  }, 10_000);
  await chatShows(r, first.conversationId, 2);
  return first.conversationId;
}

/** The user's 1:1 chat as text; waits until it holds at least `count` messages. */
export async function chatShows(
  r: RunningTicketZero,
  conversationId: string,
  count: number,
): Promise<string[]> {
  return eventually(() => {
    const texts = (r.connector.conversation(conversationId)?.messages ?? []).map(describeActivity);
    expect(texts.length).toBeGreaterThanOrEqual(count);
    return texts;
  });
}

export function comments(r: RunningTicketZero, ticketId: number): Array<{ text: string; internal: boolean }> {
  return r.stack.atera.comments(ticketId).map((c) => ({
    text: String(c.Comment ?? c.CommentText ?? '')
      .replace(/<br>/g, '\n')
      .replace(/&#39;/g, "'"),
    internal: c.IsInternal === true,
  }));
}

/** Where a part of a folded comment starts: its time (src/engine/atera-comment-text.ts, `foldComments`). */
const FOLDED_PART = /\n\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · )/;

/** The turns and notes on the ticket: a folded comment (a round, a backlog) gives each of its parts, time removed. */
export function commentParts(
  r: RunningTicketZero,
  ticketId: number,
): Array<{ text: string; internal: boolean }> {
  return comments(r, ticketId).flatMap((c) =>
    c.text.split(FOLDED_PART).map((part) => ({
      text: part.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · /, ''),
      internal: c.internal,
    })),
  );
}

/** Waits for an Atera comment on the ticket whose text matches; returns it. */
export async function ateraComment(
  r: RunningTicketZero,
  ticketId: number,
  pattern: RegExp,
): Promise<{ text: string; internal: boolean }> {
  return eventually(() => {
    const found = comments(r, ticketId).find((c) => pattern.test(c.text));
    expect(found, `an Atera comment on ticket ${ticketId} matching ${pattern}`).toBeDefined();
    return found!;
  });
}
