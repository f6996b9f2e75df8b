/**
 * The conversation engine: from "a new ticket is noticed" to "the ticket is resolved or handed to a human".
 *
 * Plain TypeScript over ports. Every state change that matters is written to the store (with the Atera comments
 * it implies, atomically) before the engine acts on it, so a restart continues where the last process stopped:
 * `recover()` answers user messages left unanswered, opens chats left unopened and times out conversations whose
 * deadline passed while the process was down.
 *
 * This file is the engine's public surface; the work is done by its parts:
 * - ticket-intake.ts — take a ticket, find the user, decline or queue it, open the 1:1 chat
 * - user-message-rules.ts — what a user's message leads to (a round, "is it fixed?", an ending): the one place
 * - user-turns.ts — the user's messages and card buttons recorded at once, the rest done after; messages after a
 *   hand-over
 * - ticket-standing.ts — where a ticket stands, in the user's words: what a pressed or an old card's button says
 * - assistant-turn.ts — the model's answer, guarded, recorded, then sent; what follows it (hand-over at the limit)
 * - user-chat-outbox.ts — messages to the user: recorded with the state change, then sent, again after a crash
 * - conversation-limits.ts — the 10 rounds / 30 minutes themselves
 * - conversation-outcomes.ts — resolved, escalated, timed out, ended in Atera; then the next queued ticket
 * - technician-commands.ts — the technicians' @mention commands and thread-card buttons
 * - technicians-thread.ts — each ticket's thread: card, mirrored turns, notes, mentions
 * - conversation-recovery.ts — deadlines, retries and leases on each tick, and recovery after a restart
 */
import type { ChatChannel, TechnicianChannel } from '../ports/chat.js';
import type { Clock } from '../ports/clock.js';
import type { ConversationRecord, ConversationStore } from '../ports/conversation-store.js';
import type { Log } from '../ports/log.js';
import type { ModelChain } from '../ports/model.js';
import type { SupportEngine } from '../ports/support-engine.js';
import type { TechnicianAuthority, TechnicianDirectory } from '../ports/technicians.js';
import type { CommentVisibility, Ticket, TicketDesk, TicketPriority } from '../ports/ticket-desk.js';
import type { TenantDirectory, UserDirectory } from '../ports/user-directory.js';
import { AssistantTurn } from './assistant-turn.js';
import { AteraReplies } from './atera-replies.js';
import type { LimitSettings } from './conversation-limits.js';
import { ConversationOutcomes } from './conversation-outcomes.js';
import { ConversationRecovery } from './conversation-recovery.js';
import { EngineContext } from './engine-context.js';
import type { EngineParts } from './engine-parts.js';
import { TechnicianCommands } from './technician-commands.js';
import { TechniciansThread } from './technicians-thread.js';
import { TicketIntake } from './ticket-intake.js';
import { UserChatOutbox } from './user-chat-outbox.js';
import { UserTurns } from './user-turns.js';

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
  /** Resolves once the work that follows recorded messages (answers, endings) is done: tests, a clean stop. */
  idle(): Promise<void>;
}

export function createConversationEngine(deps: EngineDeps): ConversationEngine {
  const ctx = new EngineContext(deps);
  // The parts call each other in a circle, so each gets the whole set, filled in here before any of them runs.
  const parts = {} as EngineParts;
  const intake = new TicketIntake(ctx, parts);
  const outcomes = new ConversationOutcomes(ctx, parts);
  parts.thread = new TechniciansThread(ctx);
  parts.chatOutbox = new UserChatOutbox(ctx);
  parts.intake = intake;
  parts.assistant = new AssistantTurn(ctx, parts);
  parts.outcomes = outcomes;
  const turns = new UserTurns(ctx, parts);
  parts.userTurns = turns;
  parts.ateraReplies = new AteraReplies(ctx, parts);
  const commands = new TechnicianCommands(ctx, parts);
  const recovery = new ConversationRecovery(ctx, parts);

  return {
    startTicket: (ticket) => intake.startTicket(ticket),
    onTicketChanged: (ticket) => outcomes.onTicketChanged(ticket),
    onUserMessage: (message) => turns.onUserMessage(message),
    onUserCardAction: (action) => turns.onUserCardAction(action),
    onTechnicianCommand: (command) => commands.onTechnicianCommand(command),
    onTechnicianCardAction: (action) => commands.onTechnicianCardAction(action),
    onAppInstalled: async (event) => {
      ctx.log.info(
        { userId: event.userId, conversationId: event.conversationId },
        'app installed for a user',
      );
    },
    tick: () => recovery.tick(),
    recover: () => recovery.recover(),
    idle: () => ctx.idle(),
  };
}
