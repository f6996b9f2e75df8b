/**
 * The conversation engine: from "a new ticket is noticed" to "the ticket is resolved or handed to a human".
 *
 * Plain TypeScript over ports. Every state change that matters is written to the store (with the Atera comments
 * it implies, atomically) before the engine acts on it, so a restart continues where the last process stopped:
 * `recover()` answers user messages left unanswered, opens chats left unopened and times out conversations whose
 * deadline passed while the process was down.
 */
import type { CardSpec, ChatChannel, OutgoingMessage, TechnicianChannel } from '../ports/chat.js';
import type { Clock } from '../ports/clock.js';
import {
  isLive,
  type ConversationRecord,
  type ConversationStore,
  type ConversationState,
  type Mutation,
  type OutcomeKind,
  type Turn,
} from '../ports/conversation-store.js';
import type { Log } from '../ports/log.js';
import type { ChainResult, ModelChain } from '../ports/model.js';
import type {
  SupportEngine,
  TechnicianCardAction,
  TechnicianCommand,
  UserCardAction,
  UserMessage,
} from '../ports/support-engine.js';
import type { TechnicianAuthority, TechnicianDirectory } from '../ports/technicians.js';
import type {
  CommentVisibility,
  NewComment,
  Ticket,
  TicketChange,
  TicketDesk,
  TicketPriority,
} from '../ports/ticket-desk.js';
import type { TenantDirectory, UserDirectory } from '../ports/user-directory.js';
import { asTicketZeroError } from '../errors.js';
import { assistantTurnComment, note, technicianTurnComment, userTurnComment } from './atera-comment-text.js';
import {
  deadlineFrom,
  isPastDeadline,
  limitNotice,
  minutesLeft,
  roundLimitReached,
  roundsLeft,
  type LimitSettings,
} from './conversation-limits.js';
import { describeReason, handoverComment, resolutionComment, summarise } from './handover-summary.js';
import { createGuardedAnswerStream } from './guarded-answer-stream.js';
import { KeyedMutex } from './keyed-mutex.js';
import { asksForHuman, readConfirmation } from './plain-words.js';
import { parseAssistantReply, createVisibleTextFilter } from './prompt/assistant-reply.js';
import { guardAnswer } from './prompt/answer-guard.js';
import { describeFailures, fallbackAnswer } from './prompt/fallback.js';
import { buildSupportPrompt } from './prompt/support-prompt.js';
import { parseTechnicianCommand, TECHNICIAN_HELP, type ParsedCommand } from './technician-command.js';
import { ticketSummary } from './ticket-summary.js';
import { UserRateLimit } from './user-rate-limit.js';

export interface EngineSettings extends LimitSettings {
  commentVisibility: CommentVisibility;
  promptTokenBudget: number;
  maxAnswerTokens: number;
  escalation: { priority?: TicketPriority; status: string };
  linkAllowList: string[];
  /** Strings that must never appear in an answer (secrets). */
  forbiddenInAnswers: string[];
  userMessagesPerMinute: number;
  /** The Atera technician TicketZero writes as; a ticket reassigned to anyone else ends the AI conversation. */
  ownTechnician: { contactId?: number; email?: string };
  /** This instance's name, for answer leases (several instances on one store). */
  instanceId?: string;
  /** How long an instance may take to answer a user message before another one answers it (ms). */
  answerLeaseMs?: number;
  /**
   * The store belongs to this process alone (lowdb): whatever a previous process left unanswered is answered at
   * once after a restart, without waiting for its lease to run out.
   */
  exclusiveStore?: boolean;
}

export interface EngineDeps {
  desk: TicketDesk;
  directory: UserDirectory;
  tenants: TenantDirectory;
  chat: ChatChannel;
  technicians: TechnicianChannel;
  authority: TechnicianAuthority;
  technicianDirectory: TechnicianDirectory;
  model: ModelChain;
  store: ConversationStore;
  clock: Clock;
  log: Log;
  settings: EngineSettings;
  /** Called after comments were queued, so the outbox delivers them promptly. */
  onCommentsQueued?: () => void;
  /** Observes outcomes and turns (metrics). */
  observer?: EngineObserver;
}

export interface EngineObserver {
  ticketTaken?(ticket: Ticket): void;
  ticketDeclined?(ticket: Ticket, reason: string): void;
  /** The ticket watcher did not hand the ticket to the engine (e.g. no end-user e-mail, intake kept failing). */
  ticketSkipped?(ticket: Ticket, reason: string): void;
  /** The first message reached the user: the conversation (and its time limit) started. */
  conversationStarted?(record: ConversationRecord): void;
  /** A technician took the conversation over from the AI. */
  conversationTakenOver?(record: ConversationRecord): void;
  turnAnswered?(event: { ticketId: number; provider: string | null; modelMs: number; totalMs: number }): void;
  conversationEnded?(record: ConversationRecord): void;
}

export type StartResult = 'started' | 'queued' | 'declined' | 'already_taken';

export interface ConversationEngine extends SupportEngine {
  /** Takes a new ticket (idempotent: a ticket already known is `already_taken`). */
  startTicket(ticket: Ticket): Promise<StartResult>;
  /** The watcher saw the ticket change in Atera (closed, resolved, reassigned…). */
  onTicketChanged(ticket: Ticket): Promise<void>;
  /** Deadlines, pending ticket changes and interrupted intakes; call every few seconds. */
  tick(): Promise<void>;
  /** After a start: finish what the previous process left half done. */
  recover(): Promise<void>;
}

const MAX_USER_TEXT = 4000;
/** Store key: the ticket a user was last handed over on, so later messages still reach the technician. */
const HANDED_OVER = 'engine.handed-over';
const HANDED_OVER_FOR_MS = 7 * 24 * 60 * 60_000;

interface HandedOver {
  ticketId: number;
  conversationId: string;
  at: string;
}
/** Thread conversation id (with its `;messageid=`) → ticket id, for commands said in a ticket's thread. */
const THREAD_INDEX = 'engine.ticket-threads';
const INTAKE_RETRY_MS = 30_000;

export function createConversationEngine(deps: EngineDeps): ConversationEngine {
  return new Engine(deps);
}

class Engine implements ConversationEngine {
  private readonly locks = new KeyedMutex();
  private readonly rateLimit: UserRateLimit;
  private readonly log: Log;

  constructor(private readonly deps: EngineDeps) {
    this.rateLimit = new UserRateLimit(deps.settings.userMessagesPerMinute);
    this.log = deps.log.child({ component: 'engine' });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Intake

  async startTicket(ticket: Ticket): Promise<StartResult> {
    const now = this.now();
    const created = await this.deps.store.update(ticket.id, (current) => {
      if (current) return { result: false };
      return { conversation: this.newRecord(ticket, now), result: true };
    });
    if (!created) return 'already_taken';
    this.deps.observer?.ticketTaken?.(ticket);
    await this.rememberTechnicianOf(ticket);
    return this.locks.run(ticket.id, () => this.continueIntake(ticket.id));
  }

  private newRecord(ticket: Ticket, now: string): ConversationRecord {
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
      updatedAt: now,
    };
  }

