/**
 * Readiness: may this instance take traffic and tickets now? Three checks, each explained in the answer:
 * - store: the conversation store answers a cheap read (the outbox statistics) within a time limit;
 * - atera: Atera answered a request normally within `ateraStaleMs` (the watcher polls every few seconds, so a
 *   silent Atera means its calls are failing, not that we stopped asking);
 * - ai: at least one AI provider's circuit is closed (the chain would try it).
 */
import { TicketZeroError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { ConversationStore } from '../ports/conversation-store.js';
import { silentLog, type Log } from '../ports/log.js';

export interface ReadinessDeps {
  store: ConversationStore;
  /** When Atera last answered normally (ms since epoch), null if never since start. */
  ateraLastOk: () => number | null;
  providersAllOpen: () => boolean;
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
  checks: { store: CheckResult; atera: CheckResult; ai: CheckResult };
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

  function checkAtera(): CheckResult {
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
      const checks = { store, atera: checkAtera(), ai: checkAi() };
      return { ready: store.ok && checks.atera.ok && checks.ai.ok, checks };
    },
  };
}
