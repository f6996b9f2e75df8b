/**
 * What the conversation engine is given — its ports, settings and observer — and what taking a ticket returns.
 * Every part of the engine reads these types, so they live apart from `createConversationEngine`, which builds
 * the parts.
 */
import type { ChatChannel, TechnicianChannel } from '../ports/chat.js';
import type { Clock } from '../ports/clock.js';
import type { ConversationRecord, ConversationStore } from '../ports/conversation-store.js';
import type { Log } from '../ports/log.js';
import type { ModelChain } from '../ports/model.js';
import type { TechnicianAuthority, TechnicianDirectory } from '../ports/technicians.js';
import type { CommentVisibility, Ticket, TicketDesk, TicketPriority } from '../ports/ticket-desk.js';
import type { TenantDirectory, UserDirectory } from '../ports/user-directory.js';
import type { LimitSettings } from './conversation-rules.js';

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
   * How long an instance may take to send one message to a user's chat, retries included, before another instance
   * sends it (ms). Longer than the Teams connector's worst send, so a slow send is never sent twice.
   */
  chatSendLeaseMs?: number;
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
