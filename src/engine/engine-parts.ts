/**
 * What the parts of the conversation engine ask of each other. They call each other in a circle (an answer can
 * end the conversation, an ending opens the user's next queued ticket, which asks for a first answer), so each
 * part gets this set, filled in by `createConversationEngine` before any of them runs, instead of importing
 * the others.
 */
import type { CardSpec } from '../ports/chat.js';
import type { ConversationRecord, OutcomeKind } from '../ports/conversation-store.js';
import type { StartResult } from './conversation-engine.js';
import type { TechniciansThread } from './technicians-thread.js';

/** ticket-intake.ts */
export interface IntakePart {
  /** Identify the user, then open the chat or queue behind the user's current conversation. */
  continueIntake(ticketId: number): Promise<StartResult>;
  /** Opens the 1:1 chat, sends the ticket card and the first answer. Idempotent across restarts. */
  openConversation(record: ConversationRecord): Promise<void>;
}

/** assistant-turn.ts */
export interface AssistantPart {
  /** Asks the model for the next answer, delivers and records it, and acts on its outcome. */
  answer(record: ConversationRecord, options: { inTurn: boolean }): Promise<void>;
}

/** conversation-outcomes.ts */
export interface OutcomesPart {
  resolve(ticketId: number, reason: string): Promise<ConversationRecord | null>;
  resolutionCard(record: ConversationRecord): CardSpec;
  escalate(ticketId: number, reason: string, modelNote?: string | null, by?: string): Promise<void>;
  timeOut(ticketId: number): Promise<void>;
  endAs(
    ticketId: number,
    kind: Extract<OutcomeKind, 'escalated' | 'timed_out'>,
    reason: string,
    modelNote: string | null,
    by?: string,
  ): Promise<void>;
}

export interface EngineParts {
  intake: IntakePart;
  assistant: AssistantPart;
  outcomes: OutcomesPart;
  /** technicians-thread.ts */
  thread: TechniciansThread;
}
