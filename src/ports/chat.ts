/**
 * The chat side as the engine sees it: the end user's 1:1 chat and the technicians' channel threads.
 * Cards are described by what they say (CardSpec); the Teams adapter renders them as Adaptive Cards.
 */
import type { TenantRef } from './user-directory.js';

export type ConversationPhase =
  | 'waiting'
  | 'talking'
  | 'awaiting_confirmation'
  | 'paused'
  | 'taken_over'
  | 'resolved'
  | 'escalated'
  | 'timed_out'
  | 'ended';

export interface TicketSummary {
  ticketId: number;
  number: string;
  title: string;
  priority: string;
  customerName: string;
  endUserName: string;
  endUserEmail: string | null;
  technicianName: string | null;
  phase: ConversationPhase;
  round: number;
  maxRounds: number;
  /** ISO 8601; when the AI conversation's time runs out. */
  deadlineAt: string | null;
  /** Where the user's details came from, for the technicians' card. */
  userContext?: { jobTitle: string | null; department: string | null; devices: string[] };
}

export type CardSpec =
  /**
   * First message to the end user: the ticket, what TicketZero will do, that a human can be asked for. With
   * `settled`, the card's buttons no longer apply: they are left out and the line says where the ticket stands.
   */
  | { kind: 'ticket_intro'; ticket: TicketSummary; maxRounds: number; maxMinutes: number; settled?: string }
  /** Asks the end user to confirm the fix: "Yes, it's fixed" / "No, still broken". `settled` as above. */
  | { kind: 'confirm_fix'; ticket: TicketSummary; question: string; settled?: string }
  /** Sent to the end user when the ticket is resolved. */
  | { kind: 'resolution_summary'; ticket: TicketSummary; problem: string; steps: string[]; result: string }
  /** Sent to the end user when a human takes over. */
  | { kind: 'handover_notice'; ticket: TicketSummary; reason: string; nextSteps: string }
  /** The technicians' thread card, updated in place as the phase changes. */
  | { kind: 'ticket_thread'; ticket: TicketSummary; summary: string | null; lastProvider: string | null };

export type OutgoingMessage =
  | {
      kind: 'text';
      text: string;
      /** Shown as who is speaking, e.g. a technician in take-over, or the user in a thread mirror. */
      speaker?: string;
      /** Text from outside (an end user's words, a model's answer in the technicians' view): shown literally. */
      literal?: boolean;
    }
  | { kind: 'card'; card: CardSpec };

export interface ChatTarget {
  tenant: TenantRef;
  /** Entra object id of the user. */
  userId: string;
  displayName: string;
}

export interface ChatChannel {
  /**
   * Installs the app for the user when needed and opens (or reuses) the 1:1 chat; `replacing`: a chat that turned out
   * gone (ChatGoneError), which is not reused.
   */
  openChat(target: ChatTarget, options?: { replacing?: string }): Promise<{ conversationId: string }>;
  /** @throws ChatGoneError when the chat no longer exists. */
  send(conversationId: string, message: OutgoingMessage): Promise<void>;
  sendTyping(conversationId: string): Promise<void>;
}

export interface ThreadRef {
  /** The channel thread's conversation id (`19:…@thread.tacv2;messageid=…`). */
  threadId: string;
  /** The activity id of the card at the top of the thread, for in-place updates. */
  cardActivityId: string;
}

export interface Mention {
  /** Teams user id or Entra object id of the person mentioned. */
  id: string;
  name: string;
}

export interface TechnicianChannel {
  /** Whether a technicians' channel is configured (or was captured with "use this channel"). */
  isConfigured(): Promise<boolean>;
  /** Makes this team's channel the technicians' channel ("@TicketZero use this channel"); persisted. */
  useChannel(where: { teamId: string; channelId: string; tenantId: string }): Promise<void>;
  openThread(card: CardSpec): Promise<ThreadRef>;
  updateCard(thread: ThreadRef, card: CardSpec): Promise<void>;
  post(thread: ThreadRef, message: OutgoingMessage, mention?: Mention): Promise<void>;
}
