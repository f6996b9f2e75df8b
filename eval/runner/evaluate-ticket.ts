/**
 * Runs one corpus ticket through TicketZero's real conversation engine: the engine takes the ticket, opens the
 * chat and answers through the model chain it is given; the scripted end user reads what the engine sent to the
 * chat and replies through `onUserMessage` / `onUserCardAction`, as the Teams adapter would pass them on.
 * Time is simulated: the clock moves by the minutes the persona needs per reply, so the 30-minute limit is the
 * engine's own, not a wall-clock wait. Every port except the model is an in-memory fake (no Atera, no Teams).
 */
import { createInMemoryConversationStore } from '../../src/adapters/store/in-memory-store.js';
import {
  createConversationEngine,
  type ConversationEngine,
  type EngineSettings,
} from '../../src/engine/conversation-engine.js';
import { parseAssistantReply } from '../../src/engine/prompt/assistant-reply.js';
import type { CardSpec } from '../../src/ports/chat.js';
import { isLive, type ConversationStore } from '../../src/ports/conversation-store.js';
import { silentLog } from '../../src/ports/log.js';
import type { ModelChain } from '../../src/ports/model.js';
import type { Ticket } from '../../src/ports/ticket-desk.js';
import {
  CONTOSO,
  InMemoryChat,
  InMemoryTechnicianChannel,
  InMemoryTechnicians,
  InMemoryTicketDesk,
  InMemoryUserDirectory,
  ManualClock,
  SingleTenantDirectory,
  makeUser,
} from '../../test/support/in-memory-ports.js';
import type { EvalTicket, Language } from '../corpus/eval-ticket.js';
import type { OutcomeKind, Transcript, TranscriptTurn } from '../score-transcript.js';
import { createSimulatedUser, type BotMessage } from '../simulator/simulated-user.js';

export interface TicketRunOptions {
  /** The chain the engine talks to; the runner counts its tokens and failures from outside. */
  model: ModelChain;
  settings: EngineSettings;
  /** Numeric Atera-style id for the engine. */
  numericId: number;
}

/** What the model chain saw while this ticket ran (collected by the counting wrapper). */
export interface ModelObservations {
  systemPrompt: string | null;
  promptTokens: number;
  completionTokens: number;
  usageReported: boolean;
  failures: string[];
  /** Answers the model gave, and how many of them ended with the control line the reply format asks for. */
  answers: number;
  answersFollowingFormat: number;
}

const LANGUAGE_TAGS: Record<Language, string> = {
  en: 'en-GB',
  de: 'de-DE',
  fr: 'fr-FR',
  es: 'es-ES',
  nl: 'nl-NL',
};

const START = new Date('2026-11-25T09:00:00.000Z');

export function toDeskTicket(t: EvalTicket, id: number): Ticket {
  return {
    id,
    number: String(id),
    title: t.ticket.title,
    description: t.ticket.description,
    priority: t.ticket.priority,
    status: 'Open',
    type: 'Incident',
    createdAt: new Date(START.getTime() - 5 * 60_000).toISOString(),
    modifiedAt: null,
    customer: { id: 1, name: t.ticket.customer },
    endUser: {
      id: id + 50_000,
      email: t.ticket.endUser.email,
      firstName: t.ticket.endUser.firstName,
      lastName: t.ticket.endUser.lastName,
      phone: null,
    },
    technician: { contactId: null, email: null, fullName: null },
  };
}

/** Wraps a chain so the runner sees the system prompt, the tokens and the failures of each request. */
export function observeChain(chain: ModelChain): { chain: ModelChain; take(): ModelObservations } {
  let seen = fresh();
  function fresh(): ModelObservations {
    return {
      systemPrompt: null,
      promptTokens: 0,
      completionTokens: 0,
      usageReported: false,
      failures: [],
      answers: 0,
      answersFollowingFormat: 0,
    };
  }
  return {
    chain: {
      providers: chain.providers,
      async complete(request) {
        const system = request.messages.find((m) => m.role === 'system');
        if (system) seen.systemPrompt = system.content;
        const result = await chain.complete(request);
        if (result.status === 'ok') {
          seen.answers += 1;
          if (parseAssistantReply(result.text).formatFollowed) seen.answersFollowingFormat += 1;
          if (result.usage) {
            seen.usageReported = true;
            seen.promptTokens += result.usage.promptTokens;
            seen.completionTokens += result.usage.completionTokens;
          }
        } else {
          seen.failures.push(...result.failures.map((f) => `${f.provider}: ${f.status} (${f.error})`));
        }
        return result;
      },
    },
    take() {
      const out = seen;
      seen = fresh();
      return out;
    },
  };
}

function botMessages(cards: CardSpec[], texts: string[]): BotMessage[] {
  return [
    ...texts.map((text) => ({ kind: 'text' as const, text })),
    ...cards.map((card) => ({
      kind: 'card' as const,
      card: { kind: card.kind, ...(card.kind === 'confirm_fix' ? { question: card.question } : {}) },
    })),
  ];
}

