/** The ops routes on a real HTTP server over a seeded store, as the dashboard tests use them. */
import { createProviderStatsRecorder } from '../../../../src/adapters/ai/provider-stats.js';
import { createHttpServer, listen, type ListeningServer } from '../../../../src/http/server.js';
import { createMetrics } from '../../../../src/ops/metrics.js';
import { registerOpsRoutes } from '../../../../src/ops/ops-routes.js';
import { createReadinessChecks } from '../../../../src/ops/readiness.js';
import type { Clock } from '../../../../src/ports/clock.js';
import type { ConversationStore } from '../../../../src/ports/conversation-store.js';
import { silentLog } from '../../../../src/ports/log.js';

export const MINUTES_SAVED_PER_TICKET = 20;

/** Provider statistics as the chain's recorders keep them: local 40 calls / 2 timeouts, azure 12 / 1, openai 1 / 0. */
export function sandboxProviderStats() {
  const local = createProviderStatsRecorder('local');
  const azure = createProviderStatsRecorder('azure');
  const openai = createProviderStatsRecorder('openai');
  for (let i = 0; i < 40; i++) local.recordCall();
  for (let i = 0; i < 38; i++)
    local.recordSuccess(900 + i * 10, { promptTokens: 800, completionTokens: 120 });
  local.recordFailure('timeout');
  local.recordFailure('timeout');
  for (let i = 0; i < 12; i++) azure.recordCall();
  for (let i = 0; i < 11; i++) azure.recordSuccess(1400, { promptTokens: 800, completionTokens: 150 });
  azure.recordFailure('rate_limited');
  openai.recordCall();
  openai.recordSuccess(1100, { promptTokens: 800, completionTokens: 90 });
  return [local.snapshot(), azure.snapshot(), openai.snapshot()];
}

export async function startDashboardServer(options: {
  store: ConversationStore;
  clock: Clock;
  dashboardToken?: string;
}): Promise<ListeningServer> {
  const metrics = createMetrics({ clock: options.clock, processMetrics: false });
  const stats = sandboxProviderStats();
  metrics.collectProviders(() => stats);
  const server = createHttpServer({ log: silentLog, maxBodyBytes: 4096 });
  registerOpsRoutes(server, {
    metrics,
    store: options.store,
    readiness: createReadinessChecks({
      store: options.store,
      ateraLastOk: () => options.clock.now().getTime(),
      providersAllOpen: () => false,
      clock: options.clock,
      ateraStaleMs: 60_000,
    }),
    ...(options.dashboardToken ? { dashboardToken: options.dashboardToken } : {}),
    exposedBeyondLoopback: false,
    minutesSavedPerTicket: MINUTES_SAVED_PER_TICKET,
    maxRounds: 10,
    clock: options.clock,
    log: silentLog,
  });
  return listen(server, { port: 0, host: '127.0.0.1' });
}
