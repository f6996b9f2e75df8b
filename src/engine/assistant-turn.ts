/**
 * The assistant's turn: build the support prompt (with the rounds and minutes left), ask the model chain while the
 * user sees the typing indicator, then record the answer — the turn, its Atera comment, the message for the chat
 * and what follows (the confirmation question, a hand-over) in one write — and only then send it. The model may
 * take as long as its timeouts allow: no inbound request waits for it.
 *
 * Nothing the model writes decides an outcome on its own: its control line may propose "is it fixed?" or a
 * hand-over, the user's words decide the rest (conversation-rules.ts). When every provider fails, the user gets
 * the honest fallback answer and the ticket goes to a technician.
 */
import type { ConversationRecord, Turn } from '../ports/conversation-store.js';
import type { ChainResult } from '../ports/model.js';
import type { NewComment } from '../ports/ticket-desk.js';
import { asTicketZeroError } from '../errors.js';
import { takeAnswerLease } from './answer-lease.js';
import { assistantTurnComment, note } from './atera-comment-text.js';
import type { ConversationOutcomes } from './conversation-outcomes.js';
import {
  decideAfterAnswer,
  limitNotice,
  minutesLeft,
  roundsLeft,
  type AnswerProposal,
} from './conversation-rules.js';
import type { EngineContext } from './engine-context.js';
import { guardAnswer } from './prompt/answer-guard.js';
import { parseAssistantReply } from './prompt/assistant-reply.js';
import { describeFailures, fallbackAnswer } from './prompt/fallback.js';
import { buildSupportPrompt } from './prompt/support-prompt.js';
import type { TechniciansThread } from './technicians-thread.js';
import { chatEntry, withChatMessages, type UserChatOutbox } from './user-chat-outbox.js';

/** Teams shows a typing indicator for a few seconds; it is sent again this often while the model works. */
const TYPING_EVERY_MS = 3_000;

interface Answer extends AnswerProposal {
  text: string;
  provider: string | null;
  category: string | null;
  extraComments: NewComment[];
}

/** The parts an answer calls: it goes to the chat and the thread, and may end the conversation. */
export interface AssistantTurnParts {
  chatOutbox: Pick<UserChatOutbox, 'deliver'>;
  thread: Pick<TechniciansThread, 'mirror' | 'updateCard'>;
  outcomes: Pick<ConversationOutcomes, 'carryOut'>;
}

