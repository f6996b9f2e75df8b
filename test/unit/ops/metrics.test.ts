import { afterEach, describe, expect, it } from 'vitest';
import { templateAteraPath } from '../../../src/adapters/atera/atera-client.js';
import { createInMemoryConversationStore } from '../../../src/adapters/store/in-memory-store.js';
import { NotFoundError } from '../../../src/errors.js';
import { createHttpServer, listen } from '../../../src/http/server.js';
import { bearerToken, tokenMatches } from '../../../src/ops/access-token.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { registerOpsRoutes } from '../../../src/ops/ops-routes.js';
import { createReadinessChecks } from '../../../src/ops/readiness.js';
import { silentLog } from '../../../src/ports/log.js';
import type { TenantRef, UserDirectory } from '../../../src/ports/user-directory.js';
import { makeConversationRecord, makeEndedRecord } from '../../contract/fixtures.js';
import { CONTOSO, InMemoryUserDirectory, ManualClock, makeTicket } from '../../support/in-memory-ports.js';
import { valueOf } from './support/prometheus-text.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function serveMetrics(options: { metricsToken?: string; exposedBeyondLoopback: boolean }) {
  const clock = new ManualClock();
  const store = createInMemoryConversationStore();
  const metrics = createMetrics({ clock, processMetrics: false });
  const server = createHttpServer({ log: silentLog, maxBodyBytes: 4096 });
  registerOpsRoutes(server, {
    metrics,
    store,
    readiness: createReadinessChecks({
      store,
      ateraLastOk: () => null,
      providersAllOpen: () => false,
      clock,
      ateraStaleMs: 60_000,
    }),
    ...options,
    minutesSavedPerTicket: 15,
    maxRounds: 10,
    clock,
    log: silentLog,
  });
  const http = await listen(server, { port: 0, host: '127.0.0.1' });
  closers.push(() => http.close());
  return http.url;
}

