/**
 * botbuilder's continueConversation gives the proactive turn a made-up activity id, which every send then names
 * as `replyToId` (turning it into replyToActivity against an activity that never existed). TicketZero's proactive
 * messages are new messages in the conversation (or thread): sendToConversation.
 */
import type { TurnContext } from 'botbuilder';

export function sendAsNewMessages(context: TurnContext): TurnContext {
  context.onSendActivities(async (_context, activities, next) => {
    for (const activity of activities) delete activity.replyToId;
    return next();
  });
  return context;
}