export class AssistantTurn {
  /** Tickets this process is answering right now: a second caller leaves it to the one answering. */
  private readonly answering = new Set<number>();
  /**
   * Tickets whose answering loop must look at the record once more before it stops: a second caller came while it
   * was busy, maybe with a message the loop had already read past (it arrived while the last answer went out). The
   * value: whether that caller's turn showed the typing indicator.
   */
  private readonly lookAgain = new Map<number, boolean>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: AssistantTurnParts,
  ) {}

  /** Answers in the background (the tick, recovery, a resumed conversation). */
  schedule(ticketId: number): void {
    if (this.answering.has(ticketId)) return;
    this.ctx.background(ticketId, 'answer', () => this.answerPending(ticketId));
  }

  isAnswering(ticketId: number): boolean {
    return this.answering.has(ticketId);
  }

  /**
   * Answers the conversation's unanswered user message(s), if any and if no other instance holds the answer
   * lease; again while the user wrote more during the model call or while the answer went out (at most once per
   * round: a safety bound). A caller that finds the ticket being answered leaves it to that loop, which looks again.
   * `typingShown`: the user's turn already showed the typing indicator.
   */
  async answerPending(ticketId: number, options: { typingShown?: boolean } = {}): Promise<void> {
    if (this.answering.has(ticketId)) {
      this.lookAgain.set(ticketId, options.typingShown === true);
      return;
    }
    this.answering.add(ticketId);
    try {
      let typingShown = options.typingShown === true;
      for (let turn = 0; turn <= this.ctx.settings.maxRounds; turn += 1) {
        // Whoever calls from here on is seen by the record read below.
        this.lookAgain.delete(ticketId);
        const leased = await takeAnswerLease(this.ctx, ticketId);
        const saved = leased ? await this.answerOnce(leased, typingShown) : null;
        typingShown = false;
        if (saved?.awaitingAnswer) continue;
        const again = this.lookAgain.get(ticketId);
        if (again === undefined) return;
        typingShown = again;
      }
    } finally {
      this.answering.delete(ticketId);
      this.lookAgain.delete(ticketId);
    }
  }

  private async answerOnce(
    record: ConversationRecord,
    typingShown: boolean,
  ): Promise<ConversationRecord | null> {
    const conversationId = record.chatConversationId;
    if (!conversationId || !record.user) return null;
    const log = this.ctx.logFor(record);
    const { deps } = this.ctx;
    const started = Date.now();

    const typing = this.keepTyping(conversationId, record, typingShown);
    let result: ChainResult;
    try {
      result = await deps.model.complete({
        messages: this.prompt(record),
        maxTokens: this.ctx.settings.maxAnswerTokens,
      });
    } catch (error) {
      // The chain reports provider failures as results; anything thrown is a bug or a cancelled request.
      log.error({ err: asTicketZeroError(error) }, 'model chain threw');
      result = {
        status: 'all_failed',
        failures: [{ provider: 'chain', status: 'error', error: 'unexpected error' }],
      };
    } finally {
      typing.stop();
    }
    const modelMs = Date.now() - started;
    const answer = this.answerFrom(record, result);
    const saved = await this.recordAnswer(record, answer);
    deps.observer?.turnAnswered?.({
      ticketId: record.ticketId,
      provider: answer.provider,
      modelMs,
      totalMs: Date.now() - started,
    });
    if (!saved) return null;
    log.info(
      { provider: answer.provider, modelMs, round: record.rounds, step: saved.pendingStep?.kind ?? null },
      'answer recorded',
    );
    await this.parts.chatOutbox.deliver(record.ticketId);
    await this.parts.thread.mirror(saved, 'assistant', answer.text);
    if (saved.pendingStep) {
      await this.parts.outcomes.carryOut(record.ticketId);
      return null;
    }
    await this.parts.thread.updateCard(saved);
    return saved;
  }

  private prompt(record: ConversationRecord) {
    const { settings } = this.ctx;
    return buildSupportPrompt({
      ticket: record.ticket,
      user: record.user!,
      devices: record.devices,
      transcript: record.turns
        .filter((t): t is Turn & { role: 'user' | 'assistant' | 'technician' } => t.role !== 'system')
        .map((t) => ({ role: t.role, text: t.text })),
      roundsLeft: roundsLeft(record, settings),
      minutesLeft: Math.floor(Math.min(minutesLeft(record, this.ctx.clock()), settings.maxMinutes)),
      tokenBudget: settings.promptTokenBudget,
      awaitingConfirmation: false,
    });
  }

  /**
   * The typing indicator at once (unless the user's own turn just showed it) and every few seconds until the answer
   * is ready (failures only logged).
   */
  private keepTyping(conversationId: string, record: ConversationRecord, shown: boolean): { stop(): void } {
    const send = () => {
      this.ctx.deps.chat.sendTyping(conversationId).catch((error: unknown) => {
        this.ctx.logFor(record).debug({ err: asTicketZeroError(error) }, 'typing indicator not sent');
      });
    };
    if (!shown) send();
    const timer = setInterval(send, TYPING_EVERY_MS);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  /** What the model's result means: the guarded text, and what the model proposed (never more than that). */
  private answerFrom(record: ConversationRecord, result: ChainResult): Answer {
    const { settings } = this.ctx;
    const log = this.ctx.logFor(record);
    if (result.status !== 'ok') {
      log.warn(
        { failures: result.failures.map((f) => `${f.provider}:${f.status}`) },
        'every AI provider failed',
      );
      return {
        text: fallbackAnswer(record.user?.preferredLanguage ?? null),
        provider: null,
        category: null,
        askConfirmation: false,
        step: { kind: 'escalate', reason: 'all_providers_failed' },
        extraComments: [
          this.ctx.internal(note(`no AI provider could answer. ${describeFailures(result.failures)}`)),
        ],
      };
    }
    const reply = parseAssistantReply(result.text);
    const guarded = guardAnswer(reply.text, {
      linkAllowList: settings.linkAllowList,
      forbidden: settings.forbiddenInAnswers,
    });
    if (guarded.problems.length > 0) log.warn({ problems: guarded.problems }, 'answer adjusted by the guard');
    // Nothing when no rounds are left: the hand-over that follows says it.
    const notice = limitNotice(record, this.ctx.clock(), settings);
    return {
      text: notice ? `${guarded.text}\n\n${notice}` : guarded.text,
      provider: result.provider,
      category: reply.category,
      askConfirmation: reply.outcome === 'resolved_pending_confirmation',
      step:
        reply.outcome === 'needs_human'
          ? { kind: 'escalate', reason: 'model_needs_human', ...(reply.reason ? { note: reply.reason } : {}) }
          : null,
      extraComments: [],
    };
  }

  /**
   * Records the answer with everything it implies, unless the conversation moved on meanwhile (paused, taken
   * over, confirmed, ended): then it is dropped, with a log line, and the user never sees it.
   */
  private async recordAnswer(asked: ConversationRecord, answer: Answer): Promise<ConversationRecord | null> {
    const { settings } = this.ctx;
    const at = this.ctx.now();
    const saved = await this.ctx.write(asked.ticketId, (current) => {
      if (!current || current.state !== 'active' || !current.awaitingAnswer) return { result: null };
      const turn: Turn = {
        seq: current.turns.length + 1,
        role: 'assistant',
        text: answer.text,
        at,
        ...(answer.provider ? { provider: answer.provider } : {}),
      };
      const after = decideAfterAnswer(asked, current, answer, settings);
      let next: ConversationRecord = withChatMessages(
        {
          ...current,
          turns: [...current.turns, turn],
          state: after.askConfirmation ? 'awaiting_confirmation' : current.state,
          awaitingAnswer: after.answerAgain,
          answerLease: after.answerAgain ? (current.answerLease ?? null) : null,
          lastProvider: answer.provider ?? current.lastProvider,
          category: answer.category ?? current.category,
          pendingStep: after.step,
        },
        chatEntry(this.ctx, { turnSeq: turn.seq }),
      );
      if (after.askConfirmation) next = withChatMessages(next, chatEntry(this.ctx, { card: 'confirm_fix' }));
      return {
        conversation: next,
        comments: [
          {
            text: assistantTurnComment(turn, current.rounds, settings.maxRounds),
            visibility: settings.commentVisibility,
            author: 'ticketzero',
            timestampUtc: at,
            marker: this.ctx.marker(current.ticketId, turn.seq),
          },
          ...answer.extraComments,
        ],
        result: next,
      };
    });
    if (!saved) {
      const now = await this.ctx.deps.store.getConversation(asked.ticketId);
      this.ctx
        .logFor(asked)
        .info(
          { state: now?.state ?? 'gone' },
          'answer not used: the conversation moved on while the model worked',
        );
    }
    return saved;
  }
}
