/**
 * Each ticket's thread in the technicians' channel: a card that shows the conversation's state (updated as it
 * changes), the user's and the assistant's words mirrored literally, notes for the technicians, and an @mention
 * of the ticket's technician when it is handed over. Failures here are logged; they never stop a conversation.
 */
import type { CardSpec, OutgoingMessage } from '../ports/chat.js';
import type { ConversationRecord } from '../ports/conversation-store.js';
import { asTicketZeroError } from '../errors.js';
import type { EngineContext } from './engine-context.js';
import { summarise } from './handover-summary.js';
import { ticketSummary } from './ticket-summary.js';

/** Thread conversation id (with its `;messageid=`) → ticket id, for commands said in a ticket's thread. */
const THREAD_INDEX = 'engine.ticket-threads';

export class TechniciansThread {
  constructor(private readonly ctx: EngineContext) {}

  card(record: ConversationRecord): CardSpec {
    const summary =
      record.outcome && record.state !== 'resolved'
        ? summarise(record, record.outcome.reason).nextStep
        : record.state === 'resolved'
          ? 'Resolved: the user confirmed the fix.'
          : null;
    return {
      kind: 'ticket_thread',
      ticket: ticketSummary(record, this.ctx.settings.maxRounds),
      summary,
      lastProvider: record.lastProvider,
    };
  }

  /** Opens the ticket's thread once a technicians' channel is set; the record with its thread, or null. */
  async ensure(record: ConversationRecord): Promise<ConversationRecord | null> {
    if (record.thread) return record;
    try {
      if (!(await this.ctx.deps.technicians.isConfigured())) return null;
      const thread = await this.ctx.deps.technicians.openThread(this.card(record));
      await this.ctx.deps.store.setValue(THREAD_INDEX, thread.threadId, record.ticketId);
      return await this.ctx.write(record.ticketId, (c) =>
        c ? { conversation: { ...c, thread }, result: { ...c, thread } } : { result: null },
      );
    } catch (error) {
      this.ctx
        .logFor(record)
        .warn({ err: asTicketZeroError(error) }, 'could not open the technicians’ thread');
      return null;
    }
  }

  /** The ticket whose thread this is (ended tickets too), or null. */
  async ticketIdOf(threadConversationId: string): Promise<number | null> {
    return this.ctx.deps.store.getValue<number>(THREAD_INDEX, threadConversationId);
  }

  async updateCard(record: ConversationRecord): Promise<void> {
    if (!record.thread) return;
    try {
      await this.ctx.deps.technicians.updateCard(record.thread, this.card(record));
    } catch (error) {
      this.ctx.logFor(record).warn({ err: asTicketZeroError(error) }, 'thread card update failed');
    }
  }

  /** A turn of the 1:1 chat, shown literally with its speaker and round. */
  async mirror(record: ConversationRecord, who: 'user' | 'assistant', text: string): Promise<void> {
    if (!record.thread) return;
    const name = who === 'user' ? (record.user?.displayName ?? 'User') : 'TicketZero';
    await this.post(record, {
      kind: 'text',
      text,
      speaker: `${name} (round ${record.rounds})`,
      literal: true,
    });
  }

  async post(
    record: ConversationRecord,
    message: OutgoingMessage,
    mention?: { id: string; name: string },
  ): Promise<void> {
    if (!record.thread) return;
    try {
      await this.ctx.deps.technicians.post(record.thread, message, mention);
    } catch (error) {
      this.ctx.logFor(record).warn({ err: asTicketZeroError(error) }, 'thread post failed');
    }
  }

  /** Posts a note, opening the thread first if the ticket has none yet. */
  async tell(record: ConversationRecord, text: string): Promise<void> {
    const withThread = await this.ensure(record);
    if (withThread) await this.post(withThread, { kind: 'text', text });
  }

  /** The ticket's Atera technician as a Teams mention, when the directory knows their Teams id. */
  async technicianMention(record: ConversationRecord): Promise<{ id: string; name: string } | undefined> {
    const email = record.ticket.technician.email;
    if (!email) return undefined;
    const found = await this.ctx.deps.technicianDirectory.find(email).catch(() => []);
    const tech = found[0];
    return tech?.userId ? { id: tech.userId, name: tech.name } : undefined;
  }
}
