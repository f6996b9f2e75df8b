/**
 * The composition root: config → logger → adapters → engine → HTTP. The only module that knows both the engine
 * and the adapters. `main.ts` runs it for production; tests and the local run build it with their own clock and
 * settings pointed at the sandboxes.
 */
import { hostname } from 'node:os';
import type { Config } from './config/load-config.js';
import { loadTenantMap } from './config/tenant-map.js';
import type { Env } from './config/setting.js';
import { AteraClient } from './adapters/atera/atera-client.js';
import { AteraTicketDesk } from './adapters/atera/atera-ticket-desk.js';
import { createProviderChain } from './adapters/ai/provider-chain.js';
import { createProvidersFromConfig } from './adapters/ai/create-providers.js';
import { createGraphAppInstaller } from './adapters/graph/app-installer.js';
import { createGraphUserDirectory } from './adapters/graph/graph-user-directory.js';
import { gatewayFor } from './adapters/graph/shared-gateway.js';
import { createConversationStoreFromConfig } from './adapters/store/create-store.js';
import { connectorWorstCallMs } from './adapters/teams/connector-retry.js';
import { createTeamsBot } from './adapters/teams/teams-bot.js';
import {
  createConversationEngine,
  type ConversationEngine,
  type EngineObserver,
} from './engine/conversation-engine.js';
import { createCommentOutbox } from './engine/comment-outbox.js';
import { createTicketWatcher } from './engine/ticket-watcher.js';
import { registerAteraWebhook } from './http/atera-webhook.js';
import { createBotRegistrations } from './http/bot-registrations.js';
import { createHttpServer, listen, resolveBindHost, type ListeningServer } from './http/server.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { registerOpsRoutes } from './ops/ops-routes.js';
import { createReadinessChecks } from './ops/readiness.js';
import { createLogger, type Logger } from './logging/logger.js';
import { isLoopbackHost } from './security/loopback-host.js';
import { withConversationRateLimit } from './security/conversation-rate-limit.js';
import { createRetentionJob } from './security/retention-job.js';
import { logSecretsOf, tenantSecretValues } from './security/secret-values.js';
import { systemClock, type Clock } from './ports/clock.js';
import type { ConversationStore } from './ports/conversation-store.js';
import type { TicketFeed, TicketFeedAnswer } from './ports/ticket-desk.js';

export interface TicketZeroOptions {
  log?: Logger;
  /** Where log lines go (JSON lines, secrets scrubbed) when no `log` is given; default stdout. */
  logTo?: NodeJS.WritableStream;
  clock?: Clock;
  /** Observes the engine (metrics). */
  observer?: EngineObserver;
  /** How often deadlines are checked (ms). */
  tickMs?: number;
  /** How often the outbox looks for due comments (ms). */
  outboxIntervalMs?: number;
  /**
   * Where the secrets the tenants file names (clientSecretEnv, appPasswordEnv) are read: the environment the
   * config was loaded from. Default: the process environment (read by src/config/tenant-map.ts).
   */
  env?: Env;
}

export interface TicketZero {
  readonly config: Config;
  readonly log: Logger;
  readonly engine: ConversationEngine;
  readonly store: ConversationStore;
  readonly watcher: ReturnType<typeof createTicketWatcher>;
  readonly outbox: ReturnType<typeof createCommentOutbox>;
  readonly metrics: Metrics;
  /** Starts listening, recovers what a previous process left, then starts polling and delivering. */
  start(): Promise<ListeningServer>;
  stop(): Promise<void>;
}

