/**
 * A limit per Teams conversation, in front of the engine: however many people (or redeliveries) write into one
 * channel, at most `turnsPerMinute` commands and card presses a minute reach the engine; the rest are refused
 * and logged. An end user's messages in their 1:1 chat all reach the engine: its per-user limit
 * (USER_MESSAGES_PER_MINUTE) keeps every one on the ticket, answers none of those over the limit and tells the user
 * to slow down — a user's words are never dropped.
 */
import { UserRateLimit } from '../engine/user-rate-limit.js';
import type { OutgoingMessage } from '../ports/chat.js';
import type { Clock } from '../ports/clock.js';
import type { Log } from '../ports/log.js';
import type { SupportEngine, UserCardAnswer } from '../ports/support-engine.js';

export interface ConversationRateLimitDeps {
  turnsPerMinute: number;
  clock: Clock;
  log: Log;
}

/** A channel thread (`19:…@thread.tacv2;messageid=…`) counts with its channel. */
export function conversationKey(conversationId: string): string {
  return conversationId.split(';')[0] ?? conversationId;
}

export const SLOW_DOWN_REPLY = {
  kind: 'text',
  text: 'Too many commands in this channel right now. Please wait a minute and try again.',
} as const satisfies OutgoingMessage;

/** The answer to a card button pressed over the limit (the card stays as it is). */
export const SLOW_DOWN_PRESSES = {
  kind: 'text',
  text: 'Too many button presses right now. Please wait a minute and try again.',
} as const satisfies UserCardAnswer;

export function withConversationRateLimit(
  engine: SupportEngine,
  deps: ConversationRateLimitDeps,
): SupportEngine {
  // The sliding window is keyed by conversation instead of by user.
  const window = new UserRateLimit(deps.turnsPerMinute);
  const log = deps.log.child({ component: 'conversation-rate-limit' });
  const allow = (conversationId: string, kind: string): boolean => {
    if (window.allow(conversationKey(conversationId), deps.clock.now().getTime())) return true;
    log.warn({ conversationId, kind }, 'conversation over the turn rate limit');
    return false;
  };

  return {
    onUserMessage: (message) => engine.onUserMessage(message),
    async onUserCardAction(action) {
      if (!allow(action.conversationId, 'card_action')) return SLOW_DOWN_PRESSES;
      return engine.onUserCardAction(action);
    },
    async onTechnicianCommand(command) {
      if (!allow(command.conversationId, 'command')) return SLOW_DOWN_REPLY;
      return engine.onTechnicianCommand(command);
    },
    async onTechnicianCardAction(action) {
      if (!allow(action.conversationId, 'card_action')) return null;
      return engine.onTechnicianCardAction(action);
    },
    onAppInstalled: (event) => engine.onAppInstalled(event),
  };
}