describe('who may read /metrics', () => {
  it('serves it without a token while the server listens on loopback only', async () => {
    const url = await serveMetrics({ exposedBeyondLoopback: false });
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^# HELP ticketzero_tickets_seen_total/m);
  });

  it('turns it off when the server listens beyond loopback and no METRICS_TOKEN is set', async () => {
    const url = await serveMetrics({ exposedBeyondLoopback: true });
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toMatch(/ticketzero_/);
  });

  it('needs the bearer token once METRICS_TOKEN is set, also on loopback', async () => {
    const token = 'a-long-metrics-token-0123456789';
    const url = await serveMetrics({ metricsToken: token, exposedBeyondLoopback: true });
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `Basic ${token}` } })).status).toBe(
      401,
    );
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}x` } })).status).toBe(
      401,
    );
    expect((await fetch(`${url}/metrics?token=${token}`)).status).toBe(401);
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
  });
});

describe('token comparison', () => {
  it('accepts only the exact token and reads it from a Bearer header', () => {
    expect(tokenMatches('s3cret-token-value', 's3cret-token-value')).toBe(true);
    expect(tokenMatches('s3cret-token-valu', 's3cret-token-value')).toBe(false);
    expect(tokenMatches('', '')).toBe(false);
    expect(tokenMatches(undefined, 'x')).toBe(false);
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer  abc')).toBe('abc');
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});

describe('the metrics registry', () => {
  it('keeps its own registry, so two instances do not share counters', async () => {
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    a.observer.ticketTaken?.(makeTicket({ id: 1 }));
    expect(valueOf(await a.render(), 'ticketzero_tickets_seen_total')).toBe(1);
    expect(valueOf(await b.render(), 'ticketzero_tickets_seen_total')).toBe(0);
  });

  it('counts take-overs and each ending by outcome and reason, and declined tickets as skipped', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const live = makeConversationRecord({ ticketId: 5, state: 'taken_over' });
    metrics.observer.conversationTakenOver?.(live);
    metrics.observer.conversationEnded?.(
      makeEndedRecord(5, '2026-03-02T09:00:00.000Z', {
        rounds: 4,
        state: 'escalated',
        outcome: { kind: 'escalated', reason: 'technician', at: '2026-03-02T09:00:00.000Z' },
      }),
    );
    metrics.observer.conversationEnded?.(
      makeEndedRecord(6, '2026-03-02T09:10:00.000Z', {
        rounds: 10,
        state: 'timed_out',
        outcome: { kind: 'timed_out', reason: 'time_limit', at: '2026-03-02T09:10:00.000Z' },
      }),
    );
    const declined = makeEndedRecord(7, '2026-03-02T09:11:00.000Z', {
      state: 'declined',
      outcome: { kind: 'declined', reason: 'user_not_found', at: '2026-03-02T09:11:00.000Z' },
    });
    metrics.observer.ticketDeclined?.(declined.ticket, 'user_not_found');
    metrics.observer.conversationEnded?.(declined);
    const text = await metrics.render();
    expect(valueOf(text, 'ticketzero_conversation_outcomes_total', { outcome: 'taken_over' })).toBe(1);
    expect(
      valueOf(text, 'ticketzero_conversation_outcomes_total', { outcome: 'escalated', reason: 'technician' }),
    ).toBe(1);
    expect(valueOf(text, 'ticketzero_conversation_outcomes_total', { outcome: 'timed_out' })).toBe(1);
    expect(valueOf(text, 'ticketzero_conversation_outcomes_total', { outcome: 'declined' })).toBe(0);
    expect(valueOf(text, 'ticketzero_tickets_skipped_total', { reason: 'user_not_found' })).toBe(1);
    expect(valueOf(text, 'ticketzero_conversation_rounds_sum')).toBe(14);
    expect(valueOf(text, 'ticketzero_conversation_rounds_bucket', { outcome: 'timed_out', le: '9' })).toBe(0);
    expect(valueOf(text, 'ticketzero_conversation_rounds_bucket', { outcome: 'timed_out', le: '10' })).toBe(
      1,
    );
  });

  it('splits turn latency into model time and TicketZero overhead', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.observer.turnAnswered?.({ ticketId: 1, provider: 'azure', modelMs: 1800, totalMs: 2000 });
    const text = await metrics.render();
    expect(valueOf(text, 'ticketzero_turn_seconds_sum', { part: 'model' })).toBeCloseTo(1.8);
    expect(valueOf(text, 'ticketzero_turn_seconds_sum', { part: 'overhead' })).toBeCloseTo(0.2);
    expect(valueOf(text, 'ticketzero_turns_answered_total', { provider: 'azure' })).toBe(1);
  });

  it('counts Atera answers by templated endpoint and status, and only normal answers as reachable', async () => {
    const clock = new ManualClock();
    const metrics = createMetrics({ clock, processMetrics: false });
    expect(templateAteraPath('/tickets/4711/comments')).toBe('/tickets/{id}/comments');
    expect(templateAteraPath('/agents/customer/12')).toBe('/agents/customer/{id}');
    metrics.onAteraResponse({ method: 'GET', endpoint: '/tickets/{id}', status: 503, ms: 20 });
    metrics.onAteraResponse({ method: 'GET', endpoint: '/tickets/{id}', status: null, ms: 15_000 });
    metrics.onAteraResponse({ method: 'GET', endpoint: '/tickets', status: 401, ms: 20 });
    expect(metrics.ateraLastOk()).toBeNull();
    metrics.onAteraResponse({ method: 'GET', endpoint: '/tickets/{id}', status: 404, ms: 20 });
    expect(metrics.ateraLastOk()).toBe(clock.now().getTime());
    const text = await metrics.render();
    expect(
      valueOf(text, 'ticketzero_atera_requests_total', { endpoint: '/tickets/{id}', status: '503' }),
    ).toBe(1);
    expect(
      valueOf(text, 'ticketzero_atera_requests_total', { endpoint: '/tickets/{id}', status: 'none' }),
    ).toBe(1);
    expect(valueOf(text, 'ticketzero_atera_request_seconds_count', { endpoint: '/tickets/{id}' })).toBe(3);
  });

  it('counts Graph lookups by result and failures by error code, passing answers and errors through', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const inner = new InMemoryUserDirectory();
    const failing: UserDirectory = {
      findByEmail: async (tenant: TenantRef, email: string) => {
        if (email.startsWith('broken')) throw new NotFoundError('tenant not reachable');
        return inner.findByEmail(tenant, email);
      },
      isInGroup: async () => true,
    };
    const directory = metrics.instrumentDirectory(failing);
    expect(await directory.findByEmail(CONTOSO, 'nobody@contoso.example')).toEqual({ status: 'not_found' });
    await expect(directory.findByEmail(CONTOSO, 'broken@contoso.example')).rejects.toThrow(NotFoundError);
    expect(await directory.isInGroup(CONTOSO, 'u1', 'g1')).toBe(true);
    const text = await metrics.render();
    expect(valueOf(text, 'ticketzero_graph_lookups_total', { kind: 'user', result: 'not_found' })).toBe(1);
    expect(valueOf(text, 'ticketzero_graph_lookups_total', { kind: 'user', result: 'error' })).toBe(1);
    expect(valueOf(text, 'ticketzero_graph_lookup_failures_total', { kind: 'user', code: 'not_found' })).toBe(
      1,
    );
    expect(valueOf(text, 'ticketzero_graph_lookups_total', { kind: 'group', result: 'member' })).toBe(1);
  });

  it('reads the outbox and live conversations at scrape time, and counts a store that fails to answer', async () => {
    const clock = new ManualClock(new Date('2026-03-02T08:20:00.000Z'));
    const metrics = createMetrics({ clock, processMetrics: false });
    const store = createInMemoryConversationStore();
    metrics.collectOutbox(store);
    metrics.collectLive(store);
    await store.update(4711, () => ({
      conversation: makeConversationRecord(),
      comments: [
        {
          text: 'turn 1',
          visibility: 'internal',
          author: 'ticketzero',
          timestampUtc: '2026-03-02T08:15:00.000Z',
          marker: 'tz-4711-1',
        },
      ],
      result: undefined,
    }));
    let text = await metrics.render();
    expect(valueOf(text, 'ticketzero_conversations_active', { state: 'active' })).toBe(1);
    expect(valueOf(text, 'ticketzero_outbox_depth')).toBe(1);
    expect(valueOf(text, 'ticketzero_outbox_oldest_age_seconds')).toBeGreaterThanOrEqual(0);

    await store.close();
    text = await metrics.render();
    const errors = await metrics.registry.getSingleMetric('ticketzero_metrics_collector_errors_total')?.get();
    expect(errors?.values.map((v) => [v.labels['collector'], v.value])).toEqual([
      ['live', 1],
      ['outbox', 1],
    ]);
    expect(valueOf(text, 'ticketzero_outbox_depth')).toBe(1);
  });
});
