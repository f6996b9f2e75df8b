/**
 * ConversationStore: everything TicketZero must remember, behind one narrow interface.
 * Implementations: lowdb (embedded default), PostgreSQL (several instances), in-memory (engine tests).
 * Every implementation passes the same contract suite (test/contract/conversation-store.contract.ts).
 */
import type { Device, NewComment, Ticket, TicketChange } from './ticket-desk.js';
import type { EndUserProfile } from './user-directory.js';
import type { ThreadRef } from './chat.js';

export type ConversationState =
  /** Waiting for the user's other conversation to end. */
  | 'queued'
  /** Talking with the user; the AI answers. */
  | 'active'
  /** The AI proposed a fix and asked the user to confirm. */
  | 'awaiting_confirmation'
  /** A technician paused the AI; user messages still reach Atera and the thread. */
  | 'paused'
  /** A technician talks to the user through the bot. */
  | 'taken_over'
  | 'resolved'
  | 'escalated'
  | 'timed_out'
  /** The ticket was closed/resolved or reassigned to a human in Atera meanwhile. */
  | 'ended_in_atera'
  /** TicketZero did not take the ticket (unmapped customer, user not found, disabled, guest…). */
  | 'declined';

export const LIVE_STATES: readonly ConversationState[] = [
  'queued',
  'active',
  'awaiting_confirmation',
  'paused',
  'taken_over',
];

export function isLive(state: ConversationState): boolean {
  return LIVE_STATES.includes(state);
}

export type TurnRole = 'user' | 'assistant' | 'technician' | 'system';

export interface Turn {
  /** 1-based, increasing within the conversation. */
  seq: number;
  role: TurnRole;
  text: string;
  /** ISO 8601 UTC. */
  at: string;
  /** The inbound activity id, so a redelivered message is recognised. */
  inboundId?: string;
  /** Model provider that produced an assistant turn. */
  provider?: string;
  /** Display name for technician turns. */
  authorName?: string;
}

export type OutcomeKind = 'resolved' | 'escalated' | 'timed_out' | 'ended_in_atera' | 'declined';

export interface Outcome {
  kind: OutcomeKind;
  /** e.g. user_asked, model_needs_human, all_providers_failed, round_limit, time_limit, technician, user_not_found… */
  reason: string;
  at: string;
  by?: string;
}

export interface ConversationRecord {
  ticketId: number;
  /** Incremented on every write (optimistic concurrency across instances). */
  version: number;
  tenantKey: string;
  /** Snapshot of the ticket when taken, refreshed as the engine reads it again. */
  ticket: Ticket;
  /** Null when the ticket was declined before the user was found. */
  user: EndUserProfile | null;
  devices: Device[];
  state: ConversationState;
  /** 1:1 chat conversation id; null until the chat is opened. */
  chatConversationId: string | null;
  thread: ThreadRef | null;
  createdAt: string;
  /** When the first message reached the user; the time limit counts from here. */
  startedAt: string | null;
  deadlineAt: string | null;
  rounds: number;
  turns: Turn[];
  /** The last user message has not been answered yet (recovered after a crash). */
  awaitingAnswer: boolean;
  outcome: Outcome | null;
  takenOverBy: { id: string; name: string } | null;
  /** The issue category the AI gave the ticket (for reporting). */
  category: string | null;
  lastProvider: string | null;
  /**
   * Which instance is answering the last user message, and until when (several instances on one store): another
   * instance answers it only once the lease has run out, so a message is neither dropped nor answered twice.
   */
  answerLease?: { by: string; until: string } | null;
  /** A change to the Atera ticket decided but not yet applied (applied and cleared by the engine's tick). */
  pendingTicketChange?: TicketChange | null;
  /**
   * Messages for the user's 1:1 chat, recorded in the same write as the state change that implies them and
   * removed once Teams took them: after a crash they are sent from here, never asked of the model again.
   */
  chatOutbox?: ChatOutboxEntry[];
  /**
   * Which instance is sending the chat outbox, and until when (several instances on one store): another instance
   * sends the entries only once the lease has run out, so a slow send is not doubled by a second instance.
   */
  chatLease?: { by: string; until: string } | null;
  /**
   * What the last user message leads to that is not done yet (recorded with the message, done right after, and
   * done by recovery when the process died in between).
   */
  pendingStep?: PendingStep | null;
  /**
   * Atera comments dated up to this (Atera's clock) were on the ticket when TicketZero took it: context, never
   * relayed to the chat. Later ones written in Atera (not by TicketZero) are relayed, each once.
   */
  relayCommentsAfter?: string | null;
  /** The ticket waits behind this one of the user's (the user and Atera were told once). */
  queuedBehind?: number | null;
  updatedAt: string;
}

