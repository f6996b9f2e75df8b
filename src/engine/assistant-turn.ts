/**
 * The assistant's turn: build the support prompt (with the rounds and minutes left), ask the model chain, stream
 * the answer through the answer guard into the chat, record it (and its Atera comment) once delivered, then act
 * on what the model said — ask "is it fixed?", hand over when it needs a human, or hand over when the round
 * limit is reached (the limits themselves are in conversation-limits.ts). When every provider fails, the user
 * gets the fallback answer and the ticket goes to a technician.
 */
import { isLive, type ConversationRecord, type Turn } from '../ports/conversation-store.js';
import type { ChainResult } from '../ports/model.js';
import type { NewComment } from '../ports/ticket-desk.js';
import { asTicketZeroError } from '../errors.js';
import { assistantTurnComment, note } from './atera-comment-text.js';
import { limitNotice, minutesLeft, roundLimitReached, roundsLeft } from './conversation-limits.js';
import type { EngineContext } from './engine-context.js';
import type { AssistantPart, EngineParts } from './engine-parts.js';
import { createGuardedAnswerStream } from './guarded-answer-stream.js';
import { guardAnswer } from './prompt/answer-guard.js';
import { createVisibleTextFilter, parseAssistantReply } from './prompt/assistant-reply.js';
import { describeFailures, fallbackAnswer } from './prompt/fallback.js';
import { buildSupportPrompt } from './prompt/support-prompt.js';
import { ticketSummary } from './ticket-summary.js';

