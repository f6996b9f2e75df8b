/**
 * The user's side of a conversation: each message from the 1:1 chat and each card button. The inbound path only
 * validates, de-duplicates (by activity id), records and returns, so Teams gets its HTTP answer at once; what the
 * message leads to (decided in conversation-rules.ts and recorded with it) runs right after, in the background:
 * the model's answer, the confirmation question, an ending. After a hand-over, the user's messages still reach
 * the ticket and its thread for the technician. Every message not acted on is logged with the reason.
 */
import { asTicketZeroError } from '../errors.js';
import { isLive, type ConversationRecord, type Turn } from '../ports/conversation-store.js';
import type {
  UserCardAction,
  UserCardAnswer,
  UserCardKind,
  UserCardVerb,
  UserMessage,
} from '../ports/support-engine.js';
import { newAnswerLease } from './answer-lease.js';
import type { AssistantTurn } from './assistant-turn.js';
import { userTurnComment } from './atera-comment-text.js';
import { repeatsChat } from './atera-replies.js';
import type { ConversationOutcomes } from './conversation-outcomes.js';
import {
  decideUserMessage,
  readUserMessage,
  type UserMessageDecision,
  type UserSaid,
} from './conversation-rules.js';
import type { EngineContext } from './engine-context.js';
import { handOverFor } from './handed-over.js';
import type { TechniciansThread } from './technicians-thread.js';
import { ticketIntroCard, ticketSummary } from './ticket-summary.js';
import { hasEnded, ticketStanding } from './ticket-standing.js';
import { CONFIRM_QUESTION, chatEntry, withChatMessages, type UserChatOutbox } from './user-chat-outbox.js';
import { UserRateLimit } from './user-rate-limit.js';

const MAX_USER_TEXT = 4000;
/** The user is told to slow down at most this often. */
const SLOW_DOWN_EVERY_MS = 60_000;

const SLOW_DOWN =
  'You are sending messages faster than I can read them. I have added them all to your ticket; please wait for my answer.';
const NO_TEXT = 'Please describe in words what you see.';
const NO_ATTACHMENTS =
  'I can only read text here, so attachments are not passed on. Please describe in words what you see.';

type Recorded =
  | { kind: 'recorded'; record: ConversationRecord; decision: UserMessageDecision; text: string }
  | { kind: 'duplicate'; record: ConversationRecord }
  | { kind: 'gone' };

/** The parts a user's message calls: the chat, the thread, the model's answer, an ending. */
export interface UserTurnsParts {
  chatOutbox: Pick<UserChatOutbox, 'deliver'>;
  thread: Pick<TechniciansThread, 'mirror' | 'updateCard'>;
  assistant: Pick<AssistantTurn, 'answerPending'>;
  outcomes: Pick<ConversationOutcomes, 'carryOut'>;
}

