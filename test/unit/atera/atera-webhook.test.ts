import { afterEach, describe, expect, it } from 'vitest';
import { AteraClient } from '../../../src/adapters/atera/atera-client.js';
import { AteraTicketDesk } from '../../../src/adapters/atera/atera-ticket-desk.js';
import { NO_RETRY } from '../../../src/adapters/atera/retry-policy.js';
import { createInMemoryConversationStore } from '../../../src/adapters/store/in-memory-store.js';
import { createTicketWatcher } from '../../../src/engine/ticket-watcher.js';
import { findTicketId, registerAteraWebhook, secretMatches } from '../../../src/http/atera-webhook.js';
import { createHttpServer, listen, type ListeningServer } from '../../../src/http/server.js';
import { systemClock } from '../../../src/ports/clock.js';
import type { TicketFeed } from '../../../src/ports/ticket-desk.js';
import { silentLog } from '../../../src/ports/log.js';
import { startAteraSandbox, type AteraSandbox } from '../../../src/sandboxes/atera/atera-sandbox.js';
import { intakeInto } from './support/atera-test-kit.js';

const SECRET = 'a-webhook-secret-of-32-characters';

describe('the Atera webhook', () => {
  let listening: ListeningServer | null = null;
  let sandbox: AteraSandbox | null = null;
  afterEach(async () => {
    await listening?.close();
    await sandbox?.close();
    listening = null;
    sandbox = null;
  });

  async function serve(secret: string | undefined, watcher: { nudge(ticketId?: number): void }) {
    const server = createHttpServer({ log: silentLog, maxBodyBytes: 1024 * 1024 });
    registerAteraWebhook(server, { secret, watcher, log: silentLog, maxBodyBytes: 4096 });
    listening = await listen(server, { port: 0, host: '127.0.0.1' });
    return listening.url;
  }

  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('is off when no secret is configured', async () => {
    const nudges: (number | undefined)[] = [];
    const url = await serve(undefined, { nudge: (id) => nudges.push(id) });
    const res = await post(`${url}/api/atera/webhook?secret=${SECRET}`, {});
    expect(res.status).toBe(404);
    expect(nudges).toEqual([]);
  });

  it('refuses a call without the right secret with 401 and does not nudge', async () => {
    const nudges: (number | undefined)[] = [];
    const url = await serve(SECRET, { nudge: (id) => nudges.push(id) });
    expect((await post(`${url}/api/atera/webhook`, { TicketID: 5 })).status).toBe(401);
    expect((await post(`${url}/api/atera/webhook?secret=wrong`, { TicketID: 5 })).status).toBe(401);
    expect((await post(`${url}/api/atera/webhook`, {}, { 'X-TicketZero-Secret': `${SECRET}x` })).status).toBe(
      401,
    );
    expect(nudges).toEqual([]);
  });

  it('accepts the secret in the header or the query, answers 202 and nudges with the ticket id it finds', async () => {
    const nudges: (number | undefined)[] = [];
    const url = await serve(SECRET, { nudge: (id) => nudges.push(id) });
    const a = await post(
      `${url}/api/atera/webhook`,
      { data: { ticket: { ticket_id: '1042' } } },
      {
        'X-TicketZero-Secret': SECRET,
      },
    );
    const b = await post(`${url}/api/atera/webhook?secret=${encodeURIComponent(SECRET)}`, {
      Event: 'created',
    });
    const c = await post(`${url}/api/atera/webhook?secret=${encodeURIComponent(SECRET)}`, 'not json', {
      'content-type': 'text/plain',
    });
    expect([a.status, b.status, c.status]).toEqual([202, 202, 202]);
    expect(nudges).toEqual([1042, undefined, undefined]);
  });

  it('refuses a body over its limit with 413', async () => {
    const nudges: (number | undefined)[] = [];
    const url = await serve(SECRET, { nudge: (id) => nudges.push(id) });
    const res = await post(
      `${url}/api/atera/webhook`,
      { pad: 'x'.repeat(10_000) },
      { 'X-TicketZero-Secret': SECRET },
    );
    expect(res.status).toBe(413);
    expect(nudges).toEqual([]);
  });

  it('turns a burst of webhook calls into at most two polls of Atera', async () => {
    sandbox = await startAteraSandbox();
    const desk = new AteraTicketDesk(
      new AteraClient({ baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey, retry: NO_RETRY }),
      { technicianId: 9 },
    );
    const store = createInMemoryConversationStore();
    const taken: number[] = [];
    // The poll the burst starts is still running when the burst's last call is answered (Atera answers it only
    // then), so every call lands while a poll runs, however slowly this machine delivers the thirty of them.
    let burst: { answered: Promise<void>; held: boolean } | null = null;
    const feed: TicketFeed = {
      async changedSince(since) {
        if (burst && !burst.held) {
          burst.held = true;
          await burst.answered;
        }
        return desk.changedSince(since);
      },
      getTicket: (id) => desk.getTicket(id),
    };
    const watcher = createTicketWatcher({
      feed,
      store,
      clock: systemClock,
      log: silentLog,
      intake: intakeInto(store, taken),
      settings: {
        pollSeconds: 15,
        maxConcurrent: 10,
        backfillMinutes: 0,
        instanceId: 'i',
        commentVisibility: 'internal',
      },
    });
    await watcher.pollNow();
    const url = await serve(SECRET, watcher);
    sandbox.resetRequests();
    const ticket = sandbox.createTicket({
      title: 't',
      description: 'd',
      endUserEmail: 'megan.bowen@contoso.example',
    });
    let allAnswered!: () => void;
    burst = { answered: new Promise((resolve) => (allAnswered = resolve)), held: false };
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        post(`${url}/api/atera/webhook`, { hello: 1 }, { 'X-TicketZero-Secret': SECRET }),
      ),
    );
    allAnswered();
    expect(answers.every((r) => r.status === 202)).toBe(true);
    await watcher.whenIdle();
    expect(sandbox.requests.filter((r) => r.path === '/tickets/lastmodified').length).toBeLessThanOrEqual(2);
    expect(taken).toEqual([ticket.TicketID]);
  });

  it('finds ticket ids in payloads of any shape', () => {
    expect(findTicketId({ TicketID: 12 })).toBe(12);
    expect(findTicketId({ ticketId: '13' })).toBe(13);
    expect(findTicketId({ event: 'x', payload: [{ Ticket: { TicketId: 14 } }] })).toBe(14);
    expect(findTicketId({ id: 15 })).toBe(15);
    expect(findTicketId({ ticket: { id: 16 } })).toBe(16);
    expect(findTicketId({ customer: { id: 17 } })).toBeUndefined();
    expect(findTicketId({ ticket_id: 'abc' })).toBeUndefined();
    expect(findTicketId(null)).toBeUndefined();
  });

  it('compares secrets without regard to length differences', () => {
    expect(secretMatches(SECRET, SECRET)).toBe(true);
    expect(secretMatches('short', SECRET)).toBe(false);
    expect(secretMatches(undefined, SECRET)).toBe(false);
  });
});
