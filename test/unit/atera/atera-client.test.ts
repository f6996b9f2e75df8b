import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AteraClient } from '../../../src/adapters/atera/atera-client.js';
import { AteraError, AteraInsecureUrlError } from '../../../src/adapters/atera/atera-error.js';
import { NO_RETRY, type RetrySettings } from '../../../src/adapters/atera/retry-policy.js';
import { startAteraSandbox, type AteraSandbox } from '../../../src/sandboxes/atera/atera-sandbox.js';

const FAST_RETRY: RetrySettings = { maxRetries: 3, budgetMs: 10_000, baseDelayMs: 5, maxDelayMs: 20 };

describe('the Atera client', () => {
  let sandbox: AteraSandbox;
  let client: AteraClient;

  beforeAll(async () => {
    sandbox = await startAteraSandbox({ apiKey: 'client-test-key-123456' });
    client = new AteraClient({ baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey, retry: FAST_RETRY });
  });
  afterEach(() => {
    sandbox.faults.clear();
    sandbox.resetRequests();
  });
  afterAll(() => sandbox.close());

  it('reads every page of a list longer than one page', async () => {
    for (let i = 0; i < 55; i++) {
      sandbox.createTicket({
        title: `Bulk ${i}`,
        description: 'x',
        endUserEmail: 'megan.bowen@contoso.example',
      });
    }
    const since = new Date(Date.now() - 60_000).toISOString();
    const { tickets } = await client.listTicketsModifiedSince(since);
    expect(tickets.length).toBeGreaterThanOrEqual(55);
    expect(new Set(tickets.map((t) => t.TicketID)).size).toBe(tickets.length);
    const pages = sandbox.requests.filter((r) => r.path === '/tickets/lastmodified');
    expect(pages).toHaveLength(2);
    expect(pages[0]!.query).toContain('itemsInPage=50');
  });

  it('tells Atera’s clock (its Date header) with the modified tickets, not this host’s', async () => {
    sandbox.setClockOffsetMs(-5 * 60_000);
    try {
      const { serverTime } = await client.listTicketsModifiedSince(new Date().toISOString());
      const ateraNow = sandbox.now().getTime();
      expect(Date.parse(serverTime!)).toBeLessThanOrEqual(ateraNow);
      expect(Date.parse(serverTime!)).toBeGreaterThan(ateraNow - 2_000);
    } finally {
      sandbox.setClockOffsetMs(0);
    }
  });

  it('sends the API key and a User-Agent', async () => {
    const ticket = await client.getTicket(1001);
    expect(ticket.TicketTitle).toBe('Outlook keeps asking for my password');
    expect(sandbox.requests).toEqual([
      expect.objectContaining({ method: 'GET', path: '/tickets/1001', query: '', status: 200 }),
    ]);
  });

  it('honours Retry-After on a 429', async () => {
    sandbox.faults.inject({ kind: '429', retryAfterSeconds: 1, match: { path: '/tickets/1002' } });
    const started = Date.now();
    const ticket = await client.getTicket(1002);
    expect(ticket.TicketID).toBe(1002);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(sandbox.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('gives up on a 429 whose Retry-After is beyond its time budget', async () => {
    const tight = new AteraClient({
      baseUrl: sandbox.baseUrl,
      apiKey: sandbox.apiKey,
      retry: { ...FAST_RETRY, budgetMs: 500 },
    });
    sandbox.faults.inject({ kind: '429', retryAfterSeconds: 30 });
    const error = await tight.getTicket(1002).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AteraError);
    expect((error as AteraError).status).toBe(429);
    expect((error as AteraError).retryAfterMs).toBe(30_000);
    expect(sandbox.requests).toHaveLength(1);
  });

  it('retries a 500 and a 503, and a dropped connection, on a read', async () => {
    sandbox.faults.inject({ kind: '500', match: { path: '/tickets/1003' } });
    sandbox.faults.inject({ kind: '503', match: { path: '/tickets/1003' } });
    sandbox.faults.inject({ kind: 'drop', match: { path: '/tickets/1003' } });
    const ticket = await client.getTicket(1003);
    expect(ticket.TicketID).toBe(1003);
    expect(sandbox.requests.map((r) => r.status)).toEqual([500, 503, 0, 200]);
  });

  it('stops after its retry count', async () => {
    sandbox.faults.inject({ kind: '500', times: 10 });
    const error = await client.getTicket(1003).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 500, endpoint: 'GET /tickets/1003', retryable: true });
    expect(sandbox.requests).toHaveLength(1 + FAST_RETRY.maxRetries);
  });

  it('does not retry a 4xx other than 429', async () => {
    const error = await client.getTicket(999_999).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, retryable: false });
    expect(sandbox.requests).toHaveLength(1);
  });

  it('does not repeat a comment POST that failed with a 500 (it may have been stored)', async () => {
    sandbox.faults.inject({ kind: '500', match: { method: 'POST' } });
    const error = await client
      .addComment(1001, {
        CommentText: 'hi',
        TechnicianCommentDetails: { TechnicianId: 9, IsInternal: true },
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 500, endpoint: 'POST /tickets/1001/comments' });
    expect(sandbox.requests).toHaveLength(1);
  });

  it('repeats a comment POST refused with a 429 (never processed)', async () => {
    sandbox.faults.inject({ kind: '429', retryAfterSeconds: 0, match: { method: 'POST' } });
    await client.addComment(1001, {
      CommentText: 'after 429',
      TechnicianCommentDetails: { TechnicianId: 9, IsInternal: true },
    });
    expect(sandbox.requests.map((r) => r.status)).toEqual([429, 201]);
    expect(sandbox.comments(1001).filter((c) => c.Comment === 'after 429')).toHaveLength(1);
  });

  it('reports a refused API key clearly, with status and endpoint and without the key', async () => {
    const wrongKey = 'wrong-key-that-must-not-leak-42';
    const bad = new AteraClient({ baseUrl: sandbox.baseUrl, apiKey: wrongKey, retry: FAST_RETRY });
    const error = await bad.listTickets().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AteraError);
    const atera = error as AteraError;
    expect(atera.status).toBe(401);
    expect(atera.endpoint).toBe('GET /tickets');
    expect(atera.message).toBe(
      'Atera GET /tickets answered 401: the API key was refused (check ATERA_API_KEY)',
    );
    expect(inspect(atera, { depth: 20 })).not.toContain(wrongKey);
    expect(JSON.stringify(atera.cause)).not.toContain(wrongKey);
    expect(sandbox.requests).toHaveLength(1);
  });

  it('refuses plain http to a host that is not loopback', () => {
    expect(
      () => new AteraClient({ baseUrl: 'http://atera.example/api/v3', apiKey: 'k', retry: NO_RETRY }),
    ).toThrow(AteraInsecureUrlError);
    expect(
      () => new AteraClient({ baseUrl: 'https://app.atera.com/api/v3', apiKey: 'k', retry: NO_RETRY }),
    ).not.toThrow();
    expect(
      () => new AteraClient({ baseUrl: 'http://[::1]:8080/api/v3', apiKey: 'k', retry: NO_RETRY }),
    ).not.toThrow();
  });

  it('finds contacts by e-mail and the agents of a customer', async () => {
    const contacts = await client.findContactsByEmail('isabelle.dubois@tailspin.example');
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({ Firstname: 'Isabelle', Lastname: 'Dubois', CustomerID: 103 });
    const agents = await client.listAgents(101);
    expect(agents.map((a) => a.MachineName).sort()).toEqual([
      'CONTOSO-LT-LS02',
      'CONTOSO-LT-MB01',
      'CONTOSO-SRV-FS01',
    ]);
    expect((await client.listCustomers()).map((c) => c.CustomerID)).toEqual([101, 102, 103, 104]);
  });
});
