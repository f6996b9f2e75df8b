/** Builds a conversation engine over in-memory ports, as each engine spec needs it. */
import { createInMemoryConversationStore } from '../../../src/adapters/store/in-memory-store.js';
import {
  createConversationEngine,
  type ConversationEngine,
  type EngineSettings,
} from '../../../src/engine/conversation-engine.js';
import type { ConversationStore } from '../../../src/ports/conversation-store.js';
import { silentLog } from '../../../src/ports/log.js';
import type { UserMessage } from '../../../src/ports/support-engine.js';
import {
  InMemoryChat,
  InMemoryTechnicianChannel,
  InMemoryTechnicians,
  InMemoryTicketDesk,
  InMemoryUserDirectory,
  ManualClock,
  ScriptedModel,
  SingleTenantDirectory,
  makeUser,
} from '../../support/in-memory-ports.js';

export const defaultSettings: EngineSettings = {
  maxRounds: 10,
  maxMinutes: 30,
  warnRoundsLeft: 2,
  commentVisibility: 'internal',
  promptTokenBudget: 3000,
  maxAnswerTokens: 400,
  escalation: { status: 'Open' },
  linkAllowList: [],
  forbiddenInAnswers: ['sandbox-api-key-123'],
  userMessagesPerMinute: 30,
  ownTechnician: { email: 'ticketzero@msp.example' },
};

export interface Harness {
  /** The engine; each call also waits for the work it started in the background. */
  engine: ConversationEngine;
  /** The same engine, each call returning as it does for Teams (before the background work is done). */
  unsettled: ConversationEngine;
  store: ConversationStore;
  desk: InMemoryTicketDesk;
  directory: InMemoryUserDirectory;
  chat: InMemoryChat;
  threads: InMemoryTechnicianChannel;
  technicians: InMemoryTechnicians;
  model: ScriptedModel;
  clock: ManualClock;
  /** A new engine over the same store and ports, as after a restart. */
  restart(): ConversationEngine;
  say(text: string, options?: { userId?: string; activityId?: string }): Promise<void>;
  /** A message from the user as the Teams adapter hands it over (a new activity id each time). */
  message(text: string, options?: { userId?: string; activityId?: string }): UserMessage;
}

let activity = 0;

export function createHarness(
  options: { settings?: Partial<EngineSettings>; unmapped?: number[] } = {},
): Harness {
  const store = createInMemoryConversationStore();
  const desk = new InMemoryTicketDesk();
  const directory = new InMemoryUserDirectory();
  directory.add('megan.bowen@contoso.example', { status: 'found', user: makeUser() });
  const chat = new InMemoryChat();
  const threads = new InMemoryTechnicianChannel();
  const technicians = new InMemoryTechnicians();
  const model = new ScriptedModel();
  const clock = new ManualClock();
  const settings = { ...defaultSettings, ...options.settings };
  let raw: ConversationEngine;
  const build = () =>
    settledAfterEachCall(
      (raw = createConversationEngine({
        desk,
        directory,
        tenants: new SingleTenantDirectory(undefined, options.unmapped ?? []),
        chat,
        technicians: threads,
        authority: technicians,
        technicianDirectory: technicians,
        model,
        store,
        clock,
        log: silentLog,
        settings,
      })),
    );
  const harness: Harness = {
    engine: build(),
    get unsettled() {
      return raw;
    },
    store,
    desk,
    directory,
    chat,
    threads,
    technicians,
    model,
    clock,
    restart: () => {
      harness.engine = build();
      return harness.engine;
    },
    message: (text, o = {}) => {
      const userId = o.userId ?? 'aad-megan';
      return {
        conversationId: `a:chat-${userId}`,
        activityId: o.activityId ?? `act-${++activity}`,
        userId,
        tenantId: '11111111-1111-4111-8111-111111111111',
        text,
        attachmentCount: 0,
        receivedAt: clock.now().toISOString(),
      };
    },
    say: async (text, o = {}) => {
      await harness.engine.onUserMessage(harness.message(text, o));
    },
  };
  return harness;
}

/**
 * The engine answers after the inbound call returned (in the background); each spec reads the outcome once that
 * work is done, so every call here also waits for it.
 */
function settledAfterEachCall(engine: ConversationEngine): ConversationEngine {
  const settled = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(engine) as [string, (...args: unknown[]) => Promise<unknown>][]) {
    settled[name] =
      name === 'idle'
        ? fn
        : async (...args: unknown[]) => {
            const result = await fn(...args);
            await engine.idle();
            return result;
          };
  }
  return settled as unknown as ConversationEngine;
}

/** Takes the queued Atera comments out of the store's outbox (of one ticket, or all), in delivery order. */
export async function drainComments(store: ConversationStore, ticketId?: number): Promise<string[]> {
  const texts: string[] = [];
  for (;;) {
    const due = (await store.dueComments('2100-01-01T00:00:00.000Z', 1000, 0)).filter(
      (entry) => ticketId === undefined || entry.ticketId === ticketId,
    );
    if (due.length === 0) return texts;
    for (const entry of due) {
      texts.push(entry.comment.text);
      await store.markDelivered(entry.id);
    }
  }
}
