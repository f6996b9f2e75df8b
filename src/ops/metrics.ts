/**
 * TicketZero's Prometheus metrics, on a registry of its own (never prom-client's global one, so two apps in one
 * process — tests — do not share counters).
 *
 * Events are counted as they happen (engine observer, Atera client hook, Graph lookups); state that already lives
 * somewhere (provider chain statistics, live conversations, the outbox) is read at scrape time by collect callbacks,
 * so no call path is wrapped and the numbers cannot drift from their source.
 * docs/operations.md lists every metric.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProviderStats } from '../adapters/ai/provider-stats.js';
import type { AteraResponseInfo } from '../adapters/atera/atera-client.js';
import type { CircuitReport } from '../adapters/resilience/outside-system-policy.js';
import type { EngineObserver } from '../engine/conversation-engine.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { ConversationRecord, ConversationStore } from '../ports/conversation-store.js';
import { silentLog, type Log } from '../ports/log.js';
import type { UserDirectory } from '../ports/user-directory.js';
import { withLookupMetrics, type GraphLookupEvent } from './lookup-metrics.js';

export interface MetricsOptions {
  clock?: Clock;
  log?: Log;
  /** Node.js process metrics (CPU, memory, event loop lag); on by default. */
  processMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  /** Pass to createConversationEngine (and the ticket watcher, for skips). */
  readonly observer: EngineObserver;
  /** Pass as AteraClientOptions.onResponse. */
  onAteraResponse(info: AteraResponseInfo): void;
  /** Milliseconds since epoch of the last answer from Atera that shows it reachable and accepting our key. */
  ateraLastOk(): number | null;
  /** Counts Graph lookups and failures at the UserDirectory boundary. */
  instrumentDirectory<D extends UserDirectory>(directory: D): D;
  onGraphLookup(event: GraphLookupEvent): void;
  /** Reads the provider chain's statistics at every scrape (and for the dashboard). */
  collectProviders(source: () => ProviderStats[], isOpen?: (provider: string) => boolean): void;
  /** Reads the outside systems' circuit breakers (atera, graph, teams_connector) at every scrape. */
  collectCircuits(source: () => CircuitReport[]): void;
  /** The provider statistics as of now, empty before collectProviders. */
  providerStats(): ProviderStats[];
  /** Outbox depth and the age of the oldest undelivered comment, read at every scrape. */
  collectOutbox(store: ConversationStore): void;
  /** Live conversations by state, read at every scrape. */
  collectLive(store: ConversationStore): void;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
}

