/**
 * Readiness: may this instance take traffic and tickets now? Three checks, each explained in the answer:
 * - store: the conversation store answers a cheap read (the outbox statistics) within a time limit;
 * - atera: Atera answered a request normally within `ateraStaleMs` (the watcher polls every few seconds, so a
 *   silent Atera means its calls are failing, not that we stopped asking);
 * - ai: at least one AI provider's circuit is closed (the chain would try it);
 * - one check per other outside system's circuit breaker (graph, teams_connector), read from its resilience policy:
 *   an open circuit means calls are refused without being tried. Atera's circuit is part of the atera check.
 */
import { TicketZeroError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { ConversationStore } from '../ports/conversation-store.js';
import { silentLog, type Log } from '../ports/log.js';
import type { CircuitReport } from '../adapters/resilience/outside-system-policy.js';

export interface ReadinessDeps {
  store: ConversationStore;
  /** When Atera last answered normally (ms since epoch), null if never since start. */
  ateraLastOk: () => number | null;
  providersAllOpen: () => boolean;
  /** The circuit breakers of the outside systems' policies (atera, graph, teams_connector), read at every check. */
  circuits?: () => CircuitReport[];
  clock: Clock;
  /** How old the last good Atera answer may be. */
  ateraStaleMs: number;
  /** Store failures are logged here with their cause (the answer only names the code). */
  log?: Log;
  /** Longest wait for the store's answer; default 2 s. */
  storeTimeoutMs?: number;
}

export interface CheckResult {
  ok: boolean;
  detail: string;
}

export interface ReadinessReport {
  ready: boolean;
  /** store, atera and ai, and one per other circuit breaker (graph, teams_connector). */
  checks: { store: CheckResult; atera: CheckResult; ai: CheckResult } & Record<string, CheckResult>;
}

export interface ReadinessChecks {
  run(): Promise<ReadinessReport>;
}

export function createReadinessChecks(deps: ReadinessDeps): ReadinessChecks {
  const storeTimeoutMs = deps.storeTimeoutMs ?? 2000;
  const startedAt = deps.clock.now().getTime();
  const log = (deps.log ?? silentLog).child({ component: 'readiness' });

  async function checkStore(): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, detail: `the store did not answer within ${storeTimeoutMs} ms` }),
        storeTimeoutMs,
      );
    });
    const read = deps.store.outboxStats().then(
      (stats): CheckResult => ({ ok: true, detail: `reachable; ${stats.depth} comment(s) in the outbox` }),
      (error: unknown): CheckResult => {
        log.warn({ err: error }, 'readiness store check failed');
        // The code only: /readyz is often unauthenticated, and a driver's message may name hosts or users.
        const code = error instanceof TicketZeroError ? error.code : 'unexpected';
        return { ok: false, detail: `unreachable (${code})` };
      },
    );
    try {
      return await Promise.race([read, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  function circuitDetail(circuit: CircuitReport): string {
    return circuit.refusing
      ? `circuit open: calls refused after repeated failures (${circuit.status === 'half_open' ? 'probe in flight' : 'cooling down'})`
      : circuit.status === 'half_open'
        ? 'circuit open, cooled down: the next call probes'
        : 'circuit closed';
  }

  function checkAtera(circuit: CircuitReport | undefined): CheckResult {
    if (circuit?.refusing) return { ok: false, detail: circuitDetail(circuit) };
    const now = deps.clock.now().getTime();
    const last = deps.ateraLastOk();
    const limit = Math.round(deps.ateraStaleMs / 1000);
    if (last === null) {
      const since = Math.round((now - startedAt) / 1000);
      return { ok: false, detail: `no normal answer from Atera yet (started ${since} s ago)` };
    }
    const age = Math.max(0, Math.round((now - last) / 1000));
    return age * 1000 <= deps.ateraStaleMs
      ? { ok: true, detail: `last normal answer ${age} s ago` }
      : { ok: false, detail: `last normal answer ${age} s ago, more than ${limit} s` };
  }

  function checkAi(): CheckResult {
    return deps.providersAllOpen()
      ? { ok: false, detail: 'every AI provider’s circuit is open' }
      : { ok: true, detail: 'at least one AI provider’s circuit is closed' };
  }

  return {
    async run() {
      const store = await checkStore();
      const circuits = deps.circuits?.() ?? [];
      const others: Record<string, CheckResult> = {};
      for (const circuit of circuits) {
        if (circuit.system !== 'atera') {
          others[circuit.system] = { ok: !circuit.refusing, detail: circuitDetail(circuit) };
        }
      }
      const atera = checkAtera(circuits.find((c) => c.system === 'atera'));
      const checks = { ...others, store, atera, ai: checkAi() };
      return { ready: Object.values(checks).every((check) => check.ok), checks };
    },
  };
}