  /** Identify the user, then open the chat or queue behind the user's current conversation. */
  private async continueIntake(ticketId: number): Promise<StartResult> {
    const record = await this.deps.store.getConversation(ticketId);
    if (!record || record.state !== 'queued') return 'already_taken';
    const log = this.log.child({ ticketId });
    const ticket = record.ticket;

    if (!record.user) {
      const tenant = this.deps.tenants.tenantForCustomer(ticket.customer.id);
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
      const lookup = await this.deps.directory.findByEmail(tenant, email);
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
      const devices = await this.deps.desk
        .findDevices({ customerId: ticket.customer.id, email, displayName: user.displayName })
        .catch((error: unknown) => {
          log.warn({ err: asTicketZeroError(error) }, 'device lookup failed; continuing without devices');
          return [];
        });
      await this.write(ticketId, (current) => {
        if (!current) return { result: undefined };
        return { conversation: { ...current, user, devices, tenantKey: tenant.key }, result: undefined };
      });
    }

    const fresh = await this.deps.store.getConversation(ticketId);
    if (!fresh || fresh.state !== 'queued' || !fresh.user) return 'already_taken';
    const others = (await this.deps.store.findLiveByUser(fresh.user.id)).filter(
      (c) => c.ticketId !== ticketId,
    );
    const ahead = others.filter((c) => c.state !== 'queued' || c.createdAt < fresh.createdAt);
    if (ahead.length > 0) {
      await this.queueBehind(fresh, ahead);
      return 'queued';
    }
    await this.openConversation(fresh);
    return 'started';
  }

  private async decline(record: ConversationRecord, reason: string, why: string): Promise<StartResult> {
    const now = this.now();
    const updated = await this.write(record.ticketId, (current) => {
      if (!current || current.state !== 'queued') return { result: null };
      const next: ConversationRecord = {
        ...current,
        state: 'declined',
        outcome: { kind: 'declined', reason, at: now },
      };
      return {
        conversation: next,
        comments: [
          this.internal(note(`TicketZero did not take this ticket: ${why} A technician needs to handle it.`)),
        ],
        result: next,
      };
    });
    this.log.info({ ticketId: record.ticketId, reason }, 'ticket declined');
    this.deps.observer?.ticketDeclined?.(record.ticket, reason);
    if (updated) {
      await this.tellTechnicians(updated, `TicketZero did not take this ticket: ${why}`);
      this.deps.observer?.conversationEnded?.(updated);
    }
    return 'declined';
  }

  private async queueBehind(record: ConversationRecord, ahead: ConversationRecord[]): Promise<void> {
    const log = this.log.child({ ticketId: record.ticketId });
    const current = ahead.find((c) => c.chatConversationId) ?? ahead[0];
    await this.write(record.ticketId, (c) =>
      c
        ? {
            comments: [
              this.internal(
                note(
                  `the user already has a TicketZero conversation open (ticket #${current?.ticket.number ?? '?'}); this ticket waits and starts when that one ends.`,
                ),
              ),
            ],
            result: undefined,
          }
        : { result: undefined },
    );
    log.info({ aheadTicketId: current?.ticketId }, 'ticket queued behind the user’s current conversation');
    if (current?.chatConversationId) {
      await this.sendSafely(current.chatConversationId, {
        kind: 'text',
        text: `I also received your ticket #${record.ticket.number} ("${record.ticket.title}"). We will look at it as soon as we are done here.`,
      });
    }
    await this.ensureThread(record);
  }

  /** Opens the 1:1 chat, sends the ticket card and the first answer. Idempotent across restarts. */
  private async openConversation(record: ConversationRecord): Promise<void> {
    const log = this.log.child({ ticketId: record.ticketId });
    const user = record.user;
    if (!user) return;
    const conversationId =
      record.chatConversationId ??
      (await this.deps.chat.openChat({ tenant: user.tenant, userId: user.id, displayName: user.displayName }))
        .conversationId;
    if (record.state === 'queued') {
      // The ticket card is the first message; only once it reached the user do the conversation and its clock start.
      await this.deps.chat.send(conversationId, {
        kind: 'card',
        card: {
          kind: 'ticket_intro',
          ticket: ticketSummary(record, this.deps.settings.maxRounds),
          maxRounds: this.deps.settings.maxRounds,
          maxMinutes: this.deps.settings.maxMinutes,
        },
      });
      const now = this.clock();
      const started = await this.write(record.ticketId, (current) => {
        if (!current || current.state !== 'queued') return { result: null };
        const next: ConversationRecord = {
          ...current,
          state: 'active',
          chatConversationId: conversationId,
          startedAt: now.toISOString(),
          deadlineAt: deadlineFrom(now, this.deps.settings),
        };
        return {
          conversation: next,
          comments: [
            this.internal(
              note(
                `started a Teams conversation with ${user.displayName} (${user.mail ?? user.userPrincipalName}). Limits: ${this.deps.settings.maxRounds} rounds, ${this.deps.settings.maxMinutes} minutes.`,
              ),
            ),
          ],
          result: next,
        };
      });
      if (!started) return;
      record = started;
      log.info({ conversationId }, 'conversation opened');
      this.deps.observer?.conversationStarted?.(started);
    }
    const thread = await this.ensureThread(record);
    if (thread) record = thread;
    if (!record.turns.some((t) => t.role === 'assistant')) await this.answer(record, { inTurn: false });
  }

  // ---------------------------------------------------------------------------------------------------------
  // The user's side

  async onUserMessage(message: UserMessage): Promise<void> {
    const live = await this.deps.store.findLiveByUser(message.userId);
    const talking = live.filter((c) => c.state !== 'queued' && c.chatConversationId);
    const record = talking.find((c) => c.chatConversationId === message.conversationId) ?? talking[0];
    if (!record && live.length === 0 && (await this.addToHandedOverTicket(message))) return;
    if (!record) {
      await this.deps.chat.send(message.conversationId, {
        kind: 'text',
        text: live.length
          ? 'Thanks! I have your ticket and will start on it in a moment.'
          : 'Hi, I’m TicketZero, your IT team’s support assistant. I contact you here when you have an open IT ticket. There is no ticket I’m working on with you right now — to report a new problem, please contact your IT support as usual and I’ll get in touch.',
      });
      return;
    }
    await this.locks.run(record.ticketId, () => this.handleUserMessage(record.ticketId, message));
  }

  /**
   * After a hand-over, the user's messages in the same chat are added to the ticket (and its thread) for the
   * technician, for a week; the AI does not answer them. False when there is no such ticket.
   */
  private async addToHandedOverTicket(message: UserMessage): Promise<boolean> {
    const handed = await this.deps.store.getValue<HandedOver>(HANDED_OVER, message.userId);
    if (!handed || handed.conversationId !== message.conversationId) return false;
    if (this.clock().getTime() - Date.parse(handed.at) > HANDED_OVER_FOR_MS) return false;
    const record = await this.deps.store.getConversation(handed.ticketId);
    if (!record || (record.state !== 'escalated' && record.state !== 'timed_out')) return false;
    if (!this.rateLimit.allow(message.userId, this.clock().getTime())) return true;
    const text = message.text.trim().slice(0, MAX_USER_TEXT);
    if (!text) return false;
    const at = message.receivedAt || this.now();
    await this.write(record.ticketId, () => ({
      comments: [
        {
          text: `${record.user?.displayName ?? 'End user'} (end user, via Teams, after the hand-over):\n${text}`,
          visibility: this.deps.settings.commentVisibility,
          author: 'end_user',
          endUserId: record.ticket.endUser.id,
          timestampUtc: at,
          marker: `tz-${record.ticketId}-after-${message.activityId}`.slice(0, 80),
        },
      ],
      result: undefined,
    }));
    await this.mirror(record, 'user', text);
    await this.sendSafely(message.conversationId, {
      kind: 'text',
      text: `Thanks — I added this to ticket #${record.ticket.number} for the technician who is handling it.`,
    });
    this.log.info(
      { ticketId: record.ticketId, conversationId: message.conversationId },
      'message added after hand-over',
    );
    return true;
  }

