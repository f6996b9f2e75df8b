import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AteraClient } from '../../../src/adapters/atera/atera-client.js';
import { AteraError } from '../../../src/adapters/atera/atera-error.js';
import { NO_RETRY } from '../../../src/adapters/atera/retry-policy.js';
import { GraphError } from '../../../src/adapters/graph/graph-error.js';
import { createGraphGateway } from '../../../src/adapters/graph/graph-gateway.js';
import { createGraphUserDirectory } from '../../../src/adapters/graph/graph-user-directory.js';
import { createInMemoryConversationStore } from '../../../src/adapters/store/in-memory-store.js';
import type { CircuitReport } from '../../../src/adapters/resilience/outside-system-policy.js';
import { loadTenantMap } from '../../../src/config/tenant-map.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { createReadinessChecks } from '../../../src/ops/readiness.js';
import { silentLog } from '../../../src/ports/log.js';
import { startAteraSandbox, type AteraSandbox } from '../../../src/sandboxes/atera/atera-sandbox.js';
import { startGraphSandbox, type GraphSandbox } from '../../../src/sandboxes/graph/graph-sandbox.js';
import {
  SANDBOX_TENANTS_FILE,
  sandboxGraphSettings,
  sandboxTenantsEnv,
} from '../../fixtures/graph/sandbox-tenants.js';
import { ManualClock } from '../../support/in-memory-ports.js';

const BREAKER = { failures: 3, halfOpenAfterMs: 60_000 };

function readinessOver(circuits: () => CircuitReport[]) {
  const clock = new ManualClock();
  return createReadinessChecks({
    store: createInMemoryConversationStore(),
    ateraLastOk: () => clock.now().getTime(),
    providersAllOpen: () => false,
    ateraStaleMs: 120_000,
    clock,
    circuits,
  });
}

async function circuitGauge(circuits: () => CircuitReport[]): Promise<string[]> {
  const metrics = createMetrics({ processMetrics: false });
  metrics.collectCircuits(circuits);
  return (await metrics.render()).split('\n').filter((line) => line.startsWith('ticketzero_circuit_open{'));
}

describe('Atera’s circuit breaker', () => {
  let sandbox: AteraSandbox;
  beforeAll(async () => {
    sandbox = await startAteraSandbox({ apiKey: 'circuit-test-key-123456' });
  });
  afterAll(() => sandbox.close());

  it('opens after N failed requests in a row, then refuses without calling Atera, and readiness says so', async () => {
    const client = new AteraClient({
      baseUrl: sandbox.baseUrl,
      apiKey: sandbox.apiKey,
      retry: NO_RETRY,
      breaker: BREAKER,
    });
    const readiness = readinessOver(() => [client.circuit()]);
    expect((await readiness.run()).checks.atera.ok).toBe(true);

    sandbox.resetRequests();
    sandbox.faults.inject({ kind: '503', times: 10 });
    for (let i = 0; i < BREAKER.failures; i++) {
      await expect(client.getTicket(1001)).rejects.toMatchObject({ status: 503 });
    }
    const refused = await client.getTicket(1001).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AteraError);
    expect(refused).toMatchObject({ status: undefined, retryable: true, endpoint: 'GET /tickets/1001' });
    expect(sandbox.requests).toHaveLength(BREAKER.failures);

    const report = await readiness.run();
    expect(report.ready).toBe(false);
    expect(report.checks.atera).toEqual({
      ok: false,
      detail: 'circuit open: calls refused after repeated failures (cooling down)',
    });
    expect(await circuitGauge(() => [client.circuit()])).toEqual([
      'ticketzero_circuit_open{system="atera"} 1',
    ]);
    sandbox.faults.clear();
  });

  it('does not open on answers that are not failures of Atera (404)', async () => {
    const client = new AteraClient({
      baseUrl: sandbox.baseUrl,
      apiKey: sandbox.apiKey,
      retry: NO_RETRY,
      breaker: BREAKER,
    });
    for (let i = 0; i < BREAKER.failures + 1; i++) {
      await expect(client.getTicket(999_999)).rejects.toMatchObject({ status: 404 });
    }
    expect(client.circuit().refusing).toBe(false);
  });
});

describe('Graph’s circuit breaker', () => {
  let sandbox: GraphSandbox;
  beforeAll(async () => {
    sandbox = await startGraphSandbox();
  });
  afterAll(() => sandbox.close());

  it('opens after N failed calls in a row, then refuses without calling Graph, and readiness says so', async () => {
    const tenants = loadTenantMap({ tenantsFile: SANDBOX_TENANTS_FILE }, {}, sandboxTenantsEnv(sandbox));
    const contoso = tenants.tenantForCustomer(101)!;
    const gateway = createGraphGateway({
      credentials: tenants,
      ...sandboxGraphSettings(sandbox),
      maxAttempts: 1,
      breaker: BREAKER,
      log: silentLog,
    });
    const directory = createGraphUserDirectory({
      tenants,
      graph: sandboxGraphSettings(sandbox),
      log: silentLog,
      gateway,
    });
    const readiness = readinessOver(() => [gateway.circuit()]);
    expect((await readiness.run()).checks['graph']).toEqual({ ok: true, detail: 'circuit closed' });

    sandbox.faults.inject({ kind: '503', match: { path: '/v1.0/users' }, times: 10 });
    for (let i = 0; i < BREAKER.failures; i++) {
      await expect(directory.findByEmail(contoso, 'megan.bowen@contoso.example')).rejects.toMatchObject({
        status: 503,
      });
    }
    const from = sandbox.requests.length;
    const refused = await directory
      .findByEmail(contoso, 'megan.bowen@contoso.example')
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GraphError);
    expect(refused).toMatchObject({ status: null, path: '/users' });
    expect(sandbox.requests.slice(from).filter((r) => r.path === '/v1.0/users')).toEqual([]);

    const report = await readiness.run();
    expect(report.ready).toBe(false);
    expect(report.checks['graph']).toEqual({
      ok: false,
      detail: 'circuit open: calls refused after repeated failures (cooling down)',
    });
    expect(await circuitGauge(() => [gateway.circuit()])).toEqual([
      'ticketzero_circuit_open{system="graph"} 1',
    ]);
    sandbox.faults.clear();
  });
});
