/**
 * How a conversation ends: resolved (the user confirmed the fix), escalated to a technician, timed out, or ended
 * in Atera (the ticket was closed, resolved or reassigned there). Each end is one write — the new state, the
 * Atera note and the ticket change it implies — followed by the user's card, the thread, and the user's next
 * queued ticket.
 */
import { isLive, type ConversationRecord, type OutcomeKind } from '../ports/conversation-store.js';
import type { Ticket, TicketChange } from '../ports/ticket-desk.js';
import { note } from './atera-comment-text.js';
import type { EngineContext } from './engine-context.js';
import type { EngineParts, OutcomesPart } from './engine-parts.js';
import { rememberHandOver } from './handed-over.js';
import { describeReason, handoverComment, resolutionComment, summarise } from './handover-summary.js';
import { applyPendingChange } from './pending-ticket-change.js';
import { relaysAteraComments } from './atera-replies.js';
import { reassignedToSomeoneElse, rememberTechnicianOf } from './ticket-technician.js';
import { chatEntry, withChatMessages } from './user-chat-outbox.js';

export class ConversationOutcomes implements OutcomesPart {
  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: EngineParts,
  ) {}

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

  async escalate(ticketId: number, reason: string, modelNote?: string | null, by?: string): Promise<void> {
    await this.endAs(ticketId, 'escalated', reason, modelNote ?? null, by);
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

  /** The watcher saw the ticket change in Atera: closed, resolved or reassigned there ends the conversation. */
  async onTicketChanged(ticket: Ticket): Promise<void> {
    await rememberTechnicianOf(this.ctx, ticket);
    const own = this.ctx.settings.ownTechnician;
    const record = await this.ctx.deps.store.getConversation(ticket.id);
    if (!record) return;
    const moved =
      ticket.modifiedAt !== record.ticket.modifiedAt ||
      (ticket.commentedAt ?? null) !== (record.ticket.commentedAt ?? null);
    const relays = relaysAteraComments(record, this.ctx.clock());
    // What technicians and the user wrote on the ticket comes first (a technician's last word before closing it).
    if (moved && relays) await this.parts.ateraReplies.relay(record);
    if (!isLive(record.state)) {
      // A handed-over ticket keeps its snapshot, so its comments are read again only when they change.
      if (moved && relays) await this.keepSnapshot(ticket);
      return;
    }
    const status = String(ticket.status).toLowerCase();
    const closed = status === 'closed' || status === 'resolved';
    const reassigned = reassignedToSomeoneElse(record.ticket, ticket, own);
    if (!closed && !reassigned) {
      const told = await this.tellTicketChange(ticket);
      if (
        !told &&
        (moved || ticket.status !== record.ticket.status || ticket.priority !== record.ticket.priority)
      ) {
        await this.keepSnapshot(ticket);
      }
      return;
    }
    await this.ctx.locks.run(ticket.id, async () => {
      // Decided again under the lock: a technician's "reassign" may have changed the ticket a moment ago.
      const current = await this.ctx.deps.store.getConversation(ticket.id);
      if (!current || (!closed && !reassignedToSomeoneElse(current.ticket, ticket, own))) return;
      const now = this.ctx.now();
      const reason = closed ? `ticket_${status}_in_atera` : 'reassigned_in_atera';
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
            notice: closed
              ? `Your ticket #${ticket.number} was ${status} by your IT team, so I’ll stop here. Thanks!`
              : `A technician (${ticket.technician.fullName ?? 'from your IT team'}) is now handling ticket #${ticket.number} and will continue with you.`,
          }),
        );
        return {
          conversation: next,
          comments: [
            this.ctx.internal(
              note(
                closed
                  ? `the ticket was set to ${ticket.status} in Atera, so the AI conversation ended.`
                  : `the ticket was reassigned to ${ticket.technician.fullName ?? ticket.technician.email ?? 'a technician'} in Atera, so the AI conversation ended.`,
              ),
            ),
          ],
          result: next,
        };
      });
      if (!ended) return;
      this.ctx.logFor(ended).info({ reason }, 'conversation ended in Atera');
      await this.parts.chatOutbox.deliver(ticket.id);
      await this.finish(ended, closed ? `Ended: ticket ${status} in Atera.` : 'Ended: reassigned in Atera.');
    });
  }

  private async keepSnapshot(ticket: Ticket): Promise<void> {
    await this.ctx.write(ticket.id, (c) =>
      c ? { conversation: { ...c, ticket }, result: undefined } : { result: undefined },
    );
  }

  /**
   * A live conversation's ticket set to Pending, or its priority raised, in Atera: the user is told in plain words,
   * Pending pauses the AI (the IT team is waiting on something), and the technicians' card shows it. False when
   * neither happened.
   */
  private async tellTicketChange(ticket: Ticket): Promise<boolean> {
    const changed = await this.ctx.write(ticket.id, (c) => {
      if (!c || !isLive(c.state)) return { result: null };
      const nowPending =
        String(ticket.status).toLowerCase() === 'pending' &&
        String(c.ticket.status).toLowerCase() !== 'pending';
      const raised = priorityRank(ticket.priority) > priorityRank(c.ticket.priority);
      if (!nowPending && !raised) return { result: null };
      const aiTalking = c.state === 'active' || c.state === 'awaiting_confirmation';
      const notices: string[] = [];
      if (raised)
        notices.push(
          `Your IT team raised the priority of ticket #${ticket.number} to ${String(ticket.priority)}.`,
        );
      if (nowPending && aiTalking) {
        notices.push(
          `Your IT team set ticket #${ticket.number} to Pending, so I’ll pause here until they pick it up again.`,
        );
      }
      const next = withChatMessages(
        {
          ...c,
          ticket,
          ...(nowPending && aiTalking
            ? { state: 'paused' as const, awaitingAnswer: false, answerLease: null }
            : {}),
        },
        ...notices.map((notice) => chatEntry(this.ctx, { notice })),
      );
      return { conversation: next, result: next };
    });
    if (!changed) return false;
    this.ctx
      .logFor(changed)
      .info({ status: ticket.status, priority: ticket.priority }, 'ticket change in Atera told to the user');
    await this.parts.chatOutbox.deliver(ticket.id);
    await this.parts.thread.updateCard(changed);
    return true;
  }

  /** Common end: thread card and message, then the user's next queued ticket. */
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
    if (ended.user) await this.startNextQueued(ended.user.id);
  }

  private async startNextQueued(userId: string): Promise<void> {
    const live = await this.ctx.deps.store.findLiveByUser(userId);
    if (live.some((c) => c.state !== 'queued')) return;
    const next = live.find((c) => c.state === 'queued' && c.user);
    if (!next) return;
    await this.ctx.locks.run(next.ticketId, async () => {
      const fresh = await this.ctx.deps.store.getConversation(next.ticketId);
      if (fresh?.state === 'queued') await this.parts.intake.openConversation(fresh);
    });
  }
}

const PRIORITY_RANK: Record<string, number> = { low: 1, medium: 2, high: 3, critical: 4 };

function priorityRank(priority: string): number {
  return PRIORITY_RANK[String(priority).toLowerCase()] ?? 0;
}