/** A message recorded for the user's chat and not yet delivered. */
export interface ChatOutboxEntry {
  id: string;
  at: string;
  /** A turn of the transcript (an answer, a technician's words), a notice, or a card rebuilt from the record. */
  body:
    | { turnSeq: number }
    | { notice: string }
    | { card: 'confirm_fix' | 'resolution_summary' | 'handover_notice' };
}

/** A decision taken on a user message whose follow-up (Atera, cards, the thread) has not run yet. */
export type PendingStep =
  | { kind: 'resolve'; reason: string }
  /** `note`: what the model said a technician should know, when it asked for one. */
  | { kind: 'escalate'; reason: string; note?: string }
  | { kind: 'time_out' };

export interface TicketClaim {
  /** Instance that claimed it. */
  by: string;
  at: string;
  decision: 'taken' | 'skipped';
  reason?: string;
  /** The ticket's creation time, so claims can be pruned once the watcher can no longer see the ticket. */
  ticketCreatedAt: string;
}

export interface OutboxEntry {
  id: string;
  ticketId: number;
  /** Per-ticket order, assigned by the store, 1-based. */
  seq: number;
  comment: NewComment;
  createdAt: string;
  attempts: number;
  /** ISO 8601; not delivered before this. */
  nextAttemptAt: string;
  lastError: string | null;
}

/** What one atomic update writes. `conversation` replaces the stored record (version is handled by the store). */
export interface Mutation<T> {
  conversation?: ConversationRecord;
  comments?: NewComment[];
  result: T;
}

export interface ConversationStore {
  /** Named cursor values (e.g. the ticket watcher's). */
  getCursor(name: string): Promise<string | null>;
  setCursor(name: string, value: string): Promise<void>;

  /** Records that a ticket was seen and decided on. Returns false if it was claimed before, by anyone. */
  claimTicket(ticketId: number, claim: TicketClaim): Promise<boolean>;
  /** Forgets claims of tickets created before `createdBefore` (the watcher no longer takes those anyway). */
  pruneClaims(createdBefore: string): Promise<number>;

  getConversation(ticketId: number): Promise<ConversationRecord | null>;
  /** The user's live conversations (queued or talking), oldest first. */
  findLiveByUser(userId: string): Promise<ConversationRecord[]>;
  /** The live conversation whose technicians' thread is `threadId` (without the `;messageid=` suffix or with). */
  findByThread(threadId: string): Promise<ConversationRecord | null>;
  /** Every live conversation (for deadlines and recovery after a restart). */
  listLive(): Promise<ConversationRecord[]>;
  /** Ended conversations, newest first (for reports and the dashboard). */
  listEnded(options: { limit: number; since?: string }): Promise<ConversationRecord[]>;

  /**
   * Atomic read-modify-write of one ticket's conversation together with the comments it queues.
   * `change` runs synchronously under the ticket's lock; it must not do I/O.
   */
  update<T>(ticketId: number, change: (current: ConversationRecord | null) => Mutation<T>): Promise<T>;

  /**
   * Due outbox entries, at most one per ticket (the lowest undelivered seq), oldest first.
   * The entries returned are leased until `now + leaseMs`, so another instance does not deliver them meanwhile.
   */
  dueComments(now: string, limit: number, leaseMs: number): Promise<OutboxEntry[]>;
  /**
   * One ticket's pending (undelivered) entries in delivery order (seq), at most `limit`, leases untouched: the
   * outbox folds the entries behind a head `dueComments` leased to it into the same Atera comment.
   */
  pendingComments(ticketId: number, limit: number): Promise<OutboxEntry[]>;
  /**
   * Marks the entries delivered, all in one atomic write: the entries of one folded comment (one ticket's) are
   * either all still pending after a crash, and found again in Atera by their markers, or all delivered.
   */
  markDelivered(...entryIds: string[]): Promise<void>;
  markFailed(entryId: string, error: string, nextAttemptAt: string): Promise<void>;
  outboxStats(): Promise<{ depth: number; oldestCreatedAt: string | null }>;

  /** Small values adapters keep (conversation references, service URLs, the technicians' channel). */
  getValue<T>(namespace: string, key: string): Promise<T | null>;
  setValue<T>(namespace: string, key: string, value: T): Promise<void>;

  /** Retention: deletes ended conversations (and their transcripts) that ended before `endedBefore`. */
  deleteEndedBefore(endedBefore: string): Promise<number>;

  close(): Promise<void>;
}