const ROUND_BUCKETS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20];
const TURN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];
const ATERA_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20];
const GRAPH_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/** Answers that show Atera reachable and our key accepted (a 401/403 or a 5xx does not). */
function ateraAnswerIsHealthy(status: number | null): boolean {
  return status !== null && status < 500 && status !== 401 && status !== 403;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const clock = options.clock ?? systemClock;
  const log = (options.log ?? silentLog).child({ component: 'metrics' });
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const collectorErrors = new Counter({
    name: 'ticketzero_metrics_collector_errors_total',
    help: 'Scrape-time reads that failed (the metric keeps its last value)',
    labelNames: ['collector'],
    registers,
  });
  /** Runs a scrape-time read; a failure is logged and counted, and the gauge keeps its last value. */
  const guarded = async (collector: string, read: () => Promise<void> | void): Promise<void> => {
    try {
      await read();
    } catch (error) {
      collectorErrors.inc({ collector });
      log.warn({ collector, err: error }, 'metrics collector failed');
    }
  };

  // Tickets ------------------------------------------------------------------------------------------------
  const ticketsSeen = new Counter({
    name: 'ticketzero_tickets_seen_total',
    help: 'New Atera tickets TicketZero decided on (taken into intake or skipped by the watcher)',
    registers,
  });
  const ticketsTaken = new Counter({
    name: 'ticketzero_tickets_taken_total',
    help: 'Tickets whose conversation with the end user started',
    registers,
  });
  const ticketsSkipped = new Counter({
    name: 'ticketzero_tickets_skipped_total',
    help: 'Tickets TicketZero did not take, by reason (no_end_user_email, user_not_found, unmapped_customer…)',
    labelNames: ['reason'],
    registers,
  });

  // Conversations ------------------------------------------------------------------------------------------
  const outcomes = new Counter({
    name: 'ticketzero_conversation_outcomes_total',
    help: 'How conversations ended (resolved, escalated, timed_out, ended_in_atera) by reason, and take-overs (taken_over)',
    labelNames: ['outcome', 'reason'],
    registers,
  });
  const rounds = new Histogram({
    name: 'ticketzero_conversation_rounds',
    help: 'AI rounds per ended conversation',
    labelNames: ['outcome'],
    buckets: ROUND_BUCKETS,
    registers,
  });
  const turnSeconds = new Histogram({
    name: 'ticketzero_turn_seconds',
    help: 'Time to answer a user turn, split into model time (part="model") and TicketZero overhead (part="overhead")',
    labelNames: ['part'],
    buckets: TURN_BUCKETS,
    registers,
  });
  const turnsByProvider = new Counter({
    name: 'ticketzero_turns_answered_total',
    help: 'User turns answered, by the provider that answered (provider="none" when every provider failed)',
    labelNames: ['provider'],
    registers,
  });

  let liveStore: ConversationStore | null = null;
  new Gauge({
    name: 'ticketzero_conversations_active',
    help: 'Live conversations by state (queued, active, awaiting_confirmation, paused, taken_over)',
    labelNames: ['state'],
    registers,
    async collect() {
      const store = liveStore;
      if (!store) return;
      await guarded('live', async () => {
        const live = await store.listLive();
        const byState = new Map<string, number>(
          ['queued', 'active', 'awaiting_confirmation', 'paused', 'taken_over'].map((s) => [s, 0]),
        );
        for (const record of live) byState.set(record.state, (byState.get(record.state) ?? 0) + 1);
        for (const [state, count] of byState) this.set({ state }, count);
      });
    },
  });

  // Providers (read from the chain's own statistics) -------------------------------------------------------
  let providerSource: (() => ProviderStats[]) | null = null;
  let providerOpen: ((provider: string) => boolean) | null = null;
  let lastProviderStats: ProviderStats[] = [];
  const readProviders = (): ProviderStats[] => {
    if (providerSource) lastProviderStats = providerSource();
    return lastProviderStats;
  };
  new Counter({
    name: 'ticketzero_provider_calls_total',
    help: 'Requests sent to each AI provider',
    labelNames: ['provider'],
    registers,
    collect() {
      if (!providerSource) return;
      this.reset();
      for (const s of readProviders()) this.inc({ provider: s.provider }, s.calls);
    },
  });
  new Counter({
    name: 'ticketzero_provider_failures_total',
    help: 'AI provider failures by status (rate_limited, unavailable, timeout, invalid, error; circuit_open = skipped)',
    labelNames: ['provider', 'status'],
    registers,
    collect() {
      if (!providerSource) return;
      this.reset();
      for (const s of readProviders()) {
        for (const [status, count] of Object.entries(s.failures)) {
          this.inc({ provider: s.provider, status }, count);
        }
      }
    },
  });
  new Gauge({
    name: 'ticketzero_provider_latency_seconds',
    help: 'Latency of successful AI answers over the last 1000 answers, by provider and quantile',
    labelNames: ['provider', 'quantile'],
    registers,
    collect() {
      if (!providerSource) return;
      this.reset();
      for (const s of readProviders()) {
        for (const [q, value] of [
          ['0.5', s.latencyMs.p50],
          ['0.9', s.latencyMs.p90],
          ['0.99', s.latencyMs.p99],
        ] as const) {
          if (value !== null) this.set({ provider: s.provider, quantile: q }, value / 1000);
        }
      }
    },
  });
  new Counter({
    name: 'ticketzero_provider_tokens_total',
    help: 'Tokens used by AI provider and kind (prompt, completion)',
    labelNames: ['provider', 'kind'],
    registers,
    collect() {
      if (!providerSource) return;
      this.reset();
      for (const s of readProviders()) {
        this.inc({ provider: s.provider, kind: 'prompt' }, s.tokens.prompt);
        this.inc({ provider: s.provider, kind: 'completion' }, s.tokens.completion);
      }
    },
  });
  new Gauge({
    name: 'ticketzero_provider_circuit_open',
    help: '1 while the provider’s circuit breaker is open (the chain skips it)',
    labelNames: ['provider'],
    registers,
    collect() {
      const isOpen = providerOpen;
      if (!providerSource || !isOpen) return;
      for (const s of readProviders()) this.set({ provider: s.provider }, isOpen(s.provider) ? 1 : 0);
    },
  });

  // Circuit breakers of the outside systems (read from their resilience policies) ---------------------------
  let circuitSource: (() => CircuitReport[]) | null = null;
  new Gauge({
    name: 'ticketzero_circuit_open',
    help: '1 while the outside system’s circuit breaker refuses calls (atera, graph, teams_connector)',
    labelNames: ['system'],
    registers,
    collect() {
      if (!circuitSource) return;
      for (const c of circuitSource()) this.set({ system: c.system }, c.refusing ? 1 : 0);
    },
  });

  // Atera --------------------------------------------------------------------------------------------------
  const ateraRequests = new Counter({
    name: 'ticketzero_atera_requests_total',
    help: 'Atera API requests (every attempt) by method, templated endpoint and status ("none" when no answer came)',
    labelNames: ['method', 'endpoint', 'status'],
    registers,
  });
  const ateraSeconds = new Histogram({
    name: 'ticketzero_atera_request_seconds',
    help: 'Atera API request duration by method and templated endpoint',
    labelNames: ['method', 'endpoint'],
    buckets: ATERA_BUCKETS,
    registers,
  });
  let ateraOkAt: number | null = null;
  new Gauge({
    name: 'ticketzero_atera_last_ok_timestamp_seconds',
    help: 'When Atera last answered a request normally (Unix time)',
    registers,
    collect() {
      if (ateraOkAt !== null) this.set(ateraOkAt / 1000);
    },
  });

  // Outbox -------------------------------------------------------------------------------------------------
  let outboxStore: ConversationStore | null = null;
  /**
   * Both outbox gauges read the store once per scrape: the second collect joins the read in flight. A failed read
   * is counted and logged once, and the gauges keep their last values.
   */
  let outboxRead: Promise<{ depth: number; oldestAgeSeconds: number } | null> | null = null;
  const readOutbox = (store: ConversationStore) =>
    (outboxRead ??= (async () => {
      let result: { depth: number; oldestAgeSeconds: number } | null = null;
      await guarded('outbox', async () => {
        const stats = await store.outboxStats();
        const oldest = stats.oldestCreatedAt === null ? null : Date.parse(stats.oldestCreatedAt);
        result = {
          depth: stats.depth,
          oldestAgeSeconds: oldest === null ? 0 : Math.max(0, (clock.now().getTime() - oldest) / 1000),
        };
      });
      return result;
    })().finally(() => {
      outboxRead = null;
    }));
  new Gauge({
    name: 'ticketzero_outbox_depth',
    help: 'Atera comments queued and not yet delivered',
    registers,
    async collect() {
      const store = outboxStore;
      if (!store) return;
      const read = await readOutbox(store);
      if (read) this.set(read.depth);
    },
  });
  new Gauge({
    name: 'ticketzero_outbox_oldest_age_seconds',
    help: 'Age of the oldest undelivered Atera comment (0 when the outbox is empty)',
    registers,
    async collect() {
      const store = outboxStore;
      if (!store) return;
      const read = await readOutbox(store);
      if (read) this.set(read.oldestAgeSeconds);
    },
  });

  // Graph --------------------------------------------------------------------------------------------------
  const graphLookups = new Counter({
    name: 'ticketzero_graph_lookups_total',
    help: 'Microsoft Graph lookups by kind (user by e-mail, technicians’ group membership) and result',
    labelNames: ['kind', 'result'],
    registers,
  });
  const graphFailures = new Counter({
    name: 'ticketzero_graph_lookup_failures_total',
    help: 'Microsoft Graph lookups that failed (threw), by kind and error code',
    labelNames: ['kind', 'code'],
    registers,
  });
  const graphSeconds = new Histogram({
    name: 'ticketzero_graph_lookup_seconds',
    help: 'Microsoft Graph lookup duration by kind',
    labelNames: ['kind'],
    buckets: GRAPH_BUCKETS,
    registers,
  });

  const ended = (record: ConversationRecord): void => {
    const outcome = record.outcome;
    if (!outcome || outcome.kind === 'declined') return;
    outcomes.inc({ outcome: outcome.kind, reason: outcome.reason });
    rounds.observe({ outcome: outcome.kind }, record.rounds);
  };

  const observer: EngineObserver = {
    ticketTaken: () => ticketsSeen.inc(),
    ticketDeclined: (_ticket, reason) => ticketsSkipped.inc({ reason }),
    ticketSkipped: (_ticket, reason) => {
      ticketsSeen.inc();
      ticketsSkipped.inc({ reason });
    },
    conversationStarted: () => ticketsTaken.inc(),
    conversationTakenOver: () => outcomes.inc({ outcome: 'taken_over', reason: 'technician' }),
    turnAnswered: ({ provider, modelMs, totalMs }) => {
      turnSeconds.observe({ part: 'model' }, modelMs / 1000);
      turnSeconds.observe({ part: 'overhead' }, Math.max(0, totalMs - modelMs) / 1000);
      turnsByProvider.inc({ provider: provider ?? 'none' });
    },
    conversationEnded: ended,
  };

  const metrics: Metrics = {
    registry,
    observer,
    contentType: registry.contentType,
    onAteraResponse(info) {
      ateraRequests.inc({
        method: info.method,
        endpoint: info.endpoint,
        status: info.status === null ? 'none' : String(info.status),
      });
      ateraSeconds.observe({ method: info.method, endpoint: info.endpoint }, info.ms / 1000);
      if (ateraAnswerIsHealthy(info.status)) ateraOkAt = clock.now().getTime();
    },
    ateraLastOk: () => ateraOkAt,
    instrumentDirectory: (directory) => withLookupMetrics(directory, metrics),
    onGraphLookup(event) {
      graphLookups.inc({ kind: event.kind, result: event.result });
      graphSeconds.observe({ kind: event.kind }, event.ms / 1000);
      if (event.result === 'error')
        graphFailures.inc({ kind: event.kind, code: event.errorCode ?? 'unknown' });
    },
    collectProviders(source, isOpen) {
      providerSource = source;
      providerOpen = isOpen ?? null;
    },
    collectCircuits(source) {
      circuitSource = source;
    },
    providerStats: () => readProviders(),
    collectOutbox(store) {
      outboxStore = store;
    },
    collectLive(store) {
      liveStore = store;
    },
    render: () => registry.metrics(),
  };
  return metrics;
}
