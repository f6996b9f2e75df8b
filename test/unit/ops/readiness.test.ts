import { afterEach, describe, expect, it } from 'vitest';
import { createOpenAICompatibleProvider } from '../../../src/adapters/ai/openai-compatible-provider.js';
import { createProviderChain } from '../../../src/adapters/ai/provider-chain.js';
import { createInMemoryConversationStore } from '../../../src/adapters/store/in-memory-store.js';
import { createHttpServer, listen, type ListeningServer } from '../../../src/http/server.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { registerOpsRoutes } from '../../../src/ops/ops-routes.js';
import { createReadinessChecks, type ReadinessDeps } from '../../../src/ops/readiness.js';
import type { ConversationStore } from '../../../src/ports/conversation-store.js';
import { silentLog } from '../../../src/ports/log.js';
import { startModelSandbox, type ModelSandbox } from '../../../src/sandboxes/model/model-sandbox.js';
import { ManualClock } from '../../support/in-memory-ports.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface ReadyAnswer {
  status: string;
  ready: boolean;
  checks: Record<'store' | 'atera' | 'ai', { ok: boolean; detail: string }>;
}

async function serveReadiness(deps: Partial<ReadinessDeps> & { store: ConversationStore }) {
  const clock = (deps.clock as ManualClock | undefined) ?? new ManualClock();
  const server = createHttpServer({ log: silentLog, maxBodyBytes: 4096 });
  registerOpsRoutes(server, {
    metrics: createMetrics({ processMetrics: false }),
    store: deps.store,
    readiness: createReadinessChecks({
      ateraLastOk: () => clock.now().getTime(),
      providersAllOpen: () => false,
      ateraStaleMs: 120_000,
      ...deps,
      clock,
    }),
    exposedBeyondLoopback: false,
    minutesSavedPerTicket: 15,
    maxRounds: 10,
    clock,
    log: silentLog,
  });
  const http: ListeningServer = await listen(server, { port: 0, host: '127.0.0.1' });
  closers.push(() => http.close());
  return async (): Promise<{ status: number; body: ReadyAnswer }> => {
    const response = await fetch(`${http.url}/readyz`);
    return { status: response.status, body: (await response.json()) as ReadyAnswer };
  };
}

describe('GET /readyz', () => {
  it('answers 200 with every check explained when the store, Atera and a provider are usable', async () => {
    const readyz = await serveReadiness({ store: createInMemoryConversationStore() });
    const { status, body } = await readyz();
    expect(status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.checks.store).toEqual({ ok: true, detail: 'reachable; 0 comment(s) in the outbox' });
    expect(body.checks.atera).toEqual({ ok: true, detail: 'last normal answer 0 s ago' });
    expect(body.checks.ai.ok).toBe(true);
  });

  it('answers 503 when every AI provider’s circuit is open', async () => {
    const model: ModelSandbox = await startModelSandbox();
    closers.push(() => model.close());
    model.faults.set({ kind: '500' });
    const chain = createProviderChain({
      providers: ['local', 'backup'].map((name) =>
        createOpenAICompatibleProvider({
          name,
          baseUrl: model.baseUrl,
          apiKey: 'lm-studio',
          model: 'phi-3-mini',
          firstTokenTimeoutMs: 1000,
          totalTimeoutMs: 2000,
          temperature: 0.2,
          log: silentLog,
        }),
      ),
      breakerFailures: 1,
      breakerCooldownMs: 60_000,
      log: silentLog,
    });
    const readyz = await serveReadiness({
      store: createInMemoryConversationStore(),
      providersAllOpen: () => chain.allOpen(),
    });
    expect((await readyz()).status).toBe(200);

    const result = await chain.complete({ messages: [{ role: 'user', content: 'VPN fails' }] });
    expect(result.status).toBe('all_failed');
    const { status, body } = await readyz();
    expect(status).toBe(503);
    expect(body.status).toBe('not_ready');
    expect(body.checks.ai).toEqual({ ok: false, detail: 'every AI provider’s circuit is open' });
    expect(body.checks.store.ok).toBe(true);
  });

  it('answers 503 naming the store when the store is unreachable', async () => {
    const store = createInMemoryConversationStore();
    const readyz = await serveReadiness({ store });
    await store.close();
    const { status, body } = await readyz();
    expect(status).toBe(503);
    expect(body.checks.store).toEqual({ ok: false, detail: 'unreachable (store_closed)' });
    expect(body.checks.ai.ok).toBe(true);
  });

  it('answers 503 when the store does not answer within its time limit', async () => {
    const store = createInMemoryConversationStore();
    const hanging: ConversationStore = { ...store, outboxStats: () => new Promise(() => {}) };
    const readyz = await serveReadiness({ store: hanging, storeTimeoutMs: 50 });
    const { status, body } = await readyz();
    expect(status).toBe(503);
    expect(body.checks.store).toEqual({ ok: false, detail: 'the store did not answer within 50 ms' });
  });

  it('answers 503 when Atera has not answered normally for longer than allowed, or not at all yet', async () => {
    const clock = new ManualClock();
    let lastOk: number | null = null;
    const readyz = await serveReadiness({
      store: createInMemoryConversationStore(),
      clock,
      ateraLastOk: () => lastOk,
    });
    expect((await readyz()).body.checks.atera).toEqual({
      ok: false,
      detail: 'no normal answer from Atera yet (started 0 s ago)',
    });
    lastOk = clock.now().getTime();
    clock.advanceMs(120_000);
    expect((await readyz()).status).toBe(200);
    clock.advanceMs(1000);
    const { status, body } = await readyz();
    expect(status).toBe(503);
    expect(body.checks.atera).toEqual({ ok: false, detail: 'last normal answer 121 s ago, more than 120 s' });
  });
});