  private async handleUserMessage(ticketId: number, message: UserMessage): Promise<void> {
    const record = await this.deps.store.getConversation(ticketId);
    if (!record || !isLive(record.state) || !record.chatConversationId) return;
    const log = this.log.child({ ticketId, conversationId: record.chatConversationId });
    if (record.turns.some((t) => t.inboundId === message.activityId)) {
      // A redelivery (the first delivery failed, perhaps with the instance that took it). If that message is
      // still unanswered and no live instance is answering it, answer it now.
      const last = record.turns.filter((t) => t.role === 'user').at(-1);
      if (record.state === 'active' && record.awaitingAnswer && last?.inboundId === message.activityId) {
        const leased = await this.takeAnswerLease(ticketId);
        if (leased) {
          log.info({ activityId: message.activityId }, 'answering a redelivered, unanswered message');
          await this.answer(leased, { inTurn: true });
          return;
        }
      }
      log.info({ activityId: message.activityId }, 'duplicate delivery ignored');
      return;
    }
    const nowDate = this.clock();
    if (!this.rateLimit.allow(message.userId, nowDate.getTime())) {
      log.warn({ userId: message.userId }, 'user over the message rate limit');
      await this.sendSafely(record.chatConversationId, {
        kind: 'text',
        text: 'You are sending messages faster than I can read them. Please wait a moment and send one message with everything you see.',
      });
      return;
    }
    let text = message.text.trim();
    if (text.length === 0) {
      await this.sendSafely(record.chatConversationId, {
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
      await this.timeOut(record.ticketId);
      return;
    }

    switch (record.state) {
      case 'paused':
      case 'taken_over': {
        const updated = await this.recordUserTurn(record, message, text, { countsAsRound: false });
        if (updated) await this.mirror(updated, 'user', text);
        return;
      }
      case 'awaiting_confirmation': {
        const answer = readConfirmation(text);
        const updated = await this.recordUserTurn(record, message, text, { countsAsRound: answer !== 'yes' });
        if (!updated) return;
        await this.mirror(updated, 'user', text);
        if (answer === 'yes') {
          await this.resolve(updated.ticketId, 'user_confirmed');
          return;
        }
        await this.setState(updated.ticketId, 'awaiting_confirmation', 'active');
        await this.continueTurn(updated.ticketId, text);
        return;
      }
      case 'active': {
        const updated = await this.recordUserTurn(record, message, text, { countsAsRound: true });
        if (!updated) return;
        await this.mirror(updated, 'user', text);
        await this.continueTurn(updated.ticketId, text);
        return;
      }
      default:
        return;
    }
  }

  /** After a user turn was recorded: hand over if asked, else let the model answer. */
  private async continueTurn(ticketId: number, text: string): Promise<void> {
    const record = await this.deps.store.getConversation(ticketId);
    if (!record || record.state !== 'active') return;
    if (asksForHuman(text)) {
      await this.escalate(ticketId, 'user_asked');
      return;
    }
    if (record.rounds > this.deps.settings.maxRounds) {
      await this.escalate(ticketId, 'still_broken_at_limit');
      return;
    }
    await this.deps.chat.sendTyping(record.chatConversationId!).catch(() => undefined);
    await this.answer(record, { inTurn: true });
  }

  private async recordUserTurn(
    record: ConversationRecord,
    message: UserMessage,
    text: string,
    options: { countsAsRound: boolean },
  ): Promise<ConversationRecord | null> {
    const at = message.receivedAt || this.now();
    return this.write(record.ticketId, (current) => {
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
        answerLease: options.countsAsRound ? this.lease() : (current.answerLease ?? null),
      };
      return {
        conversation: next,
        comments: [
          {
            text: userTurnComment(current, turn, rounds),
            visibility: this.deps.settings.commentVisibility,
            author: 'end_user',
            endUserId: current.ticket.endUser.id,
            timestampUtc: at,
            marker: this.marker(current.ticketId, turn.seq),
          },
        ],
        result: next,
      };
    });
  }

  /**
   * Asks the model for the next answer and delivers it. Streams in a live 1:1 turn where the chat allows.
   * The answer is written to the store (and queued for Atera) once it was delivered.
   */
  private async answer(record: ConversationRecord, _options: { inTurn: boolean }): Promise<void> {
    const conversationId = record.chatConversationId;
    if (!conversationId || !record.user) return;
    const log = this.log.child({ ticketId: record.ticketId, conversationId });
    const settings = this.deps.settings;
    const started = Date.now();
    const nowDate = this.clock();
    const awaitingConfirmation = false;
    const messages = buildSupportPrompt({
      ticket: record.ticket,
      user: record.user,
      devices: record.devices,
      transcript: record.turns
        .filter((t): t is Turn & { role: 'user' | 'assistant' | 'technician' } => t.role !== 'system')
        .map((t) => ({ role: t.role, text: t.text })),
      roundsLeft: roundsLeft(record, settings),
      minutesLeft: Math.floor(Math.min(minutesLeft(record, nowDate), settings.maxMinutes)),
      tokenBudget: settings.promptTokenBudget,
      awaitingConfirmation,
    });

    const writer = this.deps.chat.beginAnswer(conversationId);
    const guardOptions = { linkAllowList: settings.linkAllowList, forbidden: settings.forbiddenInAnswers };
    const stream = createGuardedAnswerStream(
      writer,
      (text) => guardAnswer(text, guardOptions),
      Math.max(80, ...settings.forbiddenInAnswers.map((s) => s.length)),
    );
    const visible = createVisibleTextFilter((piece) => stream.push(piece));
    const modelStarted = Date.now();
    let result: ChainResult;
    try {
      result = await this.deps.model.complete({
        messages,
        maxTokens: settings.maxAnswerTokens,
        onText: (piece, info) => {
          if (info.restart) {
            visible.reset();
            stream.reset();
          }
          visible.push(piece);
        },
      });
    } catch (error) {
      // The chain reports provider failures as results; anything thrown is a bug or a cancelled request.
      log.error({ err: asTicketZeroError(error) }, 'model chain threw');
      result = {
        status: 'all_failed',
        failures: [{ provider: 'chain', status: 'error', error: 'unexpected error' }],
      };
    }
    const modelMs = Date.now() - modelStarted;

    if (result.status !== 'ok') {
      const language = record.user.preferredLanguage;
      await writer.finish(fallbackAnswer(language));
      log.warn(
        { failures: result.failures.map((f) => `${f.provider}:${f.status}`) },
        'every AI provider failed',
      );
      await this.recordAssistantTurn(record.ticketId, fallbackAnswer(language), null, {
        extraComments: [
          this.internal(note(`no AI provider could answer. ${describeFailures(result.failures)}`)),
        ],
      });
      await this.escalate(record.ticketId, 'all_providers_failed');
      this.deps.observer?.turnAnswered?.({
        ticketId: record.ticketId,
        provider: null,
        modelMs,
        totalMs: Date.now() - started,
      });
      return;
    }

    const reply = parseAssistantReply(result.text);
    const guarded = guardAnswer(reply.text, guardOptions);
    if (guarded.problems.length > 0) log.warn({ problems: guarded.problems }, 'answer adjusted by the guard');
    const projected: ConversationRecord = record;
    const limitReached = roundLimitReached(projected, settings) && reply.outcome === 'continue';
    const notice = limitReached ? null : limitNotice(projected, nowDate, settings);
    const finalText = notice ? `${guarded.text}\n\n${notice}` : guarded.text;
    await writer.finish(finalText);
    // The answer that asks "is it fixed?" and the wait for that confirmation are one write, so a crash between
    // them cannot make the user confirm twice.
    const saved = await this.recordAssistantTurn(record.ticketId, finalText, result.provider, {
      category: reply.category,
      awaitConfirmation: reply.outcome === 'resolved_pending_confirmation',
    });
    this.deps.observer?.turnAnswered?.({
      ticketId: record.ticketId,
      provider: result.provider,
      modelMs,
      totalMs: Date.now() - started,
    });
    log.info(
      { provider: result.provider, modelMs, round: record.rounds, outcome: reply.outcome },
      'answered',
    );
    if (!saved) return;
    await this.mirror(saved, 'assistant', finalText);

    if (reply.outcome === 'needs_human') {
      await this.escalate(record.ticketId, 'model_needs_human', reply.reason);
      return;
    }
    if (reply.outcome === 'resolved_pending_confirmation') {
      await this.askForConfirmation(saved);
      return;
    }
    if (roundLimitReached(saved, settings)) {
      await this.escalate(record.ticketId, 'round_limit');
      return;
    }
    await this.updateThreadCard(saved);
  }

  private async recordAssistantTurn(
    ticketId: number,
    text: string,
    provider: string | null,
    options: { category?: string | null; extraComments?: NewComment[]; awaitConfirmation?: boolean },
  ): Promise<ConversationRecord | null> {
    const at = this.now();
    return this.write(ticketId, (current) => {
      if (!current || !isLive(current.state)) return { result: null };
      const turn: Turn = {
        seq: current.turns.length + 1,
        role: 'assistant',
        text,
        at,
        ...(provider ? { provider } : {}),
      };
      const next: ConversationRecord = {
        ...current,
        turns: [...current.turns, turn],
        state:
          options.awaitConfirmation && current.state === 'active' ? 'awaiting_confirmation' : current.state,
        awaitingAnswer: false,
        answerLease: null,
        lastProvider: provider ?? current.lastProvider,
        category: options.category ?? current.category,
      };
      return {
        conversation: next,
        comments: [
          {
            text: assistantTurnComment(turn, current.rounds, this.deps.settings.maxRounds),
            visibility: this.deps.settings.commentVisibility,
            author: 'ticketzero',
            timestampUtc: at,
            marker: this.marker(ticketId, turn.seq),
          },
          ...(options.extraComments ?? []),
        ],
        result: next,
      };
    });
  }

  private async askForConfirmation(updated: ConversationRecord): Promise<void> {
    if (updated.state !== 'awaiting_confirmation' || !updated.chatConversationId) return;
    await this.deps.chat.send(updated.chatConversationId, {
      kind: 'card',
      card: {
        kind: 'confirm_fix',
        ticket: ticketSummary(updated, this.deps.settings.maxRounds),
        question: 'Is the problem fixed?',
      },
    });
    await this.updateThreadCard(updated);
  }

  async onUserCardAction(action: UserCardAction): Promise<CardSpec | null> {
    const record = await this.deps.store.getConversation(action.ticketId);
    // A card action only ever acts on the presser's own ticket.
    if (!record || record.user?.id !== action.userId) return null;
    return this.locks.run(record.ticketId, async () => {
      const current = await this.deps.store.getConversation(action.ticketId);
      if (!current || !isLive(current.state) || !current.chatConversationId) return null;
      const message = (text: string): UserMessage => ({
        conversationId: current.chatConversationId!,
        activityId: `card:${action.verb}:${current.turns.length}`,
        userId: action.userId,
        tenantId: action.tenantId,
        text,
        attachmentCount: 0,
        receivedAt: this.now(),
      });
      switch (action.verb) {
        case 'confirm_fixed': {
          if (current.state !== 'awaiting_confirmation' && current.state !== 'active') return null;
          const updated = await this.recordUserTurn(
            current,
            message('Yes, it’s fixed.'),
            'Yes, it’s fixed.',
            {
              countsAsRound: false,
            },
          );
          if (!updated) return null;
          await this.mirror(updated, 'user', 'Yes, it’s fixed. (card)');
          const resolved = await this.resolve(current.ticketId, 'user_confirmed');
          return resolved ? this.resolutionCard(resolved) : null;
        }
        case 'still_broken': {
          if (current.state !== 'awaiting_confirmation') return null;
          const text = 'No, it’s still broken.';
          const updated = await this.recordUserTurn(current, message(text), text, { countsAsRound: true });
          if (!updated) return null;
          await this.mirror(updated, 'user', `${text} (card)`);
          await this.setState(updated.ticketId, 'awaiting_confirmation', 'active');
          await this.continueTurn(updated.ticketId, text);
          return {
            kind: 'confirm_fix',
            ticket: ticketSummary(updated, this.deps.settings.maxRounds),
            question: 'Thanks — let’s keep going.',
          };
        }
        case 'ask_human': {
          const text = 'I’d like to talk to a technician.';
          const updated = await this.recordUserTurn(current, message(text), text, { countsAsRound: false });
          if (updated) await this.mirror(updated, 'user', `${text} (card)`);
          await this.escalate(current.ticketId, 'user_asked');
          return null;
        }
      }
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Outcomes

  private async resolve(ticketId: number, reason: string): Promise<ConversationRecord | null> {
    const now = this.now();
    const ended = await this.write(ticketId, (current) => {
      if (!current || !isLive(current.state)) return { result: null };
      const next: ConversationRecord = {
        ...current,
        state: 'resolved',
        awaitingAnswer: false,
        outcome: { kind: 'resolved', reason, at: now },
        pendingTicketChange: { status: 'Resolved' },
      };
      return { conversation: next, comments: [this.internal(resolutionComment(next))], result: next };
    });
    if (!ended) return null;
    this.log.info(
      { ticketId, conversationId: ended.chatConversationId, outcome: 'resolved' },
      'conversation ended',
    );
    await this.applyPendingChange(ended);
    if (ended.chatConversationId) {
      await this.sendSafely(ended.chatConversationId, { kind: 'card', card: this.resolutionCard(ended) });
    }
    await this.finish(ended, 'Resolved: the user confirmed the fix.');
    return ended;
  }

  private resolutionCard(record: ConversationRecord): CardSpec {
    const s = summarise(record, 'resolved');
    return {
      kind: 'resolution_summary',
      ticket: ticketSummary(record, this.deps.settings.maxRounds),
      problem: s.problem,
      steps: s.tried,
      result: 'Fixed — you confirmed it works. Your ticket is now resolved.',
    };
  }

  private async escalate(
    ticketId: number,
    reason: string,
    modelNote?: string | null,
    by?: string,
  ): Promise<void> {
    await this.endAs(ticketId, 'escalated', reason, modelNote ?? null, by);
  }

  private async timeOut(ticketId: number): Promise<void> {
    await this.endAs(ticketId, 'timed_out', 'time_limit', null);
  }

  private async endAs(
    ticketId: number,
    kind: Extract<OutcomeKind, 'escalated' | 'timed_out'>,
    reason: string,
    modelNote: string | null,
    by?: string,
  ): Promise<void> {
    const now = this.now();
    const { escalation } = this.deps.settings;
    const ended = await this.write(ticketId, (current) => {
      if (!current || !isLive(current.state)) return { result: null };
      const change: TicketChange = {};
      if (escalation.priority) change.priority = escalation.priority;
      if (escalation.status && escalation.status !== current.ticket.status) change.status = escalation.status;
      const next: ConversationRecord = {
        ...current,
        state: kind,
        awaitingAnswer: false,
        outcome: { kind, reason, at: now, ...(by ? { by } : {}) },
        pendingTicketChange: Object.keys(change).length > 0 ? change : null,
      };
      return {
        conversation: next,
        comments: [this.internal(handoverComment(next, reason, modelNote))],
        result: next,
      };
    });
    if (!ended) return;
    const log = this.log.child({ ticketId, conversationId: ended.chatConversationId });
    log.info({ outcome: kind, reason }, 'conversation ended');
    if (ended.user && ended.chatConversationId) {
      // What the user writes afterwards still reaches the technician (see onUserMessage).
      await this.deps.store.setValue<HandedOver>(HANDED_OVER, ended.user.id, {
        ticketId,
        conversationId: ended.chatConversationId,
        at: now,
      });
    }
    await this.applyPendingChange(ended);
    if (ended.chatConversationId) {
      await this.sendSafely(ended.chatConversationId, {
        kind: 'card',
        card: {
          kind: 'handover_notice',
          ticket: ticketSummary(ended, this.deps.settings.maxRounds),
          reason: userFacingReason(reason),
          nextSteps:
            'A technician has your ticket and everything we tried, so you won’t have to repeat yourself. They will contact you here or by phone.',
        },
      });
    }
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
  }

  /** Common end: thread card and message, then the user's next queued ticket. */
  private async finish(
    ended: ConversationRecord,
    threadText: string,
    mentionTechnician = false,
  ): Promise<void> {
    this.deps.observer?.conversationEnded?.(ended);
    await this.updateThreadCard(ended);
    if (ended.thread) {
      const mention = mentionTechnician ? await this.technicianMention(ended) : undefined;
      await this.postToThread(ended, { kind: 'text', text: threadText }, mention);
    }
    if (ended.user) await this.startNextQueued(ended.user.id);
  }

  private async startNextQueued(userId: string): Promise<void> {
    const live = await this.deps.store.findLiveByUser(userId);
    if (live.some((c) => c.state !== 'queued')) return;
    const next = live.find((c) => c.state === 'queued' && c.user);
    if (!next) return;
    await this.locks.run(next.ticketId, async () => {
      const fresh = await this.deps.store.getConversation(next.ticketId);
      if (fresh?.state === 'queued') await this.openConversation(fresh);
    });
  }

  async onTicketChanged(ticket: Ticket): Promise<void> {
    await this.rememberTechnicianOf(ticket);
    const record = await this.deps.store.getConversation(ticket.id);
    if (!record || !isLive(record.state)) return;
    const status = String(ticket.status).toLowerCase();
    const closed = status === 'closed' || status === 'resolved';
    const reassigned = this.reassignedToSomeoneElse(record.ticket, ticket);
    if (!closed && !reassigned) {
      if (ticket.modifiedAt !== record.ticket.modifiedAt) {
        await this.write(ticket.id, (c) =>
          c ? { conversation: { ...c, ticket }, result: undefined } : { result: undefined },
        );
      }
      return;
    }
    await this.locks.run(ticket.id, async () => {
      // Decided again under the lock: a technician's "reassign" may have changed the ticket a moment ago.
      const current = await this.deps.store.getConversation(ticket.id);
      if (!current || (!closed && !this.reassignedToSomeoneElse(current.ticket, ticket))) return;
      const now = this.now();
      const reason = closed ? `ticket_${status}_in_atera` : 'reassigned_in_atera';
      const ended = await this.write(ticket.id, (c) => {
        if (!c || !isLive(c.state)) return { result: null };
        const next: ConversationRecord = {
          ...c,
          ticket,
          state: 'ended_in_atera',
          awaitingAnswer: false,
          outcome: { kind: 'ended_in_atera', reason, at: now },
        };
        return {
          conversation: next,
          comments: [
            this.internal(
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
      this.log.info({ ticketId: ticket.id, reason }, 'conversation ended in Atera');
      if (ended.chatConversationId) {
        await this.sendSafely(ended.chatConversationId, {
          kind: 'text',
          text: closed
            ? `Your ticket #${ticket.number} was ${status} by your IT team, so I’ll stop here. Thanks!`
            : `A technician (${ticket.technician.fullName ?? 'from your IT team'}) is now handling ticket #${ticket.number} and will continue with you.`,
        });
      }
      await this.finish(ended, closed ? `Ended: ticket ${status} in Atera.` : 'Ended: reassigned in Atera.');
    });
  }

  private reassignedToSomeoneElse(before: Ticket, after: Ticket): boolean {
    const changed =
      (after.technician.contactId ?? null) !== (before.technician.contactId ?? null) ||
      (after.technician.email ?? '').toLowerCase() !== (before.technician.email ?? '').toLowerCase();
    if (!changed) return false;
    if (!after.technician.contactId && !after.technician.email) return false;
    return !this.isOwnTechnician(after.technician);
  }

  private isOwnTechnician(technician: Ticket['technician']): boolean {
    const own = this.deps.settings.ownTechnician;
    return (
      (own.contactId !== undefined && technician.contactId === own.contactId) ||
      (own.email !== undefined && (technician.email ?? '').toLowerCase() === own.email.toLowerCase())
    );
  }

  // ---------------------------------------------------------------------------------------------------------
  // Technicians

  /** Atera has no technician list: technicians seen on tickets join the directory "reassign" searches. */
  private async rememberTechnicianOf(ticket: Ticket): Promise<void> {
    const { technician } = ticket;
    if (!technician.email || this.isOwnTechnician(technician)) return;
    try {
      await this.deps.technicianDirectory.remember({
        name: technician.fullName ?? technician.email,
        email: technician.email,
        ateraContactId: technician.contactId ?? null,
        userId: null,
      });
    } catch (error) {
      this.log.warn(
        { ticketId: ticket.id, err: asTicketZeroError(error) },
        'could not remember a technician',
      );
    }
  }

  async onTechnicianCommand(command: TechnicianCommand): Promise<OutgoingMessage> {
    const log = this.log.child({ conversationId: command.conversationId, technicianId: command.from.userId });
    const allowed = await this.deps.authority.isTechnician(command.from, { teamId: command.teamId });
    if (!allowed) {
      log.warn({}, 'command refused: not a technician');
      return { kind: 'text', text: 'Only members of the technicians’ team can give TicketZero commands.' };
    }
    const parsed = parseTechnicianCommand(command.text);
    if (parsed.command.name === 'use_this_channel') {
      if (!command.teamId || !command.channelId) {
        return { kind: 'text', text: 'Say “use this channel” in a channel of the technicians’ team.' };
      }
      await this.deps.technicians.useChannel({
        teamId: command.teamId,
        channelId: command.channelId,
        tenantId: command.from.tenantId,
      });
      log.info({ teamId: command.teamId }, 'technicians’ channel captured');
      return {
        kind: 'text',
        text: 'From now on, each ticket TicketZero takes gets its own thread in this channel.',
      };
    }
    if (parsed.command.name === 'help') return { kind: 'text', text: TECHNICIAN_HELP };
    if (!(await this.deps.technicians.isConfigured())) {
      // Before a technicians' channel exists, members of any team the bot is in may only capture one.
      return {
        kind: 'text',
        text: 'There is no technicians’ channel yet. Say “use this channel” in the channel where technicians work.',
      };
    }

    const record = await this.findTicketFor(command.conversationId, parsed.ticketRef);
    if (!record) {
      if (parsed.command.name === 'unknown') return { kind: 'text', text: TECHNICIAN_HELP };
      return {
        kind: 'text',
        text: parsed.ticketRef
          ? `I don’t know ticket #${parsed.ticketRef}.`
          : 'Which ticket? Say it in the ticket’s thread, or add its number, like “status #1234”.',
      };
    }
    try {
      return await this.locks.run(record.ticketId, () =>
        this.runCommand(record.ticketId, parsed.command, command),
      );
    } catch (error) {
      // The technician hears that it failed (rather than nothing); the turn itself succeeds.
      const err = asTicketZeroError(error);
      log.error(
        { ticketId: record.ticketId, command: parsed.command.name, err },
        'technician command failed',
      );
      return {
        kind: 'text',
        text: `That did not work on #${record.ticket.number}: ${err.message}. Please try again.`,
      };
    }
  }

  async onTechnicianCardAction(action: TechnicianCardAction): Promise<CardSpec | null> {
    const allowed = await this.deps.authority.isTechnician(action.from, { teamId: action.teamId });
    if (!allowed) return null;
    const commands: Record<TechnicianCardAction['verb'], ParsedCommand> = {
      escalate: { name: 'escalate', reason: null },
      pause: { name: 'pause' },
      resume: { name: 'resume' },
      take_over: { name: 'take_over' },
      hand_back: { name: 'hand_back' },
      status: { name: 'status' },
    };
    await this.locks.run(action.ticketId, () =>
      this.runCommand(
        action.ticketId,
        commands[action.verb],
        {
          from: action.from,
          conversationId: action.conversationId,
          teamId: action.teamId,
          channelId: action.channelId,
          text: action.verb,
          mentions: [],
        },
        // The card's Refresh (also run by Teams on its own when the card is shown) is not a command to record.
        { viaCard: true },
      ),
    );
    const record = await this.deps.store.getConversation(action.ticketId);
    return record ? this.threadCard(record) : null;
  }

  private async findTicketFor(
    conversationId: string,
    ticketRef: string | null,
  ): Promise<ConversationRecord | null> {
    if (ticketRef) {
      const byId = await this.deps.store.getConversation(Number(ticketRef));
      if (byId) return byId;
      const live = await this.deps.store.listLive();
      return live.find((c) => c.ticket.number === ticketRef) ?? null;
    }
    if (!conversationId.includes(';messageid=')) return null;
    // Each thread is its own `;messageid=`: only an exact match names the ticket (ended tickets too).
    const indexed = await this.deps.store.getValue<number>(THREAD_INDEX, conversationId);
    if (indexed !== null) return this.deps.store.getConversation(indexed);
    const live = await this.deps.store.findByThread(conversationId);
    return live?.thread?.threadId === conversationId ? live : null;
  }

  private async runCommand(
    ticketId: number,
    command: ParsedCommand,
    context: TechnicianCommand,
    options: { viaCard?: boolean } = {},
  ): Promise<OutgoingMessage> {
    const record = await this.deps.store.getConversation(ticketId);
    if (!record) return { kind: 'text', text: 'That ticket is no longer known to TicketZero.' };
    const who = context.from.name;
    const log = this.log.child({
      ticketId,
      conversationId: record.chatConversationId,
      command: command.name,
    });
    const audit = (what: string): NewComment => this.internal(note(`${what} — by ${who} in Teams.`));
    const reply = (text: string): OutgoingMessage => ({ kind: 'text', text });

    switch (command.name) {
      case 'status':
        if (!options.viaCard) {
          await this.write(ticketId, (c) =>
            c ? { comments: [audit('checked the status')], result: undefined } : { result: undefined },
          );
        }
        return reply(this.statusText(record));
      case 'help':
      case 'use_this_channel':
        return reply(TECHNICIAN_HELP);
      case 'reassign': {
        const target = command.target || context.mentions.find((m) => m.name)?.name || '';
        if (!target)
          return reply('Reassign to whom? For example: “reassign Dana” or “reassign dana@msp.example”.');
        const matches = await this.deps.technicianDirectory.find(target.replace(/<\/?at>/g, '').trim());
        if (matches.length === 0) return reply(`No technician matches “${target}”.`);
        if (matches.length > 1) {
          return reply(
            `“${target}” matches several technicians: ${matches.map((t) => `${t.name} (${t.email})`).join(', ')}. Which one? Reply with the e-mail.`,
          );
        }
        const technician = matches[0]!;
        try {
          await this.deps.desk.updateTicket(ticketId, {
            technicianEmail: technician.email,
            ...(technician.ateraContactId ? { technicianContactId: technician.ateraContactId } : {}),
          });
        } catch (error) {
          const err = asTicketZeroError(error);
          log.warn({ technician: technician.email, err }, 'Atera refused the reassignment');
          return reply(
            `Atera did not accept ${technician.name} (${technician.email}) as the technician of #${record.ticket.number} (${err.message}). Nothing was changed.`,
          );
        }
        const updated = await this.write(ticketId, (c) => {
          if (!c) return { result: null };
          const next: ConversationRecord = {
            ...c,
            ticket: {
              ...c.ticket,
              technician: {
                contactId: technician.ateraContactId,
                email: technician.email,
                fullName: technician.name,
              },
            },
          };
          return {
            conversation: next,
            comments: [audit(`reassigned to ${technician.name} (${technician.email})`)],
            result: next,
          };
        });
        log.info({ technician: technician.email }, 'ticket reassigned');
        if (updated) await this.updateThreadCard(updated);
        return reply(`Reassigned ticket #${record.ticket.number} to ${technician.name} in Atera.`);
      }
      case 'escalate': {
        if (!isLive(record.state))
          return reply(`Ticket #${record.ticket.number} is already ${record.state}.`);
        await this.write(ticketId, (c) =>
          c
            ? {
                comments: [audit(`escalated${command.reason ? `: ${command.reason}` : ''}`)],
                result: undefined,
              }
            : { result: undefined },
        );
        await this.endAs(ticketId, 'escalated', 'technician', command.reason, who);
        return reply(`Escalated ticket #${record.ticket.number}; the AI has stopped and the user was told.`);
      }
      case 'pause': {
        if (record.state !== 'active' && record.state !== 'awaiting_confirmation') {
          return reply(`Ticket #${record.ticket.number} is ${record.state}; nothing to pause.`);
        }
        const updated = await this.transition(ticketId, record.state, 'paused', audit('paused the AI'));
        if (updated) await this.updateThreadCard(updated);
        return reply(
          `Paused: the AI holds its answers on #${record.ticket.number}. Say “resume” to continue.`,
        );
      }
      case 'resume': {
        if (record.state !== 'paused') return reply(`Ticket #${record.ticket.number} is not paused.`);
        const updated = await this.transition(ticketId, 'paused', 'active', audit('resumed the AI'));
        if (updated) {
          await this.updateThreadCard(updated);
          if (updated.turns.at(-1)?.role === 'user') await this.answer(updated, { inTurn: false });
        }
        return reply(`Resumed the AI on #${record.ticket.number}.`);
      }
      case 'take_over': {
        if (!isLive(record.state) || record.state === 'queued') {
          return reply(
            `Ticket #${record.ticket.number} is ${record.state}; there is no conversation to take over.`,
          );
        }
        const updated = await this.write(ticketId, (c) => {
          if (!c || !isLive(c.state)) return { result: null };
          const next: ConversationRecord = {
            ...c,
            state: 'taken_over',
            takenOverBy: { id: context.from.userId, name: who },
            awaitingAnswer: false,
          };
          return { conversation: next, comments: [audit('took over the conversation')], result: next };
        });
        if (updated) this.deps.observer?.conversationTakenOver?.(updated);
        if (updated?.chatConversationId) {
          await this.sendSafely(updated.chatConversationId, {
            kind: 'text',
            text: `${who}, a technician from your IT team, is joining this chat and will continue with you.`,
          });
        }
        if (updated) await this.updateThreadCard(updated);
        return reply(
          `You have taken over #${record.ticket.number}. Mention me with your message to send it to the user; say “hand back” to return it to the AI.`,
        );
      }
      case 'hand_back': {
        if (record.state !== 'taken_over') return reply(`Ticket #${record.ticket.number} is not taken over.`);
        const now = this.clock();
        if (roundLimitReached(record, this.deps.settings) || isPastDeadline(record, now)) {
          return reply(
            `No AI rounds or time left on #${record.ticket.number}; it stays with you. Say “escalate” to hand it to the queue.`,
          );
        }
        const updated = await this.write(ticketId, (c) => {
          if (!c || c.state !== 'taken_over') return { result: null };
          const next: ConversationRecord = { ...c, state: 'active', takenOverBy: null };
          return {
            conversation: next,
            comments: [audit('handed the conversation back to the AI')],
            result: next,
          };
        });
        if (updated?.chatConversationId) {
          await this.sendSafely(updated.chatConversationId, {
            kind: 'text',
            text: 'I’m TicketZero again — let’s continue. Tell me what you see now.',
          });
        }
        if (updated) await this.updateThreadCard(updated);
        return reply(`Handed #${record.ticket.number} back to the AI.`);
      }
      case 'unknown': {
        if (record.state === 'taken_over' && record.takenOverBy?.id === context.from.userId) {
          return this.relayTechnicianMessage(record, context);
        }
        return reply(TECHNICIAN_HELP);
      }
    }
  }

  private async relayTechnicianMessage(
    record: ConversationRecord,
    context: TechnicianCommand,
  ): Promise<OutgoingMessage> {
    const text = context.text.trim();
    if (!text || !record.chatConversationId) return { kind: 'text', text: 'Nothing to send.' };
    const at = this.now();
    const saved = await this.write(record.ticketId, (c) => {
      if (!c || c.state !== 'taken_over') return { result: null };
      const turn: Turn = {
        seq: c.turns.length + 1,
        role: 'technician',
        text,
        at,
        authorName: context.from.name,
      };
      return {
        conversation: { ...c, turns: [...c.turns, turn] },
        comments: [
          {
            text: technicianTurnComment(turn),
            visibility: this.deps.settings.commentVisibility,
            author: 'ticketzero',
            timestampUtc: at,
            marker: this.marker(c.ticketId, turn.seq),
          },
        ],
        result: turn,
      };
    });
    if (!saved) return { kind: 'text', text: 'The conversation is no longer taken over.' };
    await this.deps.chat.send(record.chatConversationId, { kind: 'text', text, speaker: context.from.name });
    return { kind: 'text', text: `Sent to ${record.user?.displayName ?? 'the user'}.` };
  }

  private statusText(record: ConversationRecord): string {
    const s = this.deps.settings;
    const left = record.deadlineAt
      ? `${Math.max(0, Math.round(minutesLeft(record, this.clock())))} min left`
      : 'not started';
    return [
      `Ticket #${record.ticket.number} — ${record.ticket.title}`,
      `State: ${record.state}${record.outcome ? ` (${describeReason(record.outcome.reason)})` : ''}`,
      `User: ${record.user?.displayName ?? record.ticket.endUser.email ?? 'unknown'}`,
      `Round ${record.rounds} of ${s.maxRounds}, ${left}`,
      `Last provider: ${record.lastProvider ?? 'none yet'}`,
      record.takenOverBy ? `Taken over by ${record.takenOverBy.name}` : null,
    ]
      .filter(Boolean)
      .join('\n');
  }

  async onAppInstalled(event: { tenantId: string; userId: string; conversationId: string }): Promise<void> {
    this.log.info({ userId: event.userId, conversationId: event.conversationId }, 'app installed for a user');
  }

  // ---------------------------------------------------------------------------------------------------------
  // Time and recovery

  async tick(): Promise<void> {
    const now = this.clock();
    const live = await this.deps.store.listLive();
    for (const record of live) {
      try {
        if (
          (record.state === 'active' || record.state === 'awaiting_confirmation') &&
          isPastDeadline(record, now)
        ) {
          await this.locks.run(record.ticketId, () => this.timeOut(record.ticketId));
        } else if (
          record.state === 'queued' &&
          now.getTime() - Date.parse(record.updatedAt) >= INTAKE_RETRY_MS &&
          (!record.user || !live.some((c) => c.user?.id === record.user?.id && c.state !== 'queued'))
        ) {
          // An intake that failed half-way (Graph or Teams unavailable): try again.
          await this.locks.run(record.ticketId, () => this.continueIntake(record.ticketId));
        } else if (
          record.state === 'active' &&
          record.awaitingAnswer &&
          record.answerLease &&
          Date.parse(record.answerLease.until) <= now.getTime()
        ) {
          // The instance that took this message died (or failed) before answering it: answer it here.
          await this.locks.run(record.ticketId, async () => {
            const leased = await this.takeAnswerLease(record.ticketId);
            if (leased) await this.answer(leased, { inTurn: false });
          });
        } else if (
          record.state === 'active' &&
          !record.turns.some((t) => t.role === 'assistant') &&
          now.getTime() - Date.parse(record.updatedAt) >= INTAKE_RETRY_MS
        ) {
          // The ticket card reached the user but the first answer did not: send it now.
          await this.locks.run(record.ticketId, async () => {
            const fresh = await this.deps.store.getConversation(record.ticketId);
            if (fresh?.state === 'active' && !fresh.turns.some((t) => t.role === 'assistant')) {
              await this.openConversation(fresh);
            }
          });
        }
      } catch (error) {
        this.log.warn(
          { ticketId: record.ticketId, err: asTicketZeroError(error) },
          'tick step failed; will retry',
        );
      }
    }
    const recent = await this.deps.store.listEnded({ limit: 50 });
    for (const record of recent) {
      if (record.pendingTicketChange) await this.applyPendingChange(record);
    }
  }

  async recover(): Promise<void> {
    const now = this.clock();
    const live = await this.deps.store.listLive();
    this.log.info({ live: live.length }, 'recovering live conversations');
    for (const record of live) {
      try {
        await this.locks.run(record.ticketId, async () => {
          const fresh = await this.deps.store.getConversation(record.ticketId);
          if (!fresh || !isLive(fresh.state)) return;
          if (
            (fresh.state === 'active' || fresh.state === 'awaiting_confirmation') &&
            isPastDeadline(fresh, now)
          ) {
            await this.timeOut(fresh.ticketId);
          } else if (fresh.state === 'queued') {
            await this.continueIntake(fresh.ticketId);
          } else if (fresh.state === 'active' && !fresh.turns.some((t) => t.role === 'assistant')) {
            await this.openConversation(fresh);
          } else if (fresh.state === 'active' && fresh.awaitingAnswer) {
            const leased = await this.takeAnswerLease(fresh.ticketId);
            if (leased) await this.answer(leased, { inTurn: false });
          }
        });
      } catch (error) {
        this.log.warn({ ticketId: record.ticketId, err: asTicketZeroError(error) }, 'recovery step failed');
      }
    }
    const recent = await this.deps.store.listEnded({ limit: 100 });
    for (const record of recent) {
      if (record.pendingTicketChange) await this.applyPendingChange(record);
    }
  }

  private async applyPendingChange(record: ConversationRecord): Promise<void> {
    const change = record.pendingTicketChange;
    if (!change) return;
    try {
      await this.deps.desk.updateTicket(record.ticketId, change);
      await this.write(record.ticketId, (c) =>
        c ? { conversation: { ...c, pendingTicketChange: null }, result: undefined } : { result: undefined },
      );
    } catch (error) {
      this.log.warn(
        { ticketId: record.ticketId, err: asTicketZeroError(error) },
        'ticket update failed; will retry on the next tick',
      );
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Technicians' thread

  private threadCard(record: ConversationRecord): CardSpec {
    const summary =
      record.outcome && record.state !== 'resolved'
        ? summarise(record, record.outcome.reason).nextStep
        : record.state === 'resolved'
          ? 'Resolved: the user confirmed the fix.'
          : null;
    return {
      kind: 'ticket_thread',
      ticket: ticketSummary(record, this.deps.settings.maxRounds),
      summary,
      lastProvider: record.lastProvider,
    };
  }

  private async ensureThread(record: ConversationRecord): Promise<ConversationRecord | null> {
    if (record.thread) return record;
    try {
      if (!(await this.deps.technicians.isConfigured())) return null;
      const thread = await this.deps.technicians.openThread(this.threadCard(record));
      await this.deps.store.setValue(THREAD_INDEX, thread.threadId, record.ticketId);
      return await this.write(record.ticketId, (c) =>
        c ? { conversation: { ...c, thread }, result: { ...c, thread } } : { result: null },
      );
    } catch (error) {
      this.log.warn(
        { ticketId: record.ticketId, err: asTicketZeroError(error) },
        'could not open the technicians’ thread',
      );
      return null;
    }
  }

  private async updateThreadCard(record: ConversationRecord): Promise<void> {
    if (!record.thread) return;
    try {
      await this.deps.technicians.updateCard(record.thread, this.threadCard(record));
    } catch (error) {
      this.log.warn(
        { ticketId: record.ticketId, err: asTicketZeroError(error) },
        'thread card update failed',
      );
    }
  }

  private async mirror(record: ConversationRecord, who: 'user' | 'assistant', text: string): Promise<void> {
    if (!record.thread) return;
    const name = who === 'user' ? (record.user?.displayName ?? 'User') : 'TicketZero';
    await this.postToThread(record, {
      kind: 'text',
      text,
      speaker: `${name} (round ${record.rounds})`,
      literal: true,
    });
  }

  private async postToThread(
    record: ConversationRecord,
    message: OutgoingMessage,
    mention?: { id: string; name: string },
  ): Promise<void> {
    if (!record.thread) return;
    try {
      await this.deps.technicians.post(record.thread, message, mention);
    } catch (error) {
      this.log.warn({ ticketId: record.ticketId, err: asTicketZeroError(error) }, 'thread post failed');
    }
  }

  private async tellTechnicians(record: ConversationRecord, text: string): Promise<void> {
    const withThread = await this.ensureThread(record);
    if (withThread) await this.postToThread(withThread, { kind: 'text', text });
  }

  private async technicianMention(
    record: ConversationRecord,
  ): Promise<{ id: string; name: string } | undefined> {
    const email = record.ticket.technician.email;
    if (!email) return undefined;
    const found = await this.deps.technicianDirectory.find(email).catch(() => []);
    const tech = found[0];
    return tech?.userId ? { id: tech.userId, name: tech.name } : undefined;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Plumbing

  private async write<T>(
    ticketId: number,
    change: (current: ConversationRecord | null) => Mutation<T>,
  ): Promise<T> {
    let queued = false;
    const result = await this.deps.store.update(ticketId, (current) => {
      const mutation = change(current);
      if (mutation.conversation) mutation.conversation = { ...mutation.conversation, updatedAt: this.now() };
      queued = (mutation.comments?.length ?? 0) > 0;
      return mutation;
    });
    if (queued) this.deps.onCommentsQueued?.();
    return result;
  }

  private async setState(
    ticketId: number,
    from: ConversationState,
    to: ConversationState,
  ): Promise<ConversationRecord | null> {
    return this.transition(ticketId, from, to);
  }

  private async transition(
    ticketId: number,
    from: ConversationState,
    to: ConversationState,
    comment?: NewComment,
  ): Promise<ConversationRecord | null> {
    return this.write(ticketId, (c) => {
      if (!c || c.state !== from) return { result: null };
      const next: ConversationRecord = { ...c, state: to };
      return { conversation: next, ...(comment ? { comments: [comment] } : {}), result: next };
    });
  }

  private lease(): { by: string; until: string } {
    const until = new Date(this.clock().getTime() + (this.deps.settings.answerLeaseMs ?? 120_000));
    return { by: this.deps.settings.instanceId ?? 'engine', until: until.toISOString() };
  }

  /** Takes the right to answer the last user message, unless another live instance holds it. */
  private async takeAnswerLease(ticketId: number): Promise<ConversationRecord | null> {
    const now = this.clock().getTime();
    const me = this.deps.settings.instanceId ?? 'engine';
    const exclusive = this.deps.settings.exclusiveStore ?? true;
    return this.write(ticketId, (c) => {
      if (!c || c.state !== 'active' || !c.awaitingAnswer) return { result: null };
      const held = c.answerLease;
      const free = exclusive || !held || held.by === me || Date.parse(held.until) <= now;
      if (!free) return { result: null };
      const next: ConversationRecord = { ...c, answerLease: this.lease() };
      return { conversation: next, result: next };
    });
  }

  private internal(text: string): NewComment {
    return {
      text,
      visibility: 'internal',
      author: 'ticketzero',
      timestampUtc: this.now(),
      marker: `tz-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
    };
  }

  /** Stable per turn, so the outbox finds a comment again after a crash. */
  private marker(ticketId: number, seq: number): string {
    return `tz-${ticketId}-${seq}`;
  }

  private async sendSafely(conversationId: string, message: OutgoingMessage): Promise<void> {
    try {
      await this.deps.chat.send(conversationId, message);
    } catch (error) {
      this.log.warn({ conversationId, err: asTicketZeroError(error) }, 'message to the user failed');
    }
  }

  private clock(): Date {
    return this.deps.clock.now();
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

function userFacingReason(reason: string): string {
  switch (reason) {
    case 'user_asked':
      return 'You asked for a technician.';
    case 'all_providers_failed':
      return 'The assistant is not available right now.';
    case 'round_limit':
    case 'time_limit':
      return 'We have reached the limit of what I can do in this chat.';
    case 'technician':
      return 'A technician is taking over your ticket.';
    default:
      return 'This needs a technician.';
  }
}
