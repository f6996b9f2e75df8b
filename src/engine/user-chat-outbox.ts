/**
 * Messages to the end user's 1:1 chat: recorded first (in the same store write as the turn or the state change
 * that implies them), then sent in order, each removed from the record once Teams took it. A process that dies in
 * between sends the recorded message after its restart — the stored text, never a new model call.
 *
 * Teams has no idempotent send, so a crash in the very moment between Teams taking a message and the record
 * saying so sends that message again: at least once, never lost, never a different answer.
 */
import type { CardSpec, OutgoingMessage } from '../ports/chat.js';
import type { ChatOutboxEntry, ConversationRecord } from '../ports/conversation-store.js';
import { asTicketZeroError } from '../errors.js';
import { chatLeaseHolder, newChatLease } from './chat-lease.js';
import type { EngineContext } from './engine-context.js';
import { summarise } from './handover-summary.js';
import { KeyedMutex } from './keyed-mutex.js';
import { ticketSummary } from './ticket-summary.js';

/** A recorded message is retried by the tick once it is this old (its writer may have died or failed). */
export const CHAT_RETRY_AFTER_MS = 10_000;

export const CONFIRM_QUESTION = 'Is the problem fixed?';

let counter = 0;

/** A new entry for the record's chat outbox. */
export function chatEntry(ctx: EngineContext, body: ChatOutboxEntry['body']): ChatOutboxEntry {
  counter = (counter + 1) % 1_000_000;
  return { id: `m-${Date.now().toString(36)}-${counter.toString(36)}`, at: ctx.now(), body };
}

/** The record with `entries` added to its chat outbox. */
export function withChatMessages(
  record: ConversationRecord,
  ...entries: ChatOutboxEntry[]
): ConversationRecord {
  return { ...record, chatOutbox: [...(record.chatOutbox ?? []), ...entries] };
}

export function userFacingReason(reason: string): string {
  switch (reason) {
    case 'user_asked':
      return 'You asked for a technician.';
    case 'all_providers_failed':
      return 'The assistant is not available right now.';
    case 'round_limit':
    case 'time_limit':
    case 'still_broken_at_limit':
      return 'We have reached the limit of what I can do in this chat.';
    case 'technician':
      return 'A technician is taking over your ticket.';
    default:
      return 'This needs a technician.';
  }
}

/** What an entry says, built from the record as it is now (cards show the current state). */
export function renderChatEntry(
  record: ConversationRecord,
  entry: ChatOutboxEntry,
  maxRounds: number,
): OutgoingMessage | null {
  const body = entry.body;
  if ('notice' in body) return { kind: 'text', text: body.notice };
  if ('turnSeq' in body) {
    const turn = record.turns.find((t) => t.seq === body.turnSeq);
    if (!turn) return null;
    return turn.role === 'technician'
      ? { kind: 'text', text: turn.text, speaker: turn.authorName ?? 'Technician' }
      : { kind: 'text', text: turn.text };
  }
  const ticket = ticketSummary(record, maxRounds);
  let card: CardSpec;
  switch (body.card) {
    case 'confirm_fix':
      card = { kind: 'confirm_fix', ticket, question: CONFIRM_QUESTION };
      break;
    case 'resolution_summary': {
      const s = summarise(record, 'resolved');
      card = {
        kind: 'resolution_summary',
        ticket,
        problem: s.problem,
        steps: s.tried,
        result: 'Fixed — you confirmed it works. Your ticket is now resolved.',
      };
      break;
    }
    case 'handover_notice':
      card = {
        kind: 'handover_notice',
        ticket,
        reason: userFacingReason(record.outcome?.reason ?? ''),
        nextSteps:
          'A technician has your ticket and everything we tried, so you won’t have to repeat yourself. They will contact you here or by phone.',
      };
      break;
  }
  return { kind: 'card', card };
}

export class UserChatOutbox {
  /** One delivery per ticket at a time in this process, so no entry is sent twice by two callers. */
  private readonly delivering = new KeyedMutex();

  constructor(private readonly ctx: EngineContext) {}

  /**
   * Sends the ticket's recorded messages in order. A failure leaves the rest recorded (the tick tries again);
   * it is logged, never thrown. `olderThanMs` only sends entries at least that old (another caller's are fresh).
   * On a store shared with other instances, the sender holds the ticket's chat lease (see chat-lease.ts: taken by
   * the write that recorded the message, or here with one store write), so another instance's tick does not send
   * the same message while this one's send is still under way.
   */
  async deliver(ticketId: number, options: { olderThanMs?: number } = {}): Promise<void> {
    await this.delivering.run(ticketId, async () => {
      const { deps } = this.ctx;
      const shared = this.ctx.settings.exclusiveStore === false;
      let record = await deps.store.getConversation(ticketId);
      const nowMs = this.ctx.clock().getTime();
      if (
        shared &&
        record?.chatOutbox?.length &&
        this.oldEnough(record.chatOutbox[0]!, options) &&
        chatLeaseHolder(record, this.ctx.settings, nowMs) !== 'here'
      ) {
        record = await this.takeLease(ticketId);
      }
      for (;;) {
        const entry = record?.chatOutbox?.[0];
        if (!record || !entry || !this.oldEnough(entry, options)) return;
        const message = record.chatConversationId
          ? renderChatEntry(record, entry, this.ctx.settings.maxRounds)
          : null;
        if (message && record.chatConversationId) {
          try {
            await this.ctx.sendToUser(record, record.chatConversationId, message);
          } catch (error) {
            this.ctx
              .logFor(record)
              .warn(
                { err: asTicketZeroError(error), entryId: entry.id },
                'message to the user not delivered yet; kept and retried',
              );
            return;
          }
        } else {
          this.ctx
            .logFor(record)
            .warn({ entryId: entry.id }, 'message to the user dropped: no chat or nothing to say');
        }
        record = await this.ctx.write(ticketId, (c) => {
          if (!c) return { result: null };
          const rest = (c.chatOutbox ?? []).filter((e) => e.id !== entry.id);
          // The lease is renewed for the next entry, and let go with the last one.
          const lease = shared
            ? { chatLease: rest.length ? newChatLease(this.ctx.settings, this.ctx.clock().getTime()) : null }
            : {};
          const next: ConversationRecord = { ...c, chatOutbox: rest, ...lease };
          return { conversation: next, result: next };
        });
      }
    });
  }

  private oldEnough(entry: ChatOutboxEntry, options: { olderThanMs?: number }): boolean {
    if (options.olderThanMs === undefined) return true;
    return this.ctx.clock().getTime() - Date.parse(entry.at) >= options.olderThanMs;
  }

  /** The record with this instance's chat lease, or null while another live instance holds it. */
  private async takeLease(ticketId: number): Promise<ConversationRecord | null> {
    const { settings } = this.ctx;
    const now = this.ctx.clock().getTime();
    const record = await this.ctx.write(ticketId, (c) => {
      if (!c?.chatOutbox?.length || chatLeaseHolder(c, settings, now) === 'elsewhere')
        return { result: null };
      const next: ConversationRecord = { ...c, chatLease: newChatLease(settings, now) };
      return { conversation: next, result: next };
    });
    if (!record) this.ctx.log.debug({ ticketId }, 'chat outbox is being sent by another instance');
    return record;
  }
}
