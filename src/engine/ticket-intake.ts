/**
 * Taking a ticket: record it once, identify the end user in the customer's tenant, decline what TicketZero cannot
 * take (with a note for the technicians), queue it behind the user's current conversation, or open the 1:1 chat
 * with the ticket card — only once the card reached the user do the conversation and its clock start.
 */
import type { ConversationRecord } from '../ports/conversation-store.js';
import type { Ticket } from '../ports/ticket-desk.js';
import { asTicketZeroError } from '../errors.js';
import { newAnswerLease } from './answer-lease.js';
import { note } from './atera-comment-text.js';
import type { AssistantTurn } from './assistant-turn.js';
import { deadlineFrom } from './conversation-rules.js';
import type { EngineContext } from './engine-context.js';
import type { StartResult } from './engine-deps.js';
import type { TechniciansThread } from './technicians-thread.js';
import { rememberTechnicianOf } from './ticket-technician.js';
import { ticketIntroCard } from './ticket-summary.js';

/** The parts intake calls: the ticket's thread, and the first answer once the chat is open. */
export interface IntakeParts {
  thread: Pick<TechniciansThread, 'ensure' | 'tell'>;
  assistant: Pick<AssistantTurn, 'answerPending'>;
}

export class TicketIntake {
  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: IntakeParts,
  ) {}

  /** Takes a new ticket (idempotent: a ticket already known is `already_taken`). */
  async startTicket(ticket: Ticket): Promise<StartResult> {
    const now = this.ctx.now();
    const created = await this.ctx.deps.store.update(ticket.id, (current) => {
      if (current) return { result: false };
      return { conversation: newRecord(ticket, now), result: true };
    });
    if (!created) return 'already_taken';
    this.ctx.deps.observer?.ticketTaken?.(ticket);
    await rememberTechnicianOf(this.ctx, ticket);
    return this.ctx.locks.run(ticket.id, () => this.continueIntake(ticket.id));
  }

  /** Identify the user, then open the chat or queue behind the user's current conversation. */
  async continueIntake(ticketId: number): Promise<StartResult> {
    const { deps } = this.ctx;
    const record = await deps.store.getConversation(ticketId);
    if (!record || record.state !== 'queued') return 'already_taken';
    const log = this.ctx.logFor(record);
    const ticket = record.ticket;

    if (!record.user) {
      const tenant = deps.tenants.tenantForCustomer(ticket.customer.id);
      if (!tenant) {
        return this.decline(
          record,
          'unmapped_customer',
          `customer "${ticket.customer.name}" (CustomerID ${ticket.customer.id ?? 'none'}) is not mapped to a Microsoft 365 tenant, so TicketZero cannot reach the user in Teams.`,
        );
      }
      const email = ticket.endUser.email;
      if (!email) {
        return this.decline(record, 'no_end_user_email', 'the ticket has no end-user e-mail address.');
      }
      const lookup = await deps.directory.findByEmail(tenant, email);
      if (lookup.status === 'not_found') {
        return this.decline(
          record,
          'user_not_found',
          `no Microsoft 365 user with the e-mail ${email} was found in the customer's tenant.`,
        );
      }
      if (lookup.status === 'disabled') {
        return this.decline(record, 'user_disabled', `the Microsoft 365 account of ${email} is disabled.`);
      }
      if (lookup.status === 'guest') {
        return this.decline(
          record,
          'user_is_guest',
          `${email} is a guest in the customer's tenant; TicketZero only talks to members.`,
        );
      }
      const user = lookup.user;
      const devices = await deps.desk
        .findDevices({ customerId: ticket.customer.id, email, displayName: user.displayName })
        .catch((error: unknown) => {
          log.warn({ err: asTicketZeroError(error) }, 'device lookup failed; continuing without devices');
          return [];
        });
      await this.ctx.write(ticketId, (current) => {
        if (!current) return { result: undefined };
        return { conversation: { ...current, user, devices, tenantKey: tenant.key }, result: undefined };
      });
    }

    const fresh = await deps.store.getConversation(ticketId);
    if (!fresh || fresh.state !== 'queued' || !fresh.user) return 'already_taken';
    const others = (await deps.store.findLiveByUser(fresh.user.id)).filter((c) => c.ticketId !== ticketId);
    const ahead = others.filter((c) => c.state !== 'queued' || c.createdAt < fresh.createdAt);
    if (ahead.length > 0) {
      await this.queueBehind(fresh, ahead);
      return 'queued';
    }
    await this.openConversation(fresh);
    return 'started';
  }

  private async decline(record: ConversationRecord, reason: string, why: string): Promise<StartResult> {
    const now = this.ctx.now();
    const updated = await this.ctx.write(record.ticketId, (current) => {
      if (!current || current.state !== 'queued') return { result: null };
      const next: ConversationRecord = {
        ...current,
        state: 'declined',
        outcome: { kind: 'declined', reason, at: now },
      };
      return {
        conversation: next,
        comments: [
          this.ctx.internal(
            note(`TicketZero did not take this ticket: ${why} A technician needs to handle it.`),
          ),
        ],
        result: next,
      };
    });
    this.ctx.logFor(record).info({ reason }, 'ticket declined');
    this.ctx.deps.observer?.ticketDeclined?.(record.ticket, reason);
    if (updated) {
      await this.parts.thread.tell(updated, `TicketZero did not take this ticket: ${why}`);
      this.ctx.deps.observer?.conversationEnded?.(updated);
    }
    return 'declined';
  }

  private async queueBehind(record: ConversationRecord, ahead: ConversationRecord[]): Promise<void> {
    const current = ahead.find((c) => c.chatConversationId) ?? ahead[0];
    // Told once: a restart (or a tick) that finds the ticket still waiting says nothing again.
    const told = await this.ctx.write(record.ticketId, (c) =>
      c && !c.queuedBehind
        ? {
            conversation: { ...c, queuedBehind: current?.ticketId ?? -1 },
            comments: [
              this.ctx.internal(
                note(
                  `the user already has a TicketZero conversation open (ticket #${current?.ticket.number ?? '?'}); this ticket waits and starts when that one ends.`,
                ),
              ),
            ],
            result: true,
          }
        : { result: false },
    );
    if (told) {
      this.ctx
        .logFor(record)
        .info({ aheadTicketId: current?.ticketId }, 'ticket queued behind the user’s current conversation');
    }
    if (told && current) {
      // Said in the chat of the conversation ahead.
      await this.ctx.sendSafely(current, {
        kind: 'text',
        text: `I also received your ticket #${record.ticket.number} ("${record.ticket.title}"). We will look at it as soon as we are done here.`,
      });
    }
    await this.parts.thread.ensure(record);
  }

  /** A conversation ended: the user's next queued ticket (if no other conversation is open) opens now. */
  async openNextQueued(ended: ConversationRecord): Promise<void> {
    if (!ended.user) return;
    const live = await this.ctx.deps.store.findLiveByUser(ended.user.id);
    if (live.some((c) => c.state !== 'queued')) return;
    const next = live.find((c) => c.state === 'queued' && c.user);
    if (!next) return;
    await this.ctx.locks.run(next.ticketId, async () => {
      const fresh = await this.ctx.deps.store.getConversation(next.ticketId);
      if (fresh?.state === 'queued') await this.openConversation(fresh);
    });
  }

  /** Opens the 1:1 chat, sends the ticket card and the first answer. Idempotent across restarts. */
  async openConversation(record: ConversationRecord): Promise<void> {
    const { deps, settings } = this.ctx;
    const user = record.user;
    if (!user) return;
    const chatId =
      record.chatConversationId ??
      (await deps.chat.openChat({ tenant: user.tenant, userId: user.id, displayName: user.displayName }))
        .conversationId;
    if (record.state === 'queued') {
      // The ticket card is the first message; only once it reached the user do the conversation and its clock start.
      const conversationId = await this.ctx.sendToUser(record, chatId, {
        kind: 'card',
        card: ticketIntroCard(record, settings),
      });
      const now = this.ctx.clock();
      const started = await this.ctx.write(record.ticketId, (current) => {
        if (!current || current.state !== 'queued') return { result: null };
        const next: ConversationRecord = {
          ...current,
          state: 'active',
          chatConversationId: conversationId,
          startedAt: now.toISOString(),
          deadlineAt: deadlineFrom(now, settings),
          awaitingAnswer: true,
          answerLease: newAnswerLease(this.ctx),
        };
        return {
          conversation: next,
          comments: [
            this.ctx.internal(
              note(
                `started a Teams conversation with ${user.displayName} (${user.mail ?? user.userPrincipalName}). Limits: ${settings.maxRounds} rounds, ${settings.maxMinutes} minutes.`,
              ),
            ),
          ],
          result: next,
        };
      });
      if (!started) return;
      record = started;
      this.ctx.logFor(started).info({}, 'conversation opened');
      deps.observer?.conversationStarted?.(started);
    }
    const thread = await this.parts.thread.ensure(record);
    if (thread) record = thread;
    if (record.turns.some((t) => t.role === 'assistant')) return;
    // The first answer is owed like the answer to a user message (recorded as owed when the chat started).
    if (!record.awaitingAnswer) {
      await this.ctx.write(record.ticketId, (c) =>
        c?.state === 'active' && !c.turns.some((t) => t.role === 'assistant')
          ? {
              conversation: { ...c, awaitingAnswer: true, answerLease: newAnswerLease(this.ctx) },
              result: undefined,
            }
          : { result: undefined },
      );
    }
    await this.parts.assistant.answerPending(record.ticketId);
  }
}

function newRecord(ticket: Ticket, now: string): ConversationRecord {
  return {
    ticketId: ticket.id,
    version: 0,
    tenantKey: '',
    ticket,
    user: null,
    devices: [],
    state: 'queued',
    chatConversationId: null,
    thread: null,
    createdAt: now,
    startedAt: null,
    deadlineAt: null,
    rounds: 0,
    turns: [],
    awaitingAnswer: false,
    outcome: null,
    takenOverBy: null,
    category: null,
    lastProvider: null,
    pendingTicketChange: null,
    relayCommentsAfter: ticket.modifiedAt ?? ticket.createdAt,
    updatedAt: now,
  };
}
