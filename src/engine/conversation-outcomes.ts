/**
 * How a conversation ends: resolved (the user confirmed the fix), escalated to a technician, timed out, or ended
 * in Atera (the ticket was closed, resolved or reassigned there). Each end is one write — the new state, the
 * Atera note and the ticket change it implies — followed by the user's card and the thread; then the engine
 * opens the user's next queued ticket (`onEnded`). Ticket changes seen in Atera arrive through ticket-changes.ts.
 */
import { isLive, type ConversationRecord, type OutcomeKind } from '../ports/conversation-store.js';
import type { Ticket, TicketChange } from '../ports/ticket-desk.js';
import { note } from './atera-comment-text.js';
import type { EngineContext } from './engine-context.js';
import { rememberHandOver } from './handed-over.js';
import { describeReason, handoverComment, resolutionComment, summarise } from './handover-summary.js';
import { applyPendingChange } from './pending-ticket-change.js';
import type { TechniciansThread } from './technicians-thread.js';
import { chatEntry, withChatMessages, type UserChatOutbox } from './user-chat-outbox.js';

/** The parts an ending calls. */
export interface OutcomesParts {
  chatOutbox: Pick<UserChatOutbox, 'deliver'>;
  thread: Pick<TechniciansThread, 'updateCard' | 'post' | 'technicianMention'>;
}

