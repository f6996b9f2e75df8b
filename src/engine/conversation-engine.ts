/**
 * The conversation engine: from "a new ticket is noticed" to "the ticket is resolved or handed to a human".
 *
 * Plain TypeScript over ports. Every state change that matters is written to the store (with the Atera comments
 * it implies, atomically) before the engine acts on it, so a restart continues where the last process stopped:
 * `recover()` answers user messages left unanswered, opens chats left unopened and times out conversations whose
 * deadline passed while the process was down.
 *
 * This file is the engine's public surface; the work is done by its parts, each given only the parts it calls:
 * - conversation-rules.ts — the rules, pure: what counts as a round, the 10 rounds / 30 minutes, when the user may
 *   confirm, what a user's message leads to and what follows the model's answer
 * - ticket-intake.ts — take a ticket, find the user, decline or queue it, open the 1:1 chat
 * - user-turns.ts — the user's messages and card buttons recorded at once, the rest done after; messages after a
 *   hand-over
 * - ticket-standing.ts — where a ticket stands, in the user's words: what a pressed or an old card's button says
 * - assistant-turn.ts — the model's answer, guarded, recorded, then sent; what follows it (hand-over at the limit)
 * - user-chat-outbox.ts — messages to the user: recorded with the state change, then sent, again after a crash
 * - conversation-outcomes.ts — resolved, escalated, timed out, ended in Atera
 * - ticket-changes.ts — the ticket changed in Atera: comments relayed (atera-replies.ts), Pending, priority, ended
 * - technician-commands.ts — the technicians' @mention commands and thread-card buttons
 * - technicians-thread.ts — each ticket's thread: card, mirrored turns, notes, mentions
 * - conversation-recovery.ts — deadlines, retries and leases on each tick, and recovery after a restart
 * - engine-deps.ts — the ports, settings and observer the engine is given
 */
import type { SupportEngine } from '../ports/support-engine.js';
import type { Ticket } from '../ports/ticket-desk.js';
import { AssistantTurn } from './assistant-turn.js';
import { AteraReplies } from './atera-replies.js';
import { ConversationOutcomes } from './conversation-outcomes.js';
import { ConversationRecovery } from './conversation-recovery.js';
import { EngineContext } from './engine-context.js';
import type { EngineDeps, StartResult } from './engine-deps.js';
import { TechnicianCommands } from './technician-commands.js';
import { TechniciansThread } from './technicians-thread.js';
import { TicketChanges } from './ticket-changes.js';
import { TicketIntake } from './ticket-intake.js';
import { UserChatOutbox } from './user-chat-outbox.js';
import { UserTurns } from './user-turns.js';

export type { EngineDeps, EngineObserver, EngineSettings, StartResult } from './engine-deps.js';

export interface ConversationEngine extends SupportEngine {
  /** Takes a new ticket (idempotent: a ticket already known is `already_taken`). */
  startTicket(ticket: Ticket): Promise<StartResult>;
  /** The watcher saw the ticket change in Atera (closed, resolved, reassigned…). */
  onTicketChanged(ticket: Ticket): Promise<void>;
  /** The same, handled in the background (newest version next per ticket): for the watcher's feed. */
  ticketNoticed(ticket: Ticket): void;
  /** Deadlines, pending ticket changes and interrupted intakes; call every few seconds. */
  tick(): Promise<void>;
  /** After a start: finish what the previous process left half done. */
  recover(): Promise<void>;
  /** Resolves once the work that follows recorded messages (answers, endings) is done: tests, a clean stop. */
  idle(): Promise<void>;
}

export function createConversationEngine(deps: EngineDeps): ConversationEngine {
  const ctx = new EngineContext(deps);
  // Each part is built after the parts it calls, so every call points one way down this list.
  const thread = new TechniciansThread(ctx);
  const chatOutbox = new UserChatOutbox(ctx);
  const outcomes = new ConversationOutcomes(ctx, { chatOutbox, thread });
  const assistant = new AssistantTurn(ctx, { chatOutbox, thread, outcomes });
  const intake = new TicketIntake(ctx, { thread, assistant });
  const turns = new UserTurns(ctx, { chatOutbox, thread, assistant, outcomes });
  const ateraReplies = new AteraReplies(ctx, {
    chatOutbox,
    thread,
    userReplied: (ticketId, reply) => turns.onAteraReply(ticketId, reply),
  });
  const ticketChanges = new TicketChanges(ctx, { chatOutbox, thread, outcomes, ateraReplies });
  const commands = new TechnicianCommands(ctx, { chatOutbox, thread, assistant, outcomes });
  const recovery = new ConversationRecovery(ctx, { chatOutbox, intake, assistant, outcomes });
  // The one call back up the list: an ending opens the user's next queued ticket, which asks for a first answer.
  outcomes.onEnded((ended) => intake.openNextQueued(ended));

  return {
    startTicket: (ticket) => intake.startTicket(ticket),
    onTicketChanged: (ticket) => ticketChanges.onTicketChanged(ticket),
    ticketNoticed: (ticket) => ticketChanges.noticed(ticket),
    onUserMessage: (message) => turns.onUserMessage(message),
    onUserCardAction: (action) => turns.onUserCardAction(action),
    onTechnicianCommand: (command) => commands.onTechnicianCommand(command),
    onTechnicianCardAction: (action) => commands.onTechnicianCardAction(action),
    onAppInstalled: async (event) => {
      ctx.log.info(
        { userId: event.userId, conversationId: event.conversationId },
        'app installed for a user',
      );
    },
    tick: () => recovery.tick(),
    recover: () => recovery.recover(),
    idle: () => ctx.idle(),
  };
}
