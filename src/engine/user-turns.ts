/**
 * The user's side of a conversation: each message from the 1:1 chat (a redelivery answered at most once, over
 * the rate limit refused, recorded as a turn with its Atera comment and mirrored to the thread), the answer to
 * "is it fixed?", the user's card buttons, and messages after a hand-over, which reach the technician instead
 * of the AI.
 */
import type { CardSpec } from '../ports/chat.js';
import { isLive, type ConversationRecord, type Turn } from '../ports/conversation-store.js';
import type { UserCardAction, UserMessage } from '../ports/support-engine.js';
import { newAnswerLease, takeAnswerLease } from './answer-lease.js';
import { userTurnComment } from './atera-comment-text.js';
import { isPastDeadline } from './conversation-limits.js';
import type { EngineContext } from './engine-context.js';
import type { EngineParts } from './engine-parts.js';
import { handOverFor } from './handed-over.js';
import { asksForHuman, readConfirmation } from './plain-words.js';
import { ticketSummary } from './ticket-summary.js';
import { UserRateLimit } from './user-rate-limit.js';

const MAX_USER_TEXT = 4000;

export class UserTurns {
  private readonly rateLimit: UserRateLimit;

  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: EngineParts,
  ) {
    this.rateLimit = new UserRateLimit(ctx.settings.userMessagesPerMinute);
  }

  async onUserMessage(message: UserMessage): Promise<void> {
    const live = await this.ctx.deps.store.findLiveByUser(message.userId);
    const talking = live.filter((c) => c.state !== 'queued' && c.chatConversationId);
    const record = talking.find((c) => c.chatConversationId === message.conversationId) ?? talking[0];
    if (!record && live.length === 0 && (await this.addToHandedOverTicket(message))) return;
    if (!record) {
      await this.ctx.deps.chat.send(message.conversationId, {
        kind: 'text',
        text: live.length
          ? 'Thanks! I have your ticket and will start on it in a moment.'
          : 'Hi, I’m TicketZero, your IT team’s support assistant. I contact you here when you have an open IT ticket. There is no ticket I’m working on with you right now — to report a new problem, please contact your IT support as usual and I’ll get in touch.',
      });
      return;
    }
    await this.ctx.locks.run(record.ticketId, () => this.handleUserMessage(record.ticketId, message));
  }

  /**
   * After a hand-over, the user's messages in the same chat are added to the ticket (and its thread) for the
   * technician, for a week; the AI does not answer them. False when there is no such ticket.
   */
  private async addToHandedOverTicket(message: UserMessage): Promise<boolean> {
    const { deps } = this.ctx;
    const handed = await handOverFor(deps.store, message, this.ctx.clock());
    if (!handed) return false;
    const record = await deps.store.getConversation(handed.ticketId);
    if (!record || (record.state !== 'escalated' && record.state !== 'timed_out')) return false;
    if (!this.rateLimit.allow(message.userId, this.ctx.clock().getTime())) return true;
    const text = message.text.trim().slice(0, MAX_USER_TEXT);
    if (!text) return false;
    const at = message.receivedAt || this.ctx.now();
    await this.ctx.write(record.ticketId, () => ({
      comments: [
        {
          text: `${record.user?.displayName ?? 'End user'} (end user, via Teams, after the hand-over):\n${text}`,
          visibility: this.ctx.settings.commentVisibility,
          author: 'end_user',
          endUserId: record.ticket.endUser.id,
          timestampUtc: at,
          marker: `tz-${record.ticketId}-after-${message.activityId}`.slice(0, 80),
        },
      ],
      result: undefined,
    }));
    await this.parts.thread.mirror(record, 'user', text);
    // The hand-over was remembered for this very chat, so the record's chat is the one the message came from.
    await this.ctx.sendSafely(record, {
      kind: 'text',
      text: `Thanks — I added this to ticket #${record.ticket.number} for the technician who is handling it.`,
    });
    this.ctx.logFor(record).info({}, 'message added after hand-over');
    return true;
  }

  private async handleUserMessage(ticketId: number, message: UserMessage): Promise<void> {
    const record = await this.ctx.deps.store.getConversation(ticketId);
    if (!record || !isLive(record.state) || !record.chatConversationId) return;
    const log = this.ctx.logFor(record);
    if (record.turns.some((t) => t.inboundId === message.activityId)) {
      // A redelivery (the first delivery failed, perhaps with the instance that took it). If that message is
      // still unanswered and no live instance is answering it, answer it now.
      const last = record.turns.filter((t) => t.role === 'user').at(-1);
      if (record.state === 'active' && record.awaitingAnswer && last?.inboundId === message.activityId) {
        const leased = await takeAnswerLease(this.ctx, ticketId);
        if (leased) {
          log.info({ activityId: message.activityId }, 'answering a redelivered, unanswered message');
          await this.parts.assistant.answer(leased, { inTurn: true });
          return;
        }
      }
      log.info({ activityId: message.activityId }, 'duplicate delivery ignored');
      return;
    }
    const nowDate = this.ctx.clock();
    if (!this.rateLimit.allow(message.userId, nowDate.getTime())) {
      log.warn({ userId: message.userId }, 'user over the message rate limit');
      await this.ctx.sendSafely(record, {
        kind: 'text',
        text: 'You are sending messages faster than I can read them. Please wait a moment and send one message with everything you see.',
      });
      return;
    }
    let text = message.text.trim();
    if (text.length === 0) {
      await this.ctx.sendSafely(record, {
        kind: 'text',
        text:
          message.attachmentCount > 0
            ? 'I can only read text here, so attachments are not passed on. Please describe in words what you see.'
            : 'Please describe in words what you see.',
      });
      return;
    }
    if (text.length > MAX_USER_TEXT) text = `${text.slice(0, MAX_USER_TEXT)} [message shortened]`;
    log.debug({ chars: text.length }, 'user message received');

    if (
      isPastDeadline(record, nowDate) &&
      (record.state === 'active' || record.state === 'awaiting_confirmation')
    ) {
      await this.recordUserTurn(record, message, text, { countsAsRound: false });
      await this.parts.outcomes.timeOut(record.ticketId);
      return;
    }

    switch (record.state) {
      case 'paused':
      case 'taken_over': {
        const updated = await this.recordUserTurn(record, message, text, { countsAsRound: false });
        if (updated) await this.parts.thread.mirror(updated, 'user', text);
        return;
      }
      case 'awaiting_confirmation': {
        const answer = readConfirmation(text);
        const updated = await this.recordUserTurn(record, message, text, { countsAsRound: answer !== 'yes' });
        if (!updated) return;
        await this.parts.thread.mirror(updated, 'user', text);
        if (answer === 'yes') {
          await this.parts.outcomes.resolve(updated.ticketId, 'user_confirmed');
          return;
        }
        await this.ctx.transition(updated.ticketId, 'awaiting_confirmation', 'active');
        await this.continueTurn(updated.ticketId, text);
        return;
      }
      case 'active': {
        const updated = await this.recordUserTurn(record, message, text, { countsAsRound: true });
        if (!updated) return;
        await this.parts.thread.mirror(updated, 'user', text);
        await this.continueTurn(updated.ticketId, text);
        return;
      }
      default:
        return;
    }
  }

  /** After a user turn was recorded: hand over if asked (or past the last round), else let the model answer. */
  private async continueTurn(ticketId: number, text: string): Promise<void> {
    const record = await this.ctx.deps.store.getConversation(ticketId);
    if (!record || record.state !== 'active') return;
    if (asksForHuman(text)) {
      await this.parts.outcomes.escalate(ticketId, 'user_asked');
      return;
    }
    if (record.rounds > this.ctx.settings.maxRounds) {
      await this.parts.outcomes.escalate(ticketId, 'still_broken_at_limit');
      return;
    }
    await this.ctx.deps.chat.sendTyping(record.chatConversationId!).catch(() => undefined);
    await this.parts.assistant.answer(record, { inTurn: true });
  }

  private async recordUserTurn(
    record: ConversationRecord,
    message: UserMessage,
    text: string,
    options: { countsAsRound: boolean },
  ): Promise<ConversationRecord | null> {
    const at = message.receivedAt || this.ctx.now();
    return this.ctx.write(record.ticketId, (current) => {
      if (!current || !isLive(current.state)) return { result: null };
      if (current.turns.some((t) => t.inboundId === message.activityId)) return { result: null };
      const rounds = options.countsAsRound ? current.rounds + 1 : current.rounds;
      const turn: Turn = {
        seq: current.turns.length + 1,
        role: 'user',
        text,
        at,
        inboundId: message.activityId,
      };
      const next: ConversationRecord = {
        ...current,
        rounds,
        turns: [...current.turns, turn],
        awaitingAnswer: options.countsAsRound,
        answerLease: options.countsAsRound ? newAnswerLease(this.ctx) : (current.answerLease ?? null),
      };
      return {
        conversation: next,
        comments: [
          {
            text: userTurnComment(current, turn, rounds),
            visibility: this.ctx.settings.commentVisibility,
            author: 'end_user',
            endUserId: current.ticket.endUser.id,
            timestampUtc: at,
            marker: this.ctx.marker(current.ticketId, turn.seq),
          },
        ],
        result: next,
      };
    });
  }

  /** Returns the card that replaces the one whose button was pressed, or null to leave it. */
  async onUserCardAction(action: UserCardAction): Promise<CardSpec | null> {
    const record = await this.ctx.deps.store.getConversation(action.ticketId);
    // A card action only ever acts on the presser's own ticket.
    if (!record || record.user?.id !== action.userId) return null;
    return this.ctx.locks.run(record.ticketId, async () => {
      const current = await this.ctx.deps.store.getConversation(action.ticketId);
      if (!current || !isLive(current.state) || !current.chatConversationId) return null;
      const message = (text: string): UserMessage => ({
        conversationId: current.chatConversationId!,
        activityId: `card:${action.verb}:${current.turns.length}`,
        userId: action.userId,
        tenantId: action.tenantId,
        text,
        attachmentCount: 0,
        receivedAt: this.ctx.now(),
      });
      switch (action.verb) {
        case 'confirm_fixed': {
          if (current.state !== 'awaiting_confirmation' && current.state !== 'active') return null;
          const text = 'Yes, it’s fixed.';
          const updated = await this.recordUserTurn(current, message(text), text, { countsAsRound: false });
          if (!updated) return null;
          await this.parts.thread.mirror(updated, 'user', `${text} (card)`);
          const resolved = await this.parts.outcomes.resolve(current.ticketId, 'user_confirmed');
          return resolved ? this.parts.outcomes.resolutionCard(resolved) : null;
        }
        case 'still_broken': {
          if (current.state !== 'awaiting_confirmation') return null;
          const text = 'No, it’s still broken.';
          const updated = await this.recordUserTurn(current, message(text), text, { countsAsRound: true });
          if (!updated) return null;
          await this.parts.thread.mirror(updated, 'user', `${text} (card)`);
          await this.ctx.transition(updated.ticketId, 'awaiting_confirmation', 'active');
          await this.continueTurn(updated.ticketId, text);
          return {
            kind: 'confirm_fix',
            ticket: ticketSummary(updated, this.ctx.settings.maxRounds),
            question: 'Thanks — let’s keep going.',
          };
        }
        case 'ask_human': {
          const text = 'I’d like to talk to a technician.';
          const updated = await this.recordUserTurn(current, message(text), text, { countsAsRound: false });
          if (updated) await this.parts.thread.mirror(updated, 'user', `${text} (card)`);
          await this.parts.outcomes.escalate(current.ticketId, 'user_asked');
          return null;
        }
      }
    });
  }
}
