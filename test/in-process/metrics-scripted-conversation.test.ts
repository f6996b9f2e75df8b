/**
 * /metrics while conversations run: the real ticket watcher, engine, comment outbox, Atera client (against the Atera
 * sandbox) and provider chain (against the model sandbox), with the metrics observer, the Atera response hook and the
 * Graph lookup decorator wired as the composition root wires them; /metrics is scraped over HTTP after each step.
 * Teams is the in-memory chat here (its own e2e suite covers the connector).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAICompatibleProvider } from '../../src/adapters/ai/openai-compatible-provider.js';
import { createProviderChain, type ProviderChain } from '../../src/adapters/ai/provider-chain.js';
import { AteraClient } from '../../src/adapters/atera/atera-client.js';
import { AteraTicketDesk } from '../../src/adapters/atera/atera-ticket-desk.js';
import { NO_RETRY } from '../../src/adapters/atera/retry-policy.js';
import { createInMemoryConversationStore } from '../../src/adapters/store/in-memory-store.js';
import { createCommentOutbox, type CommentOutbox } from '../../src/engine/comment-outbox.js';
import { createConversationEngine, type ConversationEngine } from '../../src/engine/conversation-engine.js';
import { createTicketWatcher, type TicketWatcher } from '../../src/engine/ticket-watcher.js';
import { createHttpServer, listen, type ListeningServer } from '../../src/http/server.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { registerOpsRoutes } from '../../src/ops/ops-routes.js';
import { createReadinessChecks } from '../../src/ops/readiness.js';
import { systemClock } from '../../src/ports/clock.js';
import type { ConversationStore } from '../../src/ports/conversation-store.js';
import { silentLog } from '../../src/ports/log.js';
import { startAteraSandbox, type AteraSandbox } from '../../src/sandboxes/atera/atera-sandbox.js';
import { startModelSandbox, type ModelSandbox } from '../../src/sandboxes/model/model-sandbox.js';
import {
  InMemoryChat,
  InMemoryTechnicianChannel,
  InMemoryTechnicians,
  InMemoryUserDirectory,
  SingleTenantDirectory,
  makeUser,
} from '../support/in-memory-ports.js';
import { defaultSettings } from '../unit/engine/engine-harness.js';
import { valueOf } from '../unit/ops/support/prometheus-text.js';

const METRICS_TOKEN = 'metrics-token-for-the-e2e-test';

let atera: AteraSandbox;
let modelServer: ModelSandbox;
let http: ListeningServer;
let store: ConversationStore;
let engine: ConversationEngine;
let watcher: TicketWatcher;
let outbox: CommentOutbox;
let chain: ProviderChain;
let chat: InMemoryChat;

beforeAll(async () => {
  atera = await startAteraSandbox({ seed: false });
  modelServer = await startModelSandbox();
  const metrics = createMetrics({ processMetrics: false });
  store = createInMemoryConversationStore();
  const client = new AteraClient({
    baseUrl: atera.baseUrl,
    apiKey: atera.apiKey,
    retry: NO_RETRY,
    onResponse: metrics.onAteraResponse,
  });
  const desk = new AteraTicketDesk(client, { technicianEmail: 'ticketzero@msp.example' });
  const directory = new InMemoryUserDirectory();
  directory.add('megan.bowen@contoso.example', { status: 'found', user: makeUser() });
  directory.add('adele.vance@contoso.example', {
    status: 'found',
    user: makeUser({ id: 'aad-adele', displayName: 'Adele Vance', mail: 'adele.vance@contoso.example' }),
  });
  chain = createProviderChain({
    providers: [
      createOpenAICompatibleProvider({
        name: 'local',
        baseUrl: modelServer.baseUrl,
        apiKey: 'lm-studio',
        model: 'phi-3-mini',
        firstTokenTimeoutMs: 2000,
        totalTimeoutMs: 5000,
        temperature: 0.2,
        log: silentLog,
      }),
    ],
    breakerFailures: 3,
    breakerCooldownMs: 60_000,
    log: silentLog,
  });
  metrics.collectProviders(
    () => chain.stats(),
    (name) => chain.isOpen(name),
  );
  metrics.collectOutbox(store);
  metrics.collectLive(store);

  chat = new InMemoryChat();
  const technicians = new InMemoryTechnicians();
  engine = createConversationEngine({
    desk,
    directory: metrics.instrumentDirectory(directory),
    tenants: new SingleTenantDirectory(),
    chat,
    technicians: new InMemoryTechnicianChannel(),
    authority: technicians,
    technicianDirectory: technicians,
    model: chain,
    store,
    clock: systemClock,
    log: silentLog,
    settings: defaultSettings,
    observer: metrics.observer,
  });
  watcher = createTicketWatcher({
    feed: desk,
    store,
    clock: systemClock,
    log: silentLog,
    intake: (ticket) => engine.startTicket(ticket),
    observer: metrics.observer,
    settings: {
      pollSeconds: 60,
      maxConcurrent: 2,
      backfillMinutes: 60,
      instanceId: 'e2e',
      commentVisibility: 'internal',
    },
  });
  outbox = createCommentOutbox({
    store,
    desk,
    clock: systemClock,
    log: silentLog,
    settings: {
      intervalMs: 60_000,
      batchSize: 50,
      leaseMs: 60_000,
      baseBackoffMs: 1000,
      maxBackoffMs: 60_000,
    },
  });

  const server = createHttpServer({ log: silentLog, maxBodyBytes: 64 * 1024 });
  registerOpsRoutes(server, {
    metrics,
    store,
    readiness: createReadinessChecks({
      store,
      ateraLastOk: metrics.ateraLastOk,
      providersAllOpen: () => chain.allOpen(),
      clock: systemClock,
      ateraStaleMs: 120_000,
    }),
    metricsToken: METRICS_TOKEN,
    exposedBeyondLoopback: false,
    minutesSavedPerTicket: 15,
    maxRounds: defaultSettings.maxRounds,
    clock: systemClock,
    log: silentLog,
  });
  http = await listen(server, { port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await watcher?.stop();
  await http?.close();
  await atera?.close();
  await modelServer?.close();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${http.url}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

async function say(userId: string, text: string): Promise<void> {
  await engine.onUserMessage({
    conversationId: `a:chat-${userId}`,
    activityId: `act-${userId}-${Math.random().toString(36).slice(2)}`,
    userId,
    tenantId: '11111111-1111-4111-8111-111111111111',
    text,
    attachmentCount: 0,
    receivedAt: new Date().toISOString(),
  });
  // The answer (or the ending) follows the recorded message in the background.
  await engine.idle();
}

async function ticketIdOf(email: string): Promise<number> {
  const live = await store.listLive();
  const record = live.find((r) => r.ticket.endUser.email === email);
  if (!record) throw new Error(`no live conversation for ${email}`);
  return record.ticketId;
}

describe('the metrics of a scripted conversation, scraped over HTTP', () => {
  it('starts at zero before any ticket arrives', async () => {
    const text = await scrape();
    expect(valueOf(text, 'ticketzero_tickets_seen_total')).toBe(0);
    expect(valueOf(text, 'ticketzero_conversations_active')).toBe(0);
    expect(valueOf(text, 'ticketzero_outbox_depth')).toBe(0);
    expect(text).not.toMatch(/^process_cpu/m);
  });

  it('counts tickets seen, taken and skipped by reason when the watcher finds new Atera tickets', async () => {
    atera.createTicket({
      title: 'Outlook shows no new mail',
      description: 'Since this morning Outlook shows no new mail, colleagues say they sent me some.',
      endUserEmail: 'megan.bowen@contoso.example',
      endUserFirstName: 'Megan',
      endUserLastName: 'Bowen',
    });
    atera.createTicket({ title: 'Printer jammed', description: 'The third floor printer is jammed.' });
    await watcher.pollNow();
    await watcher.whenIdle();

    const text = await scrape();
    expect(valueOf(text, 'ticketzero_tickets_seen_total')).toBe(2);
    expect(valueOf(text, 'ticketzero_tickets_taken_total')).toBe(1);
    expect(valueOf(text, 'ticketzero_tickets_skipped_total', { reason: 'no_end_user_email' })).toBe(1);
    expect(valueOf(text, 'ticketzero_conversations_active', { state: 'active' })).toBe(1);
    expect(valueOf(text, 'ticketzero_graph_lookups_total', { kind: 'user', result: 'found' })).toBe(1);
    // The opening answer is the first turn: model time and our overhead are both observed once.
    expect(valueOf(text, 'ticketzero_turn_seconds_count', { part: 'model' })).toBe(1);
    expect(valueOf(text, 'ticketzero_turn_seconds_count', { part: 'overhead' })).toBe(1);
    expect(valueOf(text, 'ticketzero_provider_calls_total', { provider: 'local' })).toBe(1);
    expect(valueOf(text, 'ticketzero_provider_tokens_total', { provider: 'local' })).toBeGreaterThan(0);
    expect(valueOf(text, 'ticketzero_provider_circuit_open', { provider: 'local' })).toBe(0);
    expect(
      valueOf(text, 'ticketzero_atera_requests_total', {
        method: 'GET',
        endpoint: '/tickets/lastmodified',
        status: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
    // The turns and the skip note are queued for Atera, not delivered yet.
    expect(valueOf(text, 'ticketzero_outbox_depth')).toBeGreaterThan(0);
  });

  it('shows the outbox drained and the comment posts counted once the outbox delivers', async () => {
    const commentPosts = () =>
      atera.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/comments') && r.status === 201)
        .length;
    const postsBefore = commentPosts();
    const delivered = await outbox.drain();
    expect(delivered).toBeGreaterThan(0);
    // Queued comments of one ticket are folded: one POST can deliver several.
    const posts = commentPosts() - postsBefore;
    expect(posts).toBeGreaterThan(0);
    expect(posts).toBeLessThanOrEqual(delivered);
    const text = await scrape();
    expect(valueOf(text, 'ticketzero_outbox_depth')).toBe(0);
    expect(valueOf(text, 'ticketzero_outbox_oldest_age_seconds')).toBe(0);
    expect(
      valueOf(text, 'ticketzero_atera_requests_total', {
        method: 'POST',
        endpoint: '/tickets/{id}/comments',
        status: '201',
      }),
    ).toBe(postsBefore + posts);
  });

  it('counts each answered turn and records the rounds and outcome when the user confirms the fix', async () => {
    const ticketId = await ticketIdOf('megan.bowen@contoso.example');
    await say('aad-megan', 'I restarted Outlook but still no new mail');
    let text = await scrape();
    expect(valueOf(text, 'ticketzero_turn_seconds_count', { part: 'model' })).toBe(2);
    expect(valueOf(text, 'ticketzero_turns_answered_total', { provider: 'local' })).toBe(2);

    await say('aad-megan', 'ok, it works now');
    expect((await store.getConversation(ticketId))?.state).toBe('awaiting_confirmation');
    text = await scrape();
    expect(valueOf(text, 'ticketzero_conversations_active', { state: 'awaiting_confirmation' })).toBe(1);

    await say('aad-megan', 'yes');
    const record = await store.getConversation(ticketId);
    expect(record?.state).toBe('resolved');
    text = await scrape();
    expect(valueOf(text, 'ticketzero_conversations_active')).toBe(0);
    expect(valueOf(text, 'ticketzero_conversation_outcomes_total', { outcome: 'resolved' })).toBe(1);
    expect(valueOf(text, 'ticketzero_conversation_rounds_count', { outcome: 'resolved' })).toBe(1);
    expect(valueOf(text, 'ticketzero_conversation_rounds_sum', { outcome: 'resolved' })).toBe(record?.rounds);
    // "it works now" asked the confirmation without a model call: the first answer and one round.
    expect(valueOf(text, 'ticketzero_provider_calls_total', { provider: 'local' })).toBe(2);
  });

  it('records an escalation by its reason when the user asks for a technician', async () => {
    atera.createTicket({
      title: 'VPN does not connect',
      description: 'FortiClient VPN fails with a timeout.',
      endUserEmail: 'adele.vance@contoso.example',
      endUserFirstName: 'Adele',
      endUserLastName: 'Vance',
    });
    await watcher.pollNow();
    await watcher.whenIdle();
    await say('aad-adele', 'Please let a technician call me');
    const text = await scrape();
    expect(valueOf(text, 'ticketzero_tickets_taken_total')).toBe(2);
    expect(
      valueOf(text, 'ticketzero_conversation_outcomes_total', {
        outcome: 'escalated',
        reason: 'user_asked',
      }),
    ).toBe(1);
    expect(valueOf(text, 'ticketzero_conversation_rounds_count')).toBe(2);
  });

  it('refuses a scrape without the metrics token', async () => {
    const anonymous = await fetch(`${http.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await fetch(`${http.url}/metrics`, {
      headers: { authorization: 'Bearer not-the-token-at-all' },
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toMatch(/ticketzero_tickets_seen_total/);
  });

  it('is ready while Atera answers, the store reads and the provider circuit is closed', async () => {
    const response = await fetch(`${http.url}/readyz`);
    const body = (await response.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(response.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(Object.values(body.checks).every((c) => c.ok)).toBe(true);
    expect(chat.sent.length).toBeGreaterThan(0);
  });
});
