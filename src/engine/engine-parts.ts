/**
 * What the parts of the conversation engine ask of each other. They call each other in a circle (an answer can
 * end the conversation, an ending opens the user's next queued ticket, which asks for a first answer), so each
 * part gets this set, filled in by `createConversationEngine` before any of them runs, instead of importing
 * the others.
 */
import type { ConversationRecord, OutcomeKind } from '../ports/conversation-store.js';
import type { StartResult } from './conversation-engine.js';
import type { TechniciansThread } from './technicians-thread.js';
import type { UserChatOutbox } from './user-chat-outbox.js';

/** ticket-intake.ts */
export interface IntakePart {
  /** Identify the user, then open the chat or queue behind the user's current conversation. */
  continueIntake(ticketId: number): Promise<StartResult>;
  /** Opens the 1:1 chat, sends the ticket card and the first answer. Idempotent across restarts. */
  openConversation(record: ConversationRecord): Promise<void>;
}

/** assistant-turn.ts */
export interface AssistantPart {
  /** Answers the unanswered user message(s) now: asks the model, records the answer, then sends it. */
  /** `typingShown`: the user's turn already showed the typing indicator. */
  answerPending(ticketId: number, options?: { typingShown?: boolean }): Promise<void>;
  /** The same, in the background. */
  schedule(ticketId: number): void;
  /** This process is answering the ticket right now. */
  isAnswering(ticketId: number): boolean;
}

/** conversation-outcomes.ts */
export interface OutcomesPart {
  /** Carries out the pending step recorded with the user's last message; the record afterwards. */
  carryOut(ticketId: number): Promise<ConversationRecord | null>;
  resolve(ticketId: number, reason: string): Promise<ConversationRecord | null>;
  escalate(ticketId: number, reason: string, modelNote?: string | null, by?: string): Promise<void>;
  timeOut(ticketId: number): Promise<void>;
  endAs(
    ticketId: number,
    kind: Extract<OutcomeKind, 'escalated' | 'timed_out'>,
    reason: string,
    modelNote: string | null,
    by?: string,
  ): Promise<ConversationRecord | null>;
}

/** user-turns.ts, as the other parts need it */
export interface UserTurnsPart {
  /** The user's reply that reached the ticket in Atera (e-mail, portal). */
  onAteraReply(ticketId: number, reply: { key: string; text: string; at: string }): Promise<void>;
}

/** atera-replies.ts */
export interface AteraRepliesPart {
  /** Relays what technicians and the user wrote on the ticket in Atera since the last look. */
  relay(record: ConversationRecord): Promise<void>;
}

export interface EngineParts {
  intake: IntakePart;
  userTurns: UserTurnsPart;
  ateraReplies: AteraRepliesPart;
  /** user-chat-outbox.ts */
  chatOutbox: UserChatOutbox;
  assistant: AssistantPart;
  outcomes: OutcomesPart;
  /** technicians-thread.ts */
  thread: TechniciansThread;
}
