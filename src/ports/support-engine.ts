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

export interface UserCardAction {
  conversationId: string;
  userId: string;
  tenantId: string;
  ticketId: number;
  verb: UserCardVerb;
}

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
  /** Returns the card that replaces the one whose button was pressed, or null to leave it. */
  onUserCardAction(action: UserCardAction): Promise<CardSpec | null>;
  /** Returns the reply to post where the command was said. */
  onTechnicianCommand(command: TechnicianCommand): Promise<OutgoingMessage>;
  onTechnicianCardAction(action: TechnicianCardAction): Promise<CardSpec | null>;
  /** The app was installed for a user (Teams sent conversationUpdate); the chat can now be reached. */
  onAppInstalled(event: { tenantId: string; userId: string; conversationId: string }): Promise<void>;
}