export class AssistantTurn implements AssistantPart {
  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: EngineParts,
  ) {}

  /**
   * Asks the model for the next answer and delivers it. Streams in a live 1:1 turn where the chat allows.
   * The answer is written to the store (and queued for Atera) once it was delivered.
   */
  async answer(record: ConversationRecord, _options: { inTurn: boolean }): Promise<void> {
    const conversationId = record.chatConversationId;
    if (!conversationId || !record.user) return;
    const log = this.ctx.logFor(record);
    const { deps, settings } = this.ctx;
    const started = Date.now();
    const nowDate = this.ctx.clock();
    const awaitingConfirmation = false;
    const messages = buildSupportPrompt({
      ticket: record.ticket,
      user: record.user,
      devices: record.devices,
      transcript: record.turns
        .filter((t): t is Turn & { role: 'user' | 'assistant' | 'technician' } => t.role !== 'system')
        .map((t) => ({ role: t.role, text: t.text })),
      roundsLeft: roundsLeft(record, settings),
      minutesLeft: Math.floor(Math.min(minutesLeft(record, nowDate), settings.maxMinutes)),
      tokenBudget: settings.promptTokenBudget,
      awaitingConfirmation,
    });

    const writer = deps.chat.beginAnswer(conversationId);
    const guardOptions = { linkAllowList: settings.linkAllowList, forbidden: settings.forbiddenInAnswers };
    const stream = createGuardedAnswerStream(
      writer,
      (text) => guardAnswer(text, guardOptions),
      Math.max(80, ...settings.forbiddenInAnswers.map((s) => s.length)),
    );
    const visible = createVisibleTextFilter((piece) => stream.push(piece));
    const modelStarted = Date.now();
    let result: ChainResult;
    try {
      result = await deps.model.complete({
        messages,
        maxTokens: settings.maxAnswerTokens,
        onText: (piece, info) => {
          if (info.restart) {
            visible.reset();
            stream.reset();
          }
          visible.push(piece);
        },
      });
    } catch (error) {
      // The chain reports provider failures as results; anything thrown is a bug or a cancelled request.
      log.error({ err: asTicketZeroError(error) }, 'model chain threw');
      result = {
        status: 'all_failed',
        failures: [{ provider: 'chain', status: 'error', error: 'unexpected error' }],
      };
    }
    const modelMs = Date.now() - modelStarted;

    if (result.status !== 'ok') {
      const language = record.user.preferredLanguage;
      await writer.finish(fallbackAnswer(language));
      log.warn(
        { failures: result.failures.map((f) => `${f.provider}:${f.status}`) },
        'every AI provider failed',
      );
      await this.recordAssistantTurn(record.ticketId, fallbackAnswer(language), null, {
        extraComments: [
          this.ctx.internal(note(`no AI provider could answer. ${describeFailures(result.failures)}`)),
        ],
      });
      await this.parts.outcomes.escalate(record.ticketId, 'all_providers_failed');
      deps.observer?.turnAnswered?.({
        ticketId: record.ticketId,
        provider: null,
        modelMs,
        totalMs: Date.now() - started,
      });
      return;
    }

    const reply = parseAssistantReply(result.text);
    const guarded = guardAnswer(reply.text, guardOptions);
    if (guarded.problems.length > 0) log.warn({ problems: guarded.problems }, 'answer adjusted by the guard');
    const limitReached = roundLimitReached(record, settings) && reply.outcome === 'continue';
    const notice = limitReached ? null : limitNotice(record, nowDate, settings);
    const finalText = notice ? `${guarded.text}\n\n${notice}` : guarded.text;
    await writer.finish(finalText);
    // The answer that asks "is it fixed?" and the wait for that confirmation are one write, so a crash between
    // them cannot make the user confirm twice.
    const saved = await this.recordAssistantTurn(record.ticketId, finalText, result.provider, {
      category: reply.category,
      awaitConfirmation: reply.outcome === 'resolved_pending_confirmation',
    });
    deps.observer?.turnAnswered?.({
      ticketId: record.ticketId,
      provider: result.provider,
      modelMs,
      totalMs: Date.now() - started,
    });
    log.info(
      { provider: result.provider, modelMs, round: record.rounds, outcome: reply.outcome },
      'answered',
    );
    if (!saved) return;
    await this.parts.thread.mirror(saved, 'assistant', finalText);

    if (reply.outcome === 'needs_human') {
      await this.parts.outcomes.escalate(record.ticketId, 'model_needs_human', reply.reason);
      return;
    }
    if (reply.outcome === 'resolved_pending_confirmation') {
      await this.askForConfirmation(saved);
      return;
    }
    if (roundLimitReached(saved, settings)) {
      await this.parts.outcomes.escalate(record.ticketId, 'round_limit');
      return;
    }
    await this.parts.thread.updateCard(saved);
  }

  private async recordAssistantTurn(
    ticketId: number,
    text: string,
    provider: string | null,
    options: { category?: string | null; extraComments?: NewComment[]; awaitConfirmation?: boolean },
  ): Promise<ConversationRecord | null> {
    const at = this.ctx.now();
    return this.ctx.write(ticketId, (current) => {
      if (!current || !isLive(current.state)) return { result: null };
      const turn: Turn = {
        seq: current.turns.length + 1,
        role: 'assistant',
        text,
        at,
        ...(provider ? { provider } : {}),
      };
      const next: ConversationRecord = {
        ...current,
        turns: [...current.turns, turn],
        state:
          options.awaitConfirmation && current.state === 'active' ? 'awaiting_confirmation' : current.state,
        awaitingAnswer: false,
        answerLease: null,
        lastProvider: provider ?? current.lastProvider,
        category: options.category ?? current.category,
      };
      return {
        conversation: next,
        comments: [
          {
            text: assistantTurnComment(turn, current.rounds, this.ctx.settings.maxRounds),
            visibility: this.ctx.settings.commentVisibility,
            author: 'ticketzero',
            timestampUtc: at,
            marker: this.ctx.marker(ticketId, turn.seq),
          },
          ...(options.extraComments ?? []),
        ],
        result: next,
      };
    });
  }

  private async askForConfirmation(updated: ConversationRecord): Promise<void> {
    if (updated.state !== 'awaiting_confirmation' || !updated.chatConversationId) return;
    await this.ctx.deps.chat.send(updated.chatConversationId, {
      kind: 'card',
      card: {
        kind: 'confirm_fix',
        ticket: ticketSummary(updated, this.ctx.settings.maxRounds),
        question: 'Is the problem fixed?',
      },
    });
    await this.parts.thread.updateCard(updated);
  }
}