export async function createTicketZero(config: Config, options: TicketZeroOptions = {}): Promise<TicketZero> {
  const tenants = loadTenantMap(config.graph, config.bot, options.env);
  // Every secret value, from the settings and from the tenants file: scrubbed from logs, refused in AI answers.
  const secrets = [...new Set([...logSecretsOf(config), ...tenantSecretValues(tenants)])];
  const log =
    options.log ??
    createLogger({ level: config.ops.logLevel, pretty: config.ops.logPretty, secrets }, options.logTo);
  const clock = options.clock ?? systemClock;
  const instanceId = config.store.instanceId ?? `${hostname()}:${process.pid}`;
  const metrics = createMetrics({ clock, log });

  const store = await createConversationStoreFromConfig(
    {
      kind: config.store.kind,
      dataDir: config.store.dataDir,
      databaseUrl: config.store.databaseUrl,
      databaseSchema: config.store.databaseSchema,
      instanceId,
    },
    { log, transcriptKeys: config.security.transcriptKeys },
  );

  const atera = new AteraClient({
    baseUrl: config.atera.baseUrl,
    apiKey: config.atera.apiKey,
    timeoutMs: config.atera.requestTimeoutMs,
    requestsPerMinute: config.atera.requestsPerMinute,
    allowInsecureHttp: config.atera.allowInsecureHttp,
    retry: {
      maxRetries: config.atera.maxRetries,
      budgetMs: config.atera.retryBudgetMs,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
    },
    breaker: { failures: config.atera.breakerFailures, halfOpenAfterMs: config.atera.breakerCooldownMs },
    log,
    onResponse: metrics.onAteraResponse,
  });
  const desk = new AteraTicketDesk(atera, {
    ...(config.atera.technicianId !== undefined ? { technicianId: config.atera.technicianId } : {}),
    ...(config.atera.technicianEmail ? { technicianEmail: config.atera.technicianEmail } : {}),
  });

  // One Graph gateway (one resilience policy) for the user directory and the app installer.
  const graph = gatewayFor({ tenants, graph: config.graph, log });
  const directory = metrics.instrumentDirectory(
    createGraphUserDirectory({ tenants, graph: config.graph, gateway: graph, log }),
  );
  const appInstaller = createGraphAppInstaller({
    tenants,
    graph: config.graph,
    gateway: graph,
    teamsAppId: config.bot.teamsAppId,
    log,
  });

  const providers = createProvidersFromConfig(config.ai, log);
  const model = createProviderChain({
    providers,
    breakerFailures: config.ai.breakerFailures,
    breakerCooldownMs: config.ai.breakerCooldownMs,
    log,
  });

  const bots = createBotRegistrations(config.bot, tenants);
  const teams = createTeamsBot({
    store,
    // MICROSOFT_APP_ID plus each customer tenant's own bot registration from the tenants file.
    auth: bots.auth,
    appId: config.bot.appId,
    botAppIdFor: bots.appIdForTenant,
    defaultServiceUrl: config.bot.serviceUrl,
    appInstaller,
    groups: directory,
    technicians: {
      teamId: config.technicians.teamId,
      channelId: config.technicians.channelId,
      groupId: config.technicians.groupId,
      directoryFile: config.technicians.directoryFile,
    },
    tenants,
    log,
  });

  let outboxRef: { kick(): void } | null = null;
  const engine = createConversationEngine({
    desk,
    directory,
    tenants,
    chat: teams.chat,
    technicians: teams.technicianChannel,
    authority: teams.authority,
    technicianDirectory: teams.directory,
    model,
    store,
    clock,
    log,
    settings: {
      maxRounds: config.conversation.maxRounds,
      maxMinutes: config.conversation.maxMinutes,
      warnRoundsLeft: config.conversation.warnRoundsLeft,
      commentVisibility: config.atera.commentVisibility,
      promptTokenBudget: config.ai.promptTokenBudget,
      maxAnswerTokens: config.ai.maxAnswerTokens,
      escalation: {
        status: config.technicians.escalationStatus,
        ...(config.technicians.escalationPriority ? { priority: config.technicians.escalationPriority } : {}),
      },
      linkAllowList: config.security.linkAllowList,
      forbiddenInAnswers: secrets,
      userMessagesPerMinute: config.security.userMessagesPerMinute,
      instanceId,
      answerLeaseMs: config.ai.totalTimeoutMs * Math.max(1, providers.length) + 30_000,
      chatSendLeaseMs: connectorWorstCallMs() + 10_000,
      exclusiveStore: config.store.kind === 'lowdb',
      ownTechnician: {
        ...(config.atera.technicianId !== undefined ? { contactId: config.atera.technicianId } : {}),
        ...(config.atera.technicianEmail ? { email: config.atera.technicianEmail } : {}),
      },
    },
    onCommentsQueued: () => outboxRef?.kick(),
    observer: options.observer ? combineObservers(metrics.observer, options.observer) : metrics.observer,
  });
  metrics.collectProviders(
    () => model.stats(),
    (name) => model.isOpen(name),
  );
  // Readiness and metrics read each outside system's circuit breaker from its resilience policy.
  const circuits = () => [atera.circuit(), graph.circuit(), teams.connectorCircuit()];
  metrics.collectCircuits(circuits);
  metrics.collectOutbox(store);
  metrics.collectLive(store);
  // Per-conversation turn limit in front of the engine (src/security/conversation-rate-limit.ts).
  teams.attach(
    withConversationRateLimit(engine, {
      turnsPerMinute: config.security.conversationTurnsPerMinute,
      clock,
      log,
    }),
  );
  const retention = createRetentionJob({
    store,
    clock,
    log,
    retentionDays: config.security.transcriptRetentionDays,
  });

  // The watcher's feed also tells the engine about tickets that changed under a live conversation (closed, resolved
  // or reassigned in Atera, new comments), at no extra Atera call: from each poll, and from a webhook's nudge. The
  // engine handles them in the background, so a poll never waits on reading a ticket's comments.
  const feed: TicketFeed = {
    changedSince: async (since: string): Promise<TicketFeedAnswer> => {
      const answer = await desk.changedSince(since);
      for (const ticket of answer.tickets) engine.ticketNoticed(ticket);
      return answer;
    },
    getTicket: async (id) => {
      const ticket = await desk.getTicket(id);
      engine.ticketNoticed(ticket);
      return ticket;
    },
  };

  const watcher = createTicketWatcher({
    feed,
    store,
    clock,
    log,
    intake: (ticket) => engine.startTicket(ticket),
    observer: metrics.observer,
    settings: {
      pollSeconds: config.atera.pollSeconds,
      maxConcurrent: config.atera.maxConcurrentTickets,
      backfillMinutes: config.atera.backfillMinutes,
      instanceId,
      commentVisibility: config.atera.commentVisibility,
    },
  });
  const outbox = createCommentOutbox({
    store,
    desk,
    clock,
    log,
    settings: {
      intervalMs: options.outboxIntervalMs ?? 1000,
      batchSize: 20,
      leaseMs: 60_000,
      baseBackoffMs: 1000,
      maxBackoffMs: 10 * 60_000,
    },
  });
  outboxRef = outbox;

  const bind = resolveBindHost({ host: config.http.host, appId: config.bot.appId });
  const server = createHttpServer({ log, maxBodyBytes: config.http.maxBodyBytes });
  teams.mount(server);
  registerAteraWebhook(server, { secret: config.atera.webhookSecret, watcher, log });
  registerOpsRoutes(server, {
    metrics,
    store,
    readiness: createReadinessChecks({
      store,
      ateraLastOk: metrics.ateraLastOk,
      providersAllOpen: () => model.allOpen(),
      circuits,
      clock,
      log,
      ateraStaleMs: Math.max(120_000, 4 * config.atera.pollSeconds * 1000),
    }),
    metricsToken: config.ops.metricsToken,
    dashboardToken: config.ops.dashboardToken,
    exposedBeyondLoopback: !isLoopbackHost(bind.host),
    minutesSavedPerTicket: config.ops.minutesSavedPerTicket,
    maxRounds: config.conversation.maxRounds,
    clock,
    log,
  });

  let listening: ListeningServer | null = null;
  let ticker: NodeJS.Timeout | null = null;

  return {
    config,
    log,
    engine,
    store,
    watcher,
    outbox,
    metrics,
    async start() {
      if (bind.warning) log.warn({ host: bind.host }, bind.warning);
      listening = await listen(server, { port: config.http.port, host: bind.host });
      log.info(
        {
          url: listening.url,
          localMode: bind.localMode,
          providers: model.providers,
          store: config.store.kind,
        },
        'TicketZero listening',
      );
      await engine.recover();
      watcher.start();
      retention.start();
      outbox.start();
      ticker = setInterval(() => {
        engine.tick().catch((error: unknown) => log.error({ err: error }, 'engine tick failed'));
      }, options.tickMs ?? 5000);
      ticker.unref();
      return listening;
    },
    async stop() {
      if (ticker) clearInterval(ticker);
      await watcher.stop();
      // Queued comments are durable: stop after the batch in flight, the next start delivers the rest (draining a
      // burst at Atera's rate limit could outlast the host's stop grace period).
      await outbox.stop();
      await retention.stop();
      if (listening) await listening.close();
      // Answers being worked on are recorded as owed: wait a little for them, the next start finishes the rest.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        engine.idle(),
        new Promise<void>((resolve) => {
          grace = setTimeout(resolve, STOP_GRACE_MS);
        }),
      ]);
      clearTimeout(grace);
      await store.close();
    },
  };
}

/** How long a stop waits for answers in progress (a host's stop grace period is usually 10–30 s). */
const STOP_GRACE_MS = 5_000;

/** Calls every observer's hook, so tests can watch the engine beside the metrics. */
function combineObservers(...observers: EngineObserver[]): EngineObserver {
  const keys = new Set(observers.flatMap((o) => Object.keys(o))) as Set<keyof EngineObserver>;
  const combined: Record<string, (...args: unknown[]) => void> = {};
  for (const key of keys) {
    combined[key] = (...args: unknown[]) => {
      for (const o of observers) (o[key] as ((...a: unknown[]) => void) | undefined)?.(...args);
    };
  }
  return combined as EngineObserver;
}