export async function evaluateTicket(
  evalTicket: EvalTicket,
  options: TicketRunOptions & { observed: ReturnType<typeof observeChain> },
): Promise<Transcript> {
  const { settings, numericId } = options;
  const clock = new ManualClock(new Date(START));
  const store: ConversationStore = createInMemoryConversationStore();
  const desk = new InMemoryTicketDesk();
  const directory = new InMemoryUserDirectory();
  const chat = new InMemoryChat();
  const userId = `aad-eval-${numericId}`;
  const ticket = toDeskTicket(evalTicket, numericId);
  desk.add(ticket);
  const who = evalTicket.ticket.endUser;
  directory.add(who.email, {
    status: 'found',
    user: makeUser({
      id: userId,
      displayName: `${who.firstName} ${who.lastName}`,
      mail: who.email,
      userPrincipalName: who.email,
      jobTitle: who.jobTitle,
      department: who.department,
      preferredLanguage: LANGUAGE_TAGS[evalTicket.persona.language],
    }),
  });
  const technicians = new InMemoryTechnicians();
  const engine: ConversationEngine = createConversationEngine({
    desk,
    directory,
    tenants: new SingleTenantDirectory(),
    chat,
    technicians: new InMemoryTechnicianChannel(),
    authority: technicians,
    technicianDirectory: technicians,
    model: options.observed.chain,
    store,
    clock,
    log: silentLog,
    settings,
  });
  const user = createSimulatedUser(evalTicket);
  const turns: TranscriptTurn[] = [];
  const internalNotes: string[] = [];
  let delivered = 0;
  let round = 0;
  let error: string | null = null;
  options.observed.take();

  /** What the engine sent since the user last looked, recorded as the assistant's turn of this round. */
  const readChat = (): BotMessage[] => {
    const fresh = chat.sent.slice(delivered);
    delivered = chat.sent.length;
    const texts = fresh.flatMap((s) => (s.message.kind === 'text' ? [s.message.text] : []));
    const cards = fresh.flatMap((s) => (s.message.kind === 'card' ? [s.message.card] : []));
    const shown = [...texts, ...cards.flatMap((c) => (c.kind === 'confirm_fix' ? [c.question] : []))];
    if (shown.length > 0) turns.push({ round, role: 'assistant', text: shown.join('\n') });
    return botMessages(cards, texts);
  };
  /** Internal notes the engine queued for Atera (its handover summary is among them). */
  const drainNotes = async () => {
    for (;;) {
      const due = await store.dueComments('2100-01-01T00:00:00.000Z', 100, 0);
      if (due.length === 0) return;
      for (const entry of due) {
        if (entry.comment.visibility === 'internal') internalNotes.push(entry.comment.text);
        await store.markDelivered(entry.id);
      }
    }
  };

  try {
    const started = await engine.startTicket(ticket);
    if (started !== 'started') throw new Error(`the engine did not start the conversation (${started})`);
    const maxSteps = settings.maxRounds * 2 + 4;
    for (let step = 0; step < maxSteps; step += 1) {
      const seen = readChat();
      const record = await store.getConversation(ticket.id);
      if (!record || !isLive(record.state) || !record.chatConversationId) break;
      round += 1;
      const action = user.reply(seen, round);
      clock.advanceMinutes(user.minutesFor(action));
      await engine.tick();
      await engine.idle();
      const still = await store.getConversation(ticket.id);
      if (!still || !isLive(still.state)) break;
      if (action.kind === 'card') {
        turns.push({ round, role: 'user', text: action.verb, intent: action.intent });
        await engine.onUserCardAction({
          conversationId: record.chatConversationId,
          userId,
          tenantId: CONTOSO.tenantId,
          ticketId: ticket.id,
          verb: action.verb,
        });
      } else {
        turns.push({
          round,
          role: 'user',
          text: action.text,
          intent: action.intent,
          ...(action.adversarialKind ? { adversarialKind: action.adversarialKind } : {}),
        });
        await engine.onUserMessage({
          conversationId: record.chatConversationId,
          activityId: `eval-${numericId}-${round}`,
          userId,
          tenantId: CONTOSO.tenantId,
          text: action.text,
          attachmentCount: 0,
          receivedAt: clock.now().toISOString(),
        });
      }
      // The answer (or the ending) follows the recorded message in the background, as it does for Teams.
      await engine.idle();
      await drainNotes();
    }
    readChat();
    await drainNotes();
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }

  const record = await store.getConversation(ticket.id);
  const observed = options.observed.take();
  const outcome = record?.outcome
    ? { kind: record.outcome.kind as OutcomeKind, reason: record.outcome.reason }
    : null;
  if (!error && outcome?.reason === 'all_providers_failed') {
    error = `model endpoint failed: ${[...new Set(observed.failures)].join('; ') || 'every provider failed'}`;
  }
  const handedOver = outcome && (outcome.kind === 'escalated' || outcome.kind === 'timed_out');
  return {
    ticketId: evalTicket.id,
    turns,
    outcome: error ? null : (outcome ?? { kind: 'unfinished', reason: 'no outcome within the step limit' }),
    handoverSummary: handedOver ? (internalNotes.at(-1) ?? null) : null,
    rounds: record?.rounds ?? 0,
    simulatedMinutes: (clock.now().getTime() - START.getTime()) / 60_000,
    tokens: observed.usageReported
      ? { prompt: observed.promptTokens, completion: observed.completionTokens }
      : null,
    systemPrompt: observed.systemPrompt,
    modelAnswers: { total: observed.answers, followingFormat: observed.answersFollowingFormat },
    error,
  };
}
