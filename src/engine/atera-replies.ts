/**
 * What technicians and end users write on the ticket in Atera comes back to the Teams chat, so the ticket and the
 * chat stay one conversation. Read only for a ticket whose modification time moved (the watcher's feed tells),
 * in a live or handed-over conversation: one Atera call.
 *
 * - A technician's public reply is shown to the user with the technician's name and pauses the AI (the technician
 *   has taken it); an internal note stays in Atera.
 * - An end user's reply by e-mail or the portal is shown ("You wrote by e-mail: …") and handled like a chat message
 *   (user-turns.ts), unless it repeats what they wrote in Teams.
 * - TicketZero's own comments (they carry its marker) never come back; comments that were on the ticket before
 *   TicketZero took it are context, not messages. Each comment becomes a turn whose inbound id is the comment's
 *   key, in the same write as the message for the chat: relayed once, across restarts and instances.
 */
import type { ConversationRecord, Turn } from '../ports/conversation-store.js';
import type { TicketComment } from '../ports/ticket-desk.js';
import { asTicketZeroError } from '../errors.js';
import { isTicketZeroComment } from './atera-comment-text.js';
import { isTalking } from './conversation-rules.js';
import type { EngineContext } from './engine-context.js';
import type { TechniciansThread } from './technicians-thread.js';
import { chatEntry, withChatMessages, type UserChatOutbox } from './user-chat-outbox.js';

/** Where a quoted earlier message starts in an e-mail reply. */
const QUOTED_REPLY =
  /^(?:On .{0,200} wrote:|Am .{0,200} schrieb .{0,100}:|Le .{0,200} a écrit\s?:|El .{0,200} escribió:|-{2,}\s*Original Message\s*-{2,}|From: .+)$/im;
const HANDED_OVER_RELAY_MS = 7 * 24 * 60 * 60_000;

/** A stable key for an Atera comment (Atera gives comments no id). */
export function commentKey(comment: TicketComment): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < comment.text.length; i++) {
    hash ^= comment.text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `atera:${comment.date}:${comment.author === 'end_user' ? 'u' : 't'}:${hash.toString(36)}`;
}

/** An e-mail reply without the quoted message below it. */
export function withoutQuotedReply(text: string): string {
  const at = text.search(QUOTED_REPLY);
  return (at > 0 ? text.slice(0, at) : text).trim();
}

function normalised(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Whether Atera comments on this conversation's ticket are brought to the chat. */
export function relaysAteraComments(record: ConversationRecord, now: Date): boolean {
  if (!record.chatConversationId) return false;
  if (['active', 'awaiting_confirmation', 'paused', 'taken_over'].includes(record.state)) return true;
  const handedOver = record.state === 'escalated' || record.state === 'timed_out';
  return (
    handedOver && !!record.outcome && now.getTime() - Date.parse(record.outcome.at) < HANDED_OVER_RELAY_MS
  );
}

/** The parts relaying calls. */
export interface AteraRepliesParts {
  chatOutbox: Pick<UserChatOutbox, 'deliver'>;
  thread: Pick<TechniciansThread, 'post' | 'updateCard'>;
  /** The user's reply by e-mail or the portal, handled like a chat message (user-turns.ts). */
  userReplied(ticketId: number, reply: { key: string; text: string; at: string }): Promise<void>;
}

export class AteraReplies {
  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: AteraRepliesParts,
  ) {}

  /**
   * Reads the ticket's comments (one Atera call) and relays what is new. False when Atera could not be read
   * (logged): the caller keeps the ticket's old snapshot, so the next poll that shows the ticket reads again.
   */
  async relay(record: ConversationRecord): Promise<boolean> {
    const log = this.ctx.logFor(record);
    let comments: TicketComment[];
    try {
      comments = await this.ctx.deps.desk.listComments(record.ticketId);
    } catch (error) {
      log.warn(
        { err: asTicketZeroError(error) },
        'Atera comments not read; read again when a poll shows the ticket',
      );
      return false;
    }
    const after = Date.parse(record.relayCommentsAfter ?? record.ticket.createdAt);
    const fresh = comments
      .filter((c) => Date.parse(c.date) > after && !isTicketZeroComment(c.text))
      .sort((a, b) => Date.parse(a.date) - Date.parse(b.date));
    for (const comment of fresh) {
      const key = commentKey(comment);
      if (record.turns.some((t) => t.inboundId === key)) continue;
      if (comment.internal) {
        log.debug({ key }, 'internal note in Atera: not for the user');
      } else if (comment.author === 'technician') {
        await this.technicianReply(record.ticketId, comment, key);
      } else {
        await this.parts.userReplied(record.ticketId, {
          key,
          text: withoutQuotedReply(comment.text),
          at: comment.date,
        });
      }
    }
    return true;
  }

  /** A technician answered on the ticket: the user sees it with their name, and the AI leaves it to them. */
  private async technicianReply(ticketId: number, comment: TicketComment, key: string): Promise<void> {
    const name = comment.authorName ?? comment.authorEmail ?? 'A technician';
    const text = comment.text.trim();
    if (!text) return;
    const saved = await this.ctx.write(ticketId, (c) => {
      if (!c || c.turns.some((t) => t.inboundId === key)) return { result: null };
      const turn: Turn = {
        seq: c.turns.length + 1,
        role: 'technician',
        text,
        at: this.ctx.now(),
        inboundId: key,
        authorName: name,
      };
      const aiTalking = isTalking(c.state);
      let next: ConversationRecord = withChatMessages(
        {
          ...c,
          turns: [...c.turns, turn],
          ...(aiTalking ? { state: 'paused' as const, awaitingAnswer: false, answerLease: null } : {}),
        },
        chatEntry(this.ctx, { turnSeq: turn.seq }),
      );
      if (aiTalking) {
        next = withChatMessages(
          next,
          chatEntry(this.ctx, {
            notice: `${name} from your IT team has answered on your ticket, so I’ll let them take it from here. Reply here and they will see it.`,
          }),
        );
      }
      return { conversation: next, result: { record: next, paused: aiTalking } };
    });
    if (!saved) return;
    this.ctx
      .logFor(saved.record)
      .info({ paused: saved.paused }, 'technician reply from Atera relayed to the user');
    await this.parts.chatOutbox.deliver(ticketId);
    await this.parts.thread.post(saved.record, {
      kind: 'text',
      text: `${name} replied on the ticket in Atera${saved.paused ? '; the AI is paused' : ''}:\n${text}`,
      literal: true,
    });
    if (saved.paused) await this.parts.thread.updateCard(saved.record);
  }
}

/** True when an e-mail reply only repeats what the user already wrote in the chat. */
export function repeatsChat(record: ConversationRecord, text: string): boolean {
  const said = normalised(text);
  if (!said) return true;
  return record.turns.some((t) => t.role === 'user' && normalised(t.text) === said);
}
