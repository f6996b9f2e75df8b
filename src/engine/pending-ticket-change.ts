/**
 * The ticket change an outcome implies (status Resolved, the escalation status and priority) is stored with the
 * outcome and written to Atera afterwards; until Atera accepts it, every tick tries again.
 */
import type { ConversationRecord } from '../ports/conversation-store.js';
import { asTicketZeroError } from '../errors.js';
import type { EngineContext } from './engine-context.js';

export async function applyPendingChange(ctx: EngineContext, record: ConversationRecord): Promise<void> {
  const change = record.pendingTicketChange;
  if (!change) return;
  try {
    await ctx.deps.desk.updateTicket(record.ticketId, change);
    await ctx.write(record.ticketId, (c) =>
      c ? { conversation: { ...c, pendingTicketChange: null }, result: undefined } : { result: undefined },
    );
  } catch (error) {
    ctx
      .logFor(record)
      .warn({ err: asTicketZeroError(error) }, 'ticket update failed; will retry on the next tick');
  }
}
