/**
 * Time and recovery. `tick()` (every few seconds) times out conversations past their deadline, retries intakes
 * that failed half-way, answers messages whose answering instance died (its lease ran out), sends a first answer
 * that did not go out, and retries ticket changes Atera has not accepted yet. `recover()` (after a start)
 * finishes what the previous process left half done.
 */
import { isLive } from '../ports/conversation-store.js';
import { asTicketZeroError } from '../errors.js';
import type { AssistantTurn } from './assistant-turn.js';
import type { ConversationOutcomes } from './conversation-outcomes.js';
import { hasTimedOut } from './conversation-rules.js';
import type { EngineContext } from './engine-context.js';
import { applyPendingChange } from './pending-ticket-change.js';
import type { TicketIntake } from './ticket-intake.js';
import { CHAT_RETRY_AFTER_MS, type UserChatOutbox } from './user-chat-outbox.js';

/** How long a queued intake or a missing first answer waits before the tick tries again. */
const INTAKE_RETRY_MS = 30_000;
/** A decision recorded with a user message is carried out by the tick when it is still pending this long after. */
const PENDING_STEP_RETRY_MS = 5_000;

/** The parts recovery calls: whatever was left half done is finished by the part that does it. */
export interface RecoveryParts {
  chatOutbox: Pick<UserChatOutbox, 'deliver'>;
  intake: Pick<TicketIntake, 'continueIntake' | 'openConversation'>;
  assistant: Pick<AssistantTurn, 'schedule' | 'isAnswering'>;
  outcomes: Pick<ConversationOutcomes, 'carryOut' | 'timeOut'>;
}

export class ConversationRecovery {
  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: RecoveryParts,
  ) {}

  async tick(): Promise<void> {
    const { deps, locks } = this.ctx;
    const { intake, assistant, outcomes, chatOutbox } = this.parts;
    const now = this.ctx.clock();
    const live = await deps.store.listLive();
    for (const record of live) {
      try {
        if (record.chatOutbox?.length) {
          // Recorded for the user but not sent (Teams failed, or whoever recorded it died): send it now.
          await chatOutbox.deliver(record.ticketId, { olderThanMs: CHAT_RETRY_AFTER_MS });
        }
        if (record.pendingStep) {
          // Decided with the user's message, not carried out yet (the process died right after).
          if (now.getTime() - Date.parse(record.updatedAt) >= PENDING_STEP_RETRY_MS)
            await outcomes.carryOut(record.ticketId);
        } else if (hasTimedOut(record, now)) {
          await locks.run(record.ticketId, () => outcomes.timeOut(record.ticketId));
        } else if (
          record.state === 'queued' &&
          now.getTime() - Date.parse(record.updatedAt) >= INTAKE_RETRY_MS &&
          (!record.user || !live.some((c) => c.user?.id === record.user?.id && c.state !== 'queued'))
        ) {
          // An intake that failed half-way (Graph or Teams unavailable): try again.
          await locks.run(record.ticketId, () => intake.continueIntake(record.ticketId));
        } else if (
          record.state === 'active' &&
          record.awaitingAnswer &&
          !assistant.isAnswering(record.ticketId) &&
          (!record.answerLease || Date.parse(record.answerLease.until) <= now.getTime())
        ) {
          // The instance that took this message died (or failed) before answering it: answer it here.
          assistant.schedule(record.ticketId);
        } else if (
          record.state === 'active' &&
          !record.turns.some((t) => t.role === 'assistant') &&
          !assistant.isAnswering(record.ticketId) &&
          now.getTime() - Date.parse(record.updatedAt) >= INTAKE_RETRY_MS
        ) {
          // The ticket card reached the user but the first answer did not: send it now.
          await locks.run(record.ticketId, async () => {
            const fresh = await deps.store.getConversation(record.ticketId);
            if (fresh?.state === 'active' && !fresh.turns.some((t) => t.role === 'assistant')) {
              await intake.openConversation(fresh);
            }
          });
        }
      } catch (error) {
        this.ctx.logFor(record).warn({ err: asTicketZeroError(error) }, 'tick step failed; will retry');
      }
    }
    await this.settleEnded(50, { olderThanMs: CHAT_RETRY_AFTER_MS });
  }

  async recover(): Promise<void> {
    const { deps, locks } = this.ctx;
    const { intake, assistant, outcomes, chatOutbox } = this.parts;
    const now = this.ctx.clock();
    const live = await deps.store.listLive();
    // A store shared with other instances: what they recorded a moment ago is theirs to send.
    const olderThanMs = this.ctx.settings.exclusiveStore === false ? CHAT_RETRY_AFTER_MS : 0;
    this.ctx.log.info({ live: live.length }, 'recovering live conversations');
    for (const record of live) {
      try {
        if (record.chatOutbox?.length) await chatOutbox.deliver(record.ticketId, { olderThanMs });
        if (record.pendingStep) {
          await outcomes.carryOut(record.ticketId);
          continue;
        }
        await locks.run(record.ticketId, async () => {
          const fresh = await deps.store.getConversation(record.ticketId);
          if (!fresh || !isLive(fresh.state)) return;
          if (hasTimedOut(fresh, now)) {
            await outcomes.timeOut(fresh.ticketId);
          } else if (fresh.state === 'queued') {
            await intake.continueIntake(fresh.ticketId);
          } else if (fresh.state === 'active' && !fresh.turns.some((t) => t.role === 'assistant')) {
            await intake.openConversation(fresh);
          } else if (fresh.state === 'active' && fresh.awaitingAnswer) {
            assistant.schedule(fresh.ticketId);
          }
        });
      } catch (error) {
        this.ctx.logFor(record).warn({ err: asTicketZeroError(error) }, 'recovery step failed');
      }
    }
    await this.settleEnded(100, { olderThanMs });
  }

  /** Ended conversations with something left to do: a ticket change Atera has not taken, a message to send. */
  private async settleEnded(limit: number, options: { olderThanMs: number }): Promise<void> {
    const recent = await this.ctx.deps.store.listEnded({ limit });
    for (const record of recent) {
      try {
        if (record.chatOutbox?.length) await this.parts.chatOutbox.deliver(record.ticketId, options);
        if (record.pendingTicketChange) await applyPendingChange(this.ctx, record);
      } catch (error) {
        this.ctx
          .logFor(record)
          .warn({ err: asTicketZeroError(error) }, 'settling an ended conversation failed');
      }
    }
  }
}