export class ConversationOutcomes {
  private ended: (record: ConversationRecord) => Promise<void> = async () => {};

  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: OutcomesParts,
  ) {}

  /** What follows every ending, once its card and thread message are out (the engine opens the next ticket). */
  onEnded(listener: (record: ConversationRecord) => Promise<void>): void {
    this.ended = listener;
  }

  /** Each ending is one write that only applies to a live conversation, so carrying it out twice is harmless. */
  async carryOut(ticketId: number): Promise<ConversationRecord | null> {
    const record = await this.ctx.deps.store.getConversation(ticketId);
    const step = record?.pendingStep;
    if (!record || !step) return record;
    switch (step.kind) {
      case 'resolve':
        return this.resolve(ticketId, step.reason);
      case 'escalate':
        return this.endAs(ticketId, 'escalated', step.reason, step.note ?? null);
      case 'time_out':
        return this.endAs(ticketId, 'timed_out', 'time_limit', null);
    }
  }

  async resolve(ticketId: number, reason: string): Promise<ConversationRecord | null> {
    const now = this.ctx.now();
    const ended = await this.ctx.write(ticketId, (current) => {
      if (!current || !isLive(current.state)) return { result: null };
      // The summary reaches the chat once, from here, however the user confirmed (words or a button).
      const next = withChatMessages(
        {
          ...current,
          state: 'resolved',
          awaitingAnswer: false,
          answerLease: null,
          pendingStep: null,
          outcome: { kind: 'resolved', reason, at: now },
          pendingTicketChange: { status: 'Resolved' },
        },
        chatEntry(this.ctx, { card: 'resolution_summary' }),
      );
      return { conversation: next, comments: [this.ctx.internal(resolutionComment(next))], result: next };
    });
    if (!ended) return null;
    this.ctx.logFor(ended).info({ outcome: 'resolved', reason }, 'conversation ended');
    if (ended.chatOutbox?.length) await this.parts.chatOutbox.deliver(ticketId);
    await applyPendingChange(this.ctx, ended);
    await this.finish(ended, 'Resolved: the user confirmed the fix.');
    return ended;
  }

  async timeOut(ticketId: number): Promise<void> {
    await this.endAs(ticketId, 'timed_out', 'time_limit', null);
  }

  /** Hands the ticket to a technician: hand-over note, escalation change in Atera, the user told, thread @mention. */
  async endAs(
    ticketId: number,
    kind: Extract<OutcomeKind, 'escalated' | 'timed_out'>,
    reason: string,
    modelNote: string | null,
    by?: string,
  ): Promise<ConversationRecord | null> {
    const now = this.ctx.now();
    const { escalation } = this.ctx.settings;
    const ended = await this.ctx.write(ticketId, (current) => {
      if (!current || !isLive(current.state)) return { result: null };
      const change: TicketChange = {};
      if (escalation.priority) change.priority = escalation.priority;
      if (escalation.status && escalation.status !== current.ticket.status) change.status = escalation.status;
      let next: ConversationRecord = {
        ...current,
        state: kind,
        awaitingAnswer: false,
        answerLease: null,
        pendingStep: null,
        outcome: { kind, reason, at: now, ...(by ? { by } : {}) },
        pendingTicketChange: Object.keys(change).length > 0 ? change : null,
      };
      // The hand-over notice reaches the chat once, from here, however it was asked for.
      if (current.chatConversationId) {
        next = withChatMessages(next, chatEntry(this.ctx, { card: 'handover_notice' }));
      }
      return {
        conversation: next,
        comments: [this.ctx.internal(handoverComment(next, reason, modelNote))],
        result: next,
      };
    });
    if (!ended) return null;
    this.ctx.logFor(ended).info({ outcome: kind, reason }, 'conversation ended');
    if (ended.user && ended.chatConversationId) {
      // What the user writes afterwards still reaches the technician (see user-turns.ts).
      await rememberHandOver(this.ctx.deps.store, ended.user.id, {
        ticketId,
        conversationId: ended.chatConversationId,
        at: now,
      });
    }
    await this.parts.chatOutbox.deliver(ticketId);
    await applyPendingChange(this.ctx, ended);
    const s = summarise(ended, reason, modelNote);
    await this.finish(
      ended,
      [
        `${kind === 'timed_out' ? 'Timed out' : 'Escalated'}: ${describeReason(reason)}.`,
        `Problem: ${s.problem}`,
        `Tried: ${s.tried.join(' / ') || 'nothing yet'}`,
        `User reported: ${s.reported.join(' / ') || 'no reply'}`,
        `Suggested next step: ${s.nextStep}`,
      ].join('\n'),
      true,
    );
    return ended;
  }

  /**
   * The ticket was closed or resolved (`closedAs`), or reassigned to someone else, in Atera: the conversation ends
   * there, and the user is told. Null when it was no longer live.
   */
  async endInAtera(ticket: Ticket, closedAs: string | null): Promise<ConversationRecord | null> {
    const now = this.ctx.now();
    const reason = closedAs ? `ticket_${closedAs}_in_atera` : 'reassigned_in_atera';
    const ended = await this.ctx.write(ticket.id, (c) => {
      if (!c || !isLive(c.state)) return { result: null };
      const next: ConversationRecord = withChatMessages(
        {
          ...c,
          ticket,
          state: 'ended_in_atera',
          awaitingAnswer: false,
          answerLease: null,
          pendingStep: null,
          outcome: { kind: 'ended_in_atera', reason, at: now },
        },
        chatEntry(this.ctx, {
          notice: closedAs
            ? `Your ticket #${ticket.number} was ${closedAs} by your IT team, so I’ll stop here. Thanks!`
            : `A technician (${ticket.technician.fullName ?? 'from your IT team'}) is now handling ticket #${ticket.number} and will continue with you.`,
        }),
      );
      return {
        conversation: next,
        comments: [
          this.ctx.internal(
            note(
              closedAs
                ? `the ticket was set to ${ticket.status} in Atera, so the AI conversation ended.`
                : `the ticket was reassigned to ${ticket.technician.fullName ?? ticket.technician.email ?? 'a technician'} in Atera, so the AI conversation ended.`,
            ),
          ),
        ],
        result: next,
      };
    });
    if (!ended) return null;
    this.ctx.logFor(ended).info({ reason }, 'conversation ended in Atera');
    await this.parts.chatOutbox.deliver(ticket.id);
    await this.finish(
      ended,
      closedAs ? `Ended: ticket ${closedAs} in Atera.` : 'Ended: reassigned in Atera.',
    );
    return ended;
  }

  /** Common end: thread card and message, then what follows every ending. */
  private async finish(
    ended: ConversationRecord,
    threadText: string,
    mentionTechnician = false,
  ): Promise<void> {
    const { thread } = this.parts;
    this.ctx.deps.observer?.conversationEnded?.(ended);
    await thread.updateCard(ended);
    if (ended.thread) {
      const mention = mentionTechnician ? await thread.technicianMention(ended) : undefined;
      await thread.post(ended, { kind: 'text', text: threadText }, mention);
    }
    await this.ended(ended);
  }
}
