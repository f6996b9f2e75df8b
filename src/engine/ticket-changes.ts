/**
 * The ticket watcher saw a conversation's ticket change in Atera. What technicians and the user wrote on it comes
 * to the chat first (atera-replies.ts); then a ticket closed, resolved or reassigned to someone else ends the AI
 * conversation (conversation-outcomes.ts), a ticket set to Pending pauses it, and a raised priority is told to
 * the user. A new status or priority is kept in the record's snapshot of the ticket; new comments alone are not.
 */
import { createHash } from 'node:crypto';
import { isLive } from '../ports/conversation-store.js';
import type { Ticket } from '../ports/ticket-desk.js';
import { relaysAteraComments, type AteraReplies } from './atera-replies.js';
import type { ConversationOutcomes } from './conversation-outcomes.js';
import { asTicketZeroError } from '../errors.js';
import { isTalking } from './conversation-rules.js';
import type { EngineContext } from './engine-context.js';
import type { TechniciansThread } from './technicians-thread.js';
import { reassignedToSomeoneElse, rememberTechnicianOf } from './ticket-technician.js';
import { chatEntry, withChatMessages, type UserChatOutbox } from './user-chat-outbox.js';

/** The parts a ticket change calls. */
export interface TicketChangesParts {
  chatOutbox: Pick<UserChatOutbox, 'deliver'>;
  thread: Pick<TechniciansThread, 'updateCard'>;
  outcomes: Pick<ConversationOutcomes, 'endInAtera'>;
  ateraReplies: Pick<AteraReplies, 'relay'>;
}

/** Tickets whose last handled snapshot is remembered (then the memory starts over). */
const HANDLED_LIMIT = 10_000;
/** Tickets handled at once: a poll may show thousands, each a store read and perhaps an Atera call. */
const CONCURRENT_TICKETS = 8;

export class TicketChanges {
  /**
   * Each conversation's ticket as last handled (a digest of its JSON): the watcher's overlap shows a ticket again
   * on every poll for a minute, and a ticket exactly as it was handled changes nothing (no store read, no Atera
   * call).
   */
  private readonly handled = new Map<number, string>();

  /** The newest version of each ticket noticed and not handled yet. */
  private readonly waiting = new Map<number, Ticket>();
  /** Tickets with a version waiting and nobody handling them, in the order they were noticed. */
  private readonly order: number[] = [];
  /** Tickets being handled now (at most CONCURRENT_TICKETS). */
  private readonly handling = new Set<number>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: TicketChangesParts,
  ) {}

  /**
   * The watcher's feed showed the ticket: it is handled in the background, one version at a time per ticket (the
   * newest one next) and a few tickets at a time. The poll does not wait: reading a ticket's comments waits behind
   * Atera's budget (behind a backlog of comments to write), and a poll held by it would stop noticing new tickets.
   */
  noticed(ticket: Ticket): void {
    const alreadyWaiting = this.waiting.has(ticket.id);
    this.waiting.set(ticket.id, ticket);
    if (!alreadyWaiting && !this.handling.has(ticket.id)) this.order.push(ticket.id);
    this.startHandling();
  }

  private startHandling(): void {
    while (this.handling.size < CONCURRENT_TICKETS && this.order.length > 0) {
      const ticketId = this.order.shift()!;
      this.handling.add(ticketId);
      this.ctx.alongside(ticketId, 'ticket_changed', async () => {
        try {
          for (let next = this.waiting.get(ticketId); next; next = this.waiting.get(ticketId)) {
            this.waiting.delete(ticketId);
            try {
              await this.onTicketChanged(next);
            } catch (error) {
              this.ctx.log
                .child({ ticketId })
                .warn(
                  { err: asTicketZeroError(error) },
                  'could not apply an Atera change to its conversation',
                );
            }
          }
        } finally {
          this.handling.delete(ticketId);
          this.startHandling();
        }
      });
    }
  }

  async onTicketChanged(ticket: Ticket): Promise<void> {
    const snapshot = createHash('sha256').update(JSON.stringify(ticket)).digest('base64');
    if (this.handled.get(ticket.id) === snapshot) return;
    // Remembered only once handled against a conversation: a ticket seen while its intake runs is handled again.
    if (!(await this.apply(ticket))) return;
    if (this.handled.size >= HANDLED_LIMIT) this.handled.clear();
    this.handled.set(ticket.id, snapshot);
  }

  /** Applies the ticket to its conversation; false when it has none, or its comments could not be read. */
  private async apply(ticket: Ticket): Promise<boolean> {
    await rememberTechnicianOf(this.ctx, ticket);
    const own = this.ctx.settings.ownTechnician;
    const record = await this.ctx.deps.store.getConversation(ticket.id);
    if (!record) return false;
    const moved =
      ticket.modifiedAt !== record.ticket.modifiedAt ||
      (ticket.commentedAt ?? null) !== (record.ticket.commentedAt ?? null);
    const relays = relaysAteraComments(record, this.ctx.clock());
    // What technicians and the user wrote on the ticket comes first (a technician's last word before closing it).
    // Comments Atera did not let us read keep the old snapshot: "moved" again on the next poll, read again then.
    const read = moved && relays ? await this.parts.ateraReplies.relay(record) : true;
    if (!isLive(record.state)) {
      // A handed-over ticket keeps its snapshot, so its comments are read again only when they change.
      if (moved && relays && read) await this.keepSnapshot(ticket);
      return read;
    }
    const status = String(ticket.status).toLowerCase();
    const closed = status === 'closed' || status === 'resolved';
    const reassigned = reassignedToSomeoneElse(record.ticket, ticket, own);
    if (!closed && !reassigned) {
      const told = await this.tellTicketChange(ticket);
      // New comments alone are not worth a durable write (each of TicketZero's own comments moves the ticket): the
      // record keeps the snapshot it has, and a later process reads the comments once more (relayed once by key).
      if (
        !told &&
        read &&
        (ticket.status !== record.ticket.status || ticket.priority !== record.ticket.priority)
      ) {
        await this.keepSnapshot(ticket);
      }
      return read;
    }
    await this.ctx.locks.run(ticket.id, async () => {
      // Decided again under the lock: a technician's "reassign" may have changed the ticket a moment ago.
      const current = await this.ctx.deps.store.getConversation(ticket.id);
      if (!current || (!closed && !reassignedToSomeoneElse(current.ticket, ticket, own))) return;
      await this.parts.outcomes.endInAtera(ticket, closed ? status : null);
    });
    return true;
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
      const aiTalking = isTalking(c.state);
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
}

const PRIORITY_RANK: Record<string, number> = { low: 1, medium: 2, high: 3, critical: 4 };

function priorityRank(priority: string): number {
  return PRIORITY_RANK[String(priority).toLowerCase()] ?? 0;
}
