/**
 * What the chat adapter hands to the engine. The Teams adapter turns activities into these plain events and
 * nothing more: it does not decide anything about tickets.
 */
import type { CardSpec, OutgoingMessage } from './chat.js';

export interface UserMessage {
  /** The 1:1 chat's conversation id. */
  conversationId: string;
  /** The inbound activity id (redeliveries carry the same id). */
  activityId: string;
  /** Entra object id of the sender. */
  userId: string;
  tenantId: string;
  /** Text as typed, markup removed; may be empty when the user only sent attachments. */
  text: string;
  attachmentCount: number;
  receivedAt: string;
}

export type UserCardVerb = 'confirm_fixed' | 'still_broken' | 'ask_human';

/** The user's cards that carry buttons. */
export type UserCardKind = Extract<CardSpec['kind'], 'ticket_intro' | 'confirm_fix'>;

export interface UserCardAction {
  conversationId: string;
  userId: string;
  tenantId: string;
  ticketId: number;
  verb: UserCardVerb;
  /** The card the button is on, as the card says; absent on cards sent before they said so. */
  card?: UserCardKind;
  /** The user's time zone as Teams reports it (IANA, e.g. "Europe/Berlin"), for times in the answer. */
  timeZone?: string;
}

/**
 * What the user sees after pressing a button: the pressed card as it is now (its buttons gone once they no longer
 * apply), or a short message beside it when the card stays as it was. What the press leads to (the resolution
 * summary, the hand-over notice) reaches the chat as a message of its own, exactly as when the user writes it.
 */
export type UserCardAnswer = { kind: 'card'; card: CardSpec } | { kind: 'text'; text: string };

export interface TechnicianIdentity {
  /** Entra object id (activity.from.aadObjectId); never taken from message text. */
  userId: string;
  name: string;
  email: string | null;
  tenantId: string;
}

export interface TechnicianCommand {
  from: TechnicianIdentity;
  /** The channel conversation id, with the `;messageid=` thread suffix when said in a thread. */
  conversationId: string;
  teamId: string | null;
  channelId: string | null;
  /** The text with the bot's @mention removed. */
  text: string;
  /** Other people @mentioned in the command (e.g. "reassign @Dana"). */
  mentions: { id: string; name: string }[];
}

export type TechnicianCardVerb = 'escalate' | 'pause' | 'resume' | 'take_over' | 'hand_back' | 'status';

export interface TechnicianCardAction {
  from: TechnicianIdentity;
  conversationId: string;
  teamId: string | null;
  channelId: string | null;
  ticketId: number;
  verb: TechnicianCardVerb;
}

export interface SupportEngine {
  onUserMessage(message: UserMessage): Promise<void>;
  onUserCardAction(action: UserCardAction): Promise<UserCardAnswer>;
  /** Returns the reply to post where the command was said. */
  onTechnicianCommand(command: TechnicianCommand): Promise<OutgoingMessage>;
  onTechnicianCardAction(action: TechnicianCardAction): Promise<CardSpec | null>;
  /** The app was installed for a user (Teams sent conversationUpdate); the chat can now be reached. */
  onAppInstalled(event: { tenantId: string; userId: string; conversationId: string }): Promise<void>;
}
