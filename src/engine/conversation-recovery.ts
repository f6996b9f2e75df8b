/**
 * Time and recovery. `tick()` (every few seconds) times out conversations past their deadline, retries intakes
 * that failed half-way, answers messages whose answering instance died (its lease ran out), sends a first answer
 * that did not go out, and retries ticket changes Atera has not accepted yet. `recover()` (after a start)
 * finishes what the previous process left half done.
 */
import { isLive } from '../ports/conversation-store.js';
import { asTicketZeroError } from '../errors.js';
import { takeAnswerLease } from './answer-lease.js';
import { isPastDeadline } from './conversation-limits.js';
import type { EngineContext } from './engine-context.js';
import type { EngineParts } from './engine-parts.js';
import { applyPendingChange } from './pending-ticket-change.js';

/** How long a queued intake or a missing first answer waits before the tick tries again. */
const INTAKE_RETRY_MS = 30_000;

export class ConversationRecovery {
  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: EngineParts,
  ) {}

  async tick(): Promise<void> {
    const { deps, locks } = this.ctx;
    const { intake, assistant, outcomes } = this.parts;
    const now = this.ctx.clock();
    const live = await deps.store.listLive();
    for (const record of live) {
      try {
        if (
          (record.state === 'active' || record.state === 'awaiting_confirmation') &&
          isPastDeadline(record, now)
        ) {
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
          record.answerLease &&
          Date.parse(record.answerLease.until) <= now.getTime()
        ) {
          // The instance that took this message died (or failed) before answering it: answer it here.
          await locks.run(record.ticketId, async () => {
            const leased = await takeAnswerLease(this.ctx, record.ticketId);
            if (leased) await assistant.answer(leased, { inTurn: false });
          });
        } else if (
          record.state === 'active' &&
          !record.turns.some((t) => t.role === 'assistant') &&
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
    const recent = await deps.store.listEnded({ limit: 50 });
    for (const record of recent) {
      if (record.pendingTicketChange) await applyPendingChange(this.ctx, record);
    }
  }

  async recover(): Promise<void> {
    const { deps, locks } = this.ctx;
    const { intake, assistant, outcomes } = this.parts;
    const now = this.ctx.clock();
    const live = await deps.store.listLive();
    this.ctx.log.info({ live: live.length }, 'recovering live conversations');
    for (const record of live) {
      try {
        await locks.run(record.ticketId, async () => {
          const fresh = await deps.store.getConversation(record.ticketId);
          if (!fresh || !isLive(fresh.state)) return;
          if (
            (fresh.state === 'active' || fresh.state === 'awaiting_confirmation') &&
            isPastDeadline(fresh, now)
          ) {
            await outcomes.timeOut(fresh.ticketId);
          } else if (fresh.state === 'queued') {
            await intake.continueIntake(fresh.ticketId);
          } else if (fresh.state === 'active' && !fresh.turns.some((t) => t.role === 'assistant')) {
            await intake.openConversation(fresh);
          } else if (fresh.state === 'active' && fresh.awaitingAnswer) {
            const leased = await takeAnswerLease(this.ctx, fresh.ticketId);
            if (leased) await assistant.answer(leased, { inTurn: false });
          }
        });
      } catch (error) {
        this.ctx.logFor(record).warn({ err: asTicketZeroError(error) }, 'recovery step failed');
      }
    }
    const recent = await deps.store.listEnded({ limit: 100 });
    for (const record of recent) {
      if (record.pendingTicketChange) await applyPendingChange(this.ctx, record);
    }
  }
}