export class UserTurns {
  private readonly rateLimit: UserRateLimit;
  private readonly slowDownToldAt = new Map<string, number>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: UserTurnsParts,
  ) {
    this.rateLimit = new UserRateLimit(ctx.settings.userMessagesPerMinute);
  }

  async onUserMessage(message: UserMessage): Promise<void> {
    const live = await this.ctx.deps.store.findLiveByUser(message.userId);
    const talking = live.filter((c) => c.state !== 'queued' && c.chatConversationId);
    const record = talking.find((c) => c.chatConversationId === message.conversationId) ?? talking[0];
    if (!record && live.length === 0 && (await this.addToHandedOverTicket(message))) return;
    if (!record) {
      this.ctx.log.info(
        { conversationId: message.conversationId, activityId: message.activityId, queued: live.length },
        'message not acted on: no conversation with this user is open',
      );
      await this.ctx.deps.chat.send(message.conversationId, {
        kind: 'text',
        text: live.length
          ? 'Thanks! I have your ticket and will start on it in a moment.'
          : 'Hi, I’m TicketZero, your IT team’s support assistant. I contact you here when you have an open IT ticket. There is no ticket I’m working on with you right now — to report a new problem, please contact your IT support as usual and I’ll get in touch.',
      });
      return;
    }
    const log = this.ctx.logFor(record);
    const text = this.textOf(message);
    if (text === null) {
      log.info({ activityId: message.activityId }, 'message not acted on: no text');
      await this.ctx.sendSafely(record, {
        kind: 'text',
        text: message.attachmentCount > 0 ? NO_ATTACHMENTS : NO_TEXT,
      });
      return;
    }
    const overRateLimit = this.overRateLimit(record, message);
    const recorded = await this.record(record.ticketId, message, text, { words: text }, { overRateLimit });
    if (recorded.kind === 'recorded' && overRateLimit) await this.tellToSlowDown(recorded, message.userId);
    if (recorded.kind === 'gone') {
      log.info({ activityId: message.activityId }, 'message not acted on: the conversation just ended');
      return;
    }
    if (recorded.kind === 'duplicate') {
      this.onRedelivery(recorded.record, message.activityId);
      return;
    }
    this.followUp(recorded);
  }

  /**
   * The typing indicator, from the user's own turn while it lasts (the cheapest way to Teams); not waited for,
   * and the answer that follows is sent after it.
   */
  private showTyping(record: ConversationRecord): void {
    if (!record.chatConversationId) return;
    this.ctx.deps.chat.sendTyping(record.chatConversationId).catch((error: unknown) => {
      this.ctx.logFor(record).debug({ err: asTicketZeroError(error) }, 'typing indicator not sent');
    });
  }

  /** Message text as the engine keeps it; null when there is none. */
  private textOf(message: UserMessage): string | null {
    const text = message.text.trim();
    if (text.length === 0) return null;
    return text.length > MAX_USER_TEXT ? `${text.slice(0, MAX_USER_TEXT)} [message shortened]` : text;
  }

  /** Counts a new message against the user's limit (a redelivery of a recorded one does not count). */
  private overRateLimit(record: ConversationRecord, message: UserMessage): boolean {
    if (record.turns.some((t) => t.inboundId === message.activityId)) return false;
    return !this.rateLimit.allow(message.userId, this.ctx.clock().getTime());
  }

  /** The user is told to slow down once a minute, however many of their messages are over the limit. */
  private async tellToSlowDown(
    recorded: Extract<Recorded, { kind: 'recorded' }>,
    userId: string,
  ): Promise<void> {
    const now = this.ctx.clock().getTime();
    const told = this.slowDownToldAt.get(userId);
    if (told !== undefined && now - told < SLOW_DOWN_EVERY_MS) return;
    this.slowDownToldAt.set(userId, now);
    if (this.slowDownToldAt.size > 10_000) this.slowDownToldAt.clear();
    const entry = chatEntry(this.ctx, { notice: SLOW_DOWN });
    recorded.record = await this.ctx.write(recorded.record.ticketId, (c) => {
      if (!c) return { result: recorded.record };
      const next = withChatMessages(c, entry);
      return { conversation: next, result: next };
    });
  }

  /**
   * Records the message as a turn with its Atera comment and the decision about it, in one write; a message
   * already recorded (Teams redelivers) is recognised by its activity id.
   */
  private async record(
    ticketId: number,
    message: UserMessage,
    text: string,
    said: UserSaid,
    options: {
      overRateLimit?: boolean;
      /** Said in the chat once the message is recorded. */
      notice?: (current: ConversationRecord) => string | null;
      /** The conversation was handed over: the message joins the ended record for the technician. */
      afterHandOver?: boolean;
      /** The message came from Atera (an e-mail reply): it is on the ticket already, no comment is written. */
      fromAtera?: boolean;
    } = {},
  ): Promise<Recorded> {
    const afterHandOver = options.afterHandOver ?? false;
    const at = message.receivedAt || this.ctx.now();
    return this.ctx.write<Recorded>(ticketId, (current) => {
      if (!current || isLive(current.state) === afterHandOver) return { result: { kind: 'gone' } };
      if (!current.chatConversationId) return { result: { kind: 'gone' } };
      if (current.turns.some((t) => t.inboundId === message.activityId)) {
        return { result: { kind: 'duplicate', record: current } };
      }
      const d = decideUserMessage(current, said, this.ctx.clock(), this.ctx.settings, {
        overRateLimit: options.overRateLimit ?? false,
      });
      const { rounds } = d;
      const turn: Turn = {
        seq: current.turns.length + 1,
        role: 'user',
        text,
        at,
        inboundId: message.activityId,
      };
      let next: ConversationRecord = { ...current, rounds, state: d.state, turns: [...current.turns, turn] };
      if (d.next === 'answer') {
        next = { ...next, awaitingAnswer: true, answerLease: newAnswerLease(this.ctx) };
      } else if (d.next === 'ask_confirmation') {
        next = withChatMessages(
          { ...next, awaitingAnswer: false, answerLease: null },
          chatEntry(this.ctx, { card: 'confirm_fix' }),
        );
      } else if (d.next !== 'record_only') {
        next = { ...next, awaitingAnswer: false, answerLease: null, pendingStep: d.next };
      }
      const notice = options.notice?.(current);
      if (notice) next = withChatMessages(next, chatEntry(this.ctx, { notice }));
      if (options.fromAtera)
        return { conversation: next, result: { kind: 'recorded', record: next, decision: d, text } };
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
            // The answer follows: the outbox waits a moment for it, so the round is one comment.
            ...(d.next === 'answer' ? { awaitsAnswer: true } : {}),
          },
        ],
        result: { kind: 'recorded', record: next, decision: d, text },
      };
    });
  }

  /** What a recorded message leads to, after the inbound request was answered. */
  private followUp(recorded: Extract<Recorded, { kind: 'recorded' }>, mirrored = recorded.text): void {
    const { record, decision } = recorded;
    const log = this.ctx.logFor(record);
    if (decision.next === 'record_only') {
      log.info({ round: record.rounds, why: decision.why }, 'message recorded, not answered');
    } else {
      log.info(
        {
          round: record.rounds,
          next: typeof decision.next === 'string' ? decision.next : decision.next.kind,
          why: decision.why,
        },
        'user message recorded',
      );
    }
    if (decision.next === 'answer') this.showTyping(record);
    this.ctx.background(record.ticketId, 'user message', async () => {
      // Most messages queue nothing for the chat: no store read for them.
      if (record.chatOutbox?.length) await this.parts.chatOutbox.deliver(record.ticketId);
      await this.parts.thread.mirror(record, 'user', mirrored);
      if (decision.next === 'answer') {
        await this.parts.assistant.answerPending(record.ticketId, { typingShown: true });
      } else if (decision.next === 'ask_confirmation') {
        await this.parts.thread.updateCard(record);
      } else if (decision.next !== 'record_only') {
        await this.parts.outcomes.carryOut(record.ticketId);
      }
    });
  }

  /** A message recorded before (Teams delivered it again): answered only if it is still unanswered. */
  private onRedelivery(record: ConversationRecord, activityId: string): void {
    const log = this.ctx.logFor(record);
    const last = record.turns.filter((t) => t.role === 'user').at(-1);
    if (record.state === 'active' && record.awaitingAnswer && last?.inboundId === activityId) {
      log.info({ activityId }, 'redelivered message still unanswered: answering it');
      this.ctx.background(record.ticketId, 'redelivery', () =>
        this.parts.assistant.answerPending(record.ticketId),
      );
      return;
    }
    log.info({ activityId }, 'message not acted on: a redelivery of a message already recorded');
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
    const log = this.ctx.logFor(record);
    const text = this.textOf(message);
    if (text === null) {
      log.info({ activityId: message.activityId }, 'message not acted on: no text (after the hand-over)');
      return true;
    }
    const overRateLimit = this.overRateLimit(record, message);
    const recorded = await this.record(
      handed.ticketId,
      message,
      text,
      { words: text },
      {
        overRateLimit,
        notice: (current) =>
          overRateLimit
            ? null
            : `Thanks — I added this to ticket #${current.ticket.number} for the technician who is handling it.`,
        afterHandOver: true,
      },
    );
    if (recorded.kind === 'recorded' && overRateLimit) await this.tellToSlowDown(recorded, message.userId);
    if (recorded.kind === 'duplicate') {
      log.info(
        { activityId: message.activityId },
        'message not acted on: a redelivery of a message already recorded',
      );
      return true;
    }
    if (recorded.kind !== 'recorded') return true;
    log.info({ overRateLimit }, 'message added to the ticket after the hand-over');
    this.ctx.background(handed.ticketId, 'message after hand-over', async () => {
      if (recorded.record.chatOutbox?.length) await this.parts.chatOutbox.deliver(handed.ticketId);
      await this.parts.thread.mirror(recorded.record, 'user', text);
    });
    return true;
  }

  /**
   * The user replied on the ticket outside Teams (an e-mail to the ticket notification, the customer portal): shown
   * in the chat and handled like a chat message — answered while the AI talks, for the technician after a hand-over
   * — unless it repeats what they wrote in Teams. Its key makes it a turn once, however often Atera shows it.
   */
  async onAteraReply(ticketId: number, reply: { key: string; text: string; at: string }): Promise<void> {
    const record = await this.ctx.deps.store.getConversation(ticketId);
    if (!record?.user || !record.chatConversationId) return;
    const log = this.ctx.logFor(record);
    if (repeatsChat(record, reply.text)) {
      log.info({ key: reply.key }, 'e-mail reply not acted on: it repeats what the user wrote in Teams');
      return;
    }
    const text =
      reply.text.length > MAX_USER_TEXT
        ? `${reply.text.slice(0, MAX_USER_TEXT)} [message shortened]`
        : reply.text;
    const afterHandOver = !isLive(record.state);
    const message: UserMessage = {
      conversationId: record.chatConversationId,
      activityId: reply.key,
      userId: record.user.id,
      tenantId: record.user.tenant.tenantId,
      text,
      attachmentCount: 0,
      receivedAt: this.ctx.now(),
    };
    const recorded = await this.record(
      ticketId,
      message,
      text,
      { words: text },
      {
        notice: () => `You wrote by e-mail: ${text.length > 600 ? `${text.slice(0, 600)}…` : text}`,
        afterHandOver,
        fromAtera: true,
      },
    );
    if (recorded.kind !== 'recorded') return;
    log.info(
      { afterHandOver, why: recorded.decision.why },
      'e-mail reply from Atera joined the conversation',
    );
    this.followUp(recorded);
  }

  /**
   * A button on one of the user's cards. On a live conversation the press is the user's words ("Yes, it’s fixed.")
   * and leads where those words would (recorded, decided and followed up the same way, so the summary or the
   * hand-over notice reaches the chat once, from the chat outbox); the pressed card then shows where the ticket
   * stands. A button that no longer applies — the conversation ended, or went on without it — answers with where
   * the ticket stands instead.
   */
  async onUserCardAction(action: UserCardAction): Promise<UserCardAnswer> {
    const record = await this.ctx.deps.store.getConversation(action.ticketId);
    // A card action only ever acts on the presser's own ticket.
    if (!record || record.user?.id !== action.userId) {
      this.ctx.log.info(
        { ticketId: action.ticketId, verb: action.verb, known: Boolean(record) },
        'card action not acted on: not a ticket of the presser',
      );
      return { kind: 'text', text: NOT_YOUR_TICKET };
    }
    const log = this.ctx.logFor(record);
    const said: UserSaid = { button: action.verb };
    const reading = readUserMessage(record, said, this.ctx.clock(), { overRateLimit: false });
    const applies = reading !== 'not_talking' && reading !== 'no_question';
    // An ending recorded a moment ago (the same button pressed twice) is not pressed again.
    if (!applies || !record.chatConversationId || hasEnded(record)) {
      log.info(
        { verb: action.verb, state: record.state },
        'card action not acted on: the conversation is not where the card was',
      );
      return this.pressedCardAnswer(record, action, { already: true });
    }
    const text = CARD_WORDS[action.verb];
    const message: UserMessage = {
      conversationId: record.chatConversationId,
      activityId: `card:${action.verb}:${record.turns.length}`,
      userId: action.userId,
      tenantId: action.tenantId,
      text,
      attachmentCount: 0,
      receivedAt: this.ctx.now(),
    };
    const recorded = await this.record(record.ticketId, message, text, said);
    if (recorded.kind !== 'recorded') {
      // Pressed twice, or the conversation ended a moment ago: the card shows where it stands now.
      const current = (await this.ctx.deps.store.getConversation(record.ticketId)) ?? record;
      log.info(
        { verb: action.verb, state: current.state, result: recorded.kind },
        'card action not acted on',
      );
      return this.pressedCardAnswer(current, action, { already: true });
    }
    log.info({ verb: action.verb, why: recorded.decision.why }, 'card action recorded');
    // From here on as if the user had written the words: the ending, the answer, the thread.
    this.followUp(recorded, `${text} (card)`);
    return this.pressedCardAnswer(recorded.record, action, {
      questionAnswered: recorded.decision.next === 'answer',
    });
  }

  /**
   * What the pressed card shows afterwards: itself without buttons and with where the ticket stands, once its
   * buttons no longer apply (the conversation ended or is about to, or its question was answered); otherwise it
   * stays as it is and a message beside it says where the ticket stands.
   */
  private pressedCardAnswer(
    record: ConversationRecord,
    action: UserCardAction,
    options: { already?: boolean; questionAnswered?: boolean },
  ): UserCardAnswer {
    const ended = hasEnded(record);
    const line = ticketStanding(record, {
      now: this.ctx.clock(),
      ...(action.timeZone ? { timeZone: action.timeZone } : {}),
      // "Already" only for an ending that was there before this press.
      already: Boolean(options.already) && ended,
    });
    const card = action.card ?? CARD_OF_VERB[action.verb];
    if (!card || !(ended || options.questionAnswered)) return { kind: 'text', text: line };
    if (card === 'ticket_intro') {
      return { kind: 'card', card: ticketIntroCard(record, this.ctx.settings, line) };
    }
    const ticket = ticketSummary(record, this.ctx.settings.maxRounds);
    return { kind: 'card', card: { kind: 'confirm_fix', ticket, question: CONFIRM_QUESTION, settled: line } };
  }
}

const NOT_YOUR_TICKET =
  'This card is not about a ticket of yours that I know. If something is still wrong, please contact your IT support.';

/** What each button says, as the user's words on the ticket. */
const CARD_WORDS: Record<UserCardVerb, string> = {
  confirm_fixed: 'Yes, it’s fixed.',
  still_broken: 'No, it’s still broken.',
  ask_human: 'I’d like to talk to a technician.',
};

/** The card a button is on, for cards sent before they said so (both cards say “It’s fixed”). */
const CARD_OF_VERB: Partial<Record<UserCardVerb, UserCardKind>> = {
  still_broken: 'confirm_fix',
  ask_human: 'ticket_intro',
};
