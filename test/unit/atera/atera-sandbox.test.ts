import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAteraSandbox, type AteraSandbox } from '../../../src/sandboxes/atera/atera-sandbox.js';

describe('the Atera sandbox', () => {
  let sandbox: AteraSandbox;
  const get = (path: string, key: string | null = sandbox.apiKey) =>
    fetch(`${sandbox.baseUrl}${path}`, { headers: key ? { 'X-API-KEY': key } : {} });

  beforeAll(async () => {
    sandbox = await startAteraSandbox({ apiKey: 'sandbox-spec-key-1' });
  });
  afterAll(() => sandbox.close());

  it('answers 401 without the X-API-KEY header or with a wrong one', async () => {
    expect((await get('/tickets', null)).status).toBe(401);
    expect((await get('/tickets', 'nope')).status).toBe(401);
  });

  it('pages lists in Atera’s envelope, at most 50 items a page', async () => {
    const body = (await (await get('/tickets?page=1&itemsInPage=500')).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ page: 1, itemsInPage: 50, totalItemCount: 10, totalPages: 1, prevLink: '' });
    const small = (await (await get('/tickets?page=2&itemsInPage=3')).json()) as Record<string, unknown>;
    expect(small).toMatchObject({ page: 2, itemsInPage: 3, totalPages: 4 });
    expect(String(small.nextLink)).toContain('page=3');
  });

  it('reproduces the live API’s quirks: numeric enums, 7 fractional digits, empty e-mails', async () => {
    const t = (await (await get('/tickets/1004')).json()) as Record<string, unknown>;
    expect(t).toMatchObject({ TicketPriority: 3, TicketImpact: 11, TicketType: 1 });
    expect(String(t.TicketCreatedDate)).toMatch(/\.\d{7}Z$/);
    expect(((await (await get('/tickets/1006')).json()) as Record<string, unknown>).EndUserEmail).toBe('');
  });

  it('answers a comment without author details with 404 "Invalid input", as Atera does', async () => {
    const res = await fetch(`${sandbox.baseUrl}/tickets/1001/comments`, {
      method: 'POST',
      headers: { 'X-API-KEY': sandbox.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ CommentText: 'hi' }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ Message: 'Invalid input' });
  });

  it('creates tickets with 201 and an ActionID string, linking a known end user', async () => {
    const res = await fetch(`${sandbox.baseUrl}/tickets`, {
      method: 'POST',
      headers: { 'X-API-KEY': sandbox.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({
        TicketTitle: 'VPN',
        Description: 'down',
        EndUserEmail: 'adele.vance@fabrikam.example',
      }),
    });
    expect(res.status).toBe(201);
    const { ActionID } = (await res.json()) as { ActionID: string };
    expect(typeof ActionID).toBe('string');
    expect(sandbox.getTicket(Number(ActionID))).toMatchObject({
      EndUserID: 511,
      CustomerID: 102,
      TicketStatus: 'Open',
    });
  });

  it('finds contacts by e-mail and serves customers and agents', async () => {
    const contacts = (await (
      await get('/contacts?searchOptions.email=megan.bowen%40contoso.example')
    ).json()) as {
      items: Record<string, unknown>[];
    };
    expect(contacts.items).toEqual([
      expect.objectContaining({ EndUserID: 501, Firstname: 'Megan', Lastname: 'Bowen' }),
    ]);
    expect(((await (await get('/customers')).json()) as { items: unknown[] }).items).toHaveLength(4);
    const agents = (await (await get('/agents/customer/102')).json()) as { items: Record<string, unknown>[] };
    expect(agents.items.map((a) => a.MachineName)).toEqual(['FAB-DT-AV01']);
  });

  it('counts requests and drops a connection on demand', async () => {
    sandbox.resetRequests();
    sandbox.faults.inject({ kind: 'drop', match: { method: 'GET', path: /^\/customers$/ } });
    await expect(get('/customers')).rejects.toThrow();
    expect((await get('/customers')).status).toBe(200);
    expect(sandbox.requests.map((r) => r.status)).toEqual([0, 200]);
  });
});
