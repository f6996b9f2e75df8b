/**
 * After a hand-over (escalated or timed out), what the user writes in the same 1:1 chat still reaches the ticket
 * and its thread for the technician, for a week. The store remembers, per user, the ticket last handed over.
 */
import type { ConversationStore } from '../ports/conversation-store.js';

const HANDED_OVER = 'engine.handed-over';
const HANDED_OVER_FOR_MS = 7 * 24 * 60 * 60_000;

export interface HandedOver {
  ticketId: number;
  conversationId: string;
  at: string;
}

export async function rememberHandOver(
  store: ConversationStore,
  userId: string,
  handedOver: HandedOver,
): Promise<void> {
  await store.setValue<HandedOver>(HANDED_OVER, userId, handedOver);
}

/** The hand-over a message in this chat belongs to, or null (another chat, or more than a week ago). */
export async function handOverFor(
  store: ConversationStore,
  message: { userId: string; conversationId: string },
  now: Date,
): Promise<HandedOver | null> {
  const handed = await store.getValue<HandedOver>(HANDED_OVER, message.userId);
  if (!handed || handed.conversationId !== message.conversationId) return null;
  if (now.getTime() - Date.parse(handed.at) > HANDED_OVER_FOR_MS) return null;
  return handed;
}
