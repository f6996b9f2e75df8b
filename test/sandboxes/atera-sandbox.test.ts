import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAteraSandbox, type AteraSandbox } from '../../src/sandboxes/atera/atera-sandbox.js';

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

describe('the Atera sandbox with a clock of its own', () => {
  const FIVE_MINUTES = 5 * 60_000;
  let sandbox: AteraSandbox;
  const get = (path: string) =>
    fetch(`${sandbox.baseUrl}${path}`, { headers: { 'X-API-KEY': sandbox.apiKey } });
  const json = async (path: string) => (await (await get(path)).json()) as Record<string, unknown>;
  const ids = async (query: string) =>
    ((await json(`/tickets/lastmodified?${query}`)).items as { TicketID: number }[]).map((t) => t.TicketID);
  const near = (value: unknown, expectedMs: number, toleranceMs = 2_000) => {
    const ms = Date.parse(String(value));
    expect(
      Math.abs(ms - expectedMs),
      `${String(value)} vs ${new Date(expectedMs).toISOString()}`,
    ).toBeLessThan(toleranceMs);
  };

  afterEach(() => sandbox.close());

  it('stamps created times, its HTTP Date header and the seed’s ages by its clock, five minutes ahead of this host', async () => {
    sandbox = await startAteraSandbox({ clockOffsetMs: FIVE_MINUTES });
    const created = sandbox.createTicket({
      title: 'VPN',
      description: 'down',
      endUserEmail: 'x@contoso.example',
    });
    near(created.TicketCreatedDate, Date.now() + FIVE_MINUTES);
    expect(String(created.TicketCreatedDate)).toMatch(/\.\d{7}Z$/);
    near((await get('/tickets')).headers.get('date'), Date.now() + FIVE_MINUTES);
    // Seeded ticket 1009 came in 20 minutes before the sandbox started, by Atera's clock.
    near((await json('/tickets/1009')).TicketCreatedDate, Date.now() + FIVE_MINUTES - 20 * 60_000);
    expect(sandbox.now().getTime() - Date.now()).toBeGreaterThan(FIVE_MINUTES - 1_000);
  });

  it('evaluates /tickets/lastmodified by its clock: a host five minutes ahead that asks for "the last minute" by its own clock gets nothing', async () => {
    sandbox = await startAteraSandbox({ seed: false, clockOffsetMs: -FIVE_MINUTES });
    const ticket = sandbox.createTicket({
      title: 'Printer',
      description: 'jam',
      endUserEmail: 'x@contoso.example',
    });
    const hostMinuteAgo = new Date(Date.now() - 60_000).toISOString();
    const ateraMinuteAgo = new Date(sandbox.now().getTime() - 60_000).toISOString();
    expect(await ids(`date=${encodeURIComponent(hostMinuteAgo)}`)).toEqual([]);
    expect(await ids(`date=${encodeURIComponent(ateraMinuteAgo)}`)).toEqual([ticket.TicketID]);
    // Atera's own date format is accepted back: 7 fractional digits, and no zone (read as UTC).
    const seven = new Date(sandbox.now().getTime() - 60_000).toISOString().replace('Z', '1234Z');
    expect(await ids(`date=${encodeURIComponent(seven)}`)).toEqual([ticket.TicketID]);
    expect(await ids(`date=${encodeURIComponent(seven.replace('Z', ''))}`)).toEqual([ticket.TicketID]);
    expect((await get('/tickets/lastmodified?date=yesterday')).status).toBe(400);
  });

  it('keeps a comment’s CommentTimestampUTC (the caller’s clock) while the ticket’s modified time is its own', async () => {
    sandbox = await startAteraSandbox({ seed: false, clockOffsetMs: -FIVE_MINUTES });
    const ticket = sandbox.createTicket({
      title: 'Mail',
      description: 'slow',
      endUserEmail: 'x@contoso.example',
    });
    const hostNow = new Date().toISOString();
    const res = await fetch(`${sandbox.baseUrl}/tickets/${ticket.TicketID}/comments`, {
      method: 'POST',
      headers: { 'X-API-KEY': sandbox.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({
        CommentText: 'Hello',
        CommentTimestampUTC: hostNow,
        TechnicianCommentDetails: { TechnicianId: 9, IsInternal: false },
      }),
    });
    expect(res.status).toBe(201);
    near(sandbox.comments(ticket.TicketID)[0]!.Date, Date.parse(hostNow), 5);
    near(sandbox.getTicket(ticket.TicketID)!.LastTechnicianCommentTimestamp, Date.parse(hostNow), 5);
    // Modified by Atera's clock: a query from Atera's "a minute ago" finds it, one from the comment's time does not.
    const ateraMinuteAgo = new Date(sandbox.now().getTime() - 60_000).toISOString();
    expect(await ids(`date=${encodeURIComponent(ateraMinuteAgo)}`)).toEqual([ticket.TicketID]);
    expect(await ids(`date=${encodeURIComponent(hostNow)}`)).toEqual([]);
  });

  it('backdates a ticket on request and moves its clock in code or over its control route', async () => {
    sandbox = await startAteraSandbox({ seed: false });
    const old = sandbox.createTicket({ title: 'a', description: 'b', createdSecondsAgo: 120 });
    near(old.TicketCreatedDate, Date.now() - 120_000);

    sandbox.setClockOffsetMs(FIVE_MINUTES);
    expect(sandbox.clockOffsetMs).toBe(FIVE_MINUTES);
    near(sandbox.createTicket({ title: 'c', description: 'd' }).TicketCreatedDate, Date.now() + FIVE_MINUTES);

    const origin = sandbox.baseUrl.replace(/\/api\/v3$/, '');
    const put = await fetch(`${origin}/_sandbox/clock`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offsetSeconds: -300 }),
    });
    expect(put.status).toBe(200);
    const clock = (await (await fetch(`${origin}/_sandbox/clock`)).json()) as {
      now: string;
      offsetSeconds: number;
    };
    expect(clock.offsetSeconds).toBe(-300);
    near(clock.now, Date.now() - FIVE_MINUTES);
    near((await get('/tickets')).headers.get('date'), Date.now() - FIVE_MINUTES);
    expect(() => sandbox.setClockOffsetMs(Number.NaN)).toThrow(RangeError);
  });
});

describe('the Atera sandbox kept in a state file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atera-sandbox-state-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds its tickets and comments across a restart, and numbers new tickets after them, as Atera does', async () => {
    const stateFile = join(dir, 'kept.json');
    const first = await startAteraSandbox({ stateFile });
    const ticket = first.createTicket({
      title: 'VPN drops',
      description: 'every hour',
      endUserEmail: 'new.person@contoso.example',
    });
    first.addTechnicianReply(ticket.TicketID, { text: 'Looking into it' });
    // Written over the API too (a status change).
    const put = await fetch(`${first.baseUrl}/tickets/${ticket.TicketID}`, {
      method: 'PUT',
      headers: { 'X-API-KEY': first.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ TicketStatus: 'Pending' }),
    });
    expect(put.status).toBe(200);
    await first.close();

    const second = await startAteraSandbox({ stateFile });
    try {
      expect(second.getTicket(ticket.TicketID)).toMatchObject({
        TicketTitle: 'VPN drops',
        TicketStatus: 'Pending',
      });
      expect(second.comments(ticket.TicketID).map((c) => c.Comment)).toEqual([
        expect.stringContaining('Looking into it'),
      ]);
      const next = second.createTicket({
        title: 'Printer',
        description: 'jams',
        endUserEmail: 'new.person@contoso.example',
      });
      expect(next.TicketID).toBe(ticket.TicketID + 1);
      expect(next.EndUserID).toBe(ticket.EndUserID);
    } finally {
      await second.close();
    }
  });

  it('refuses a state file it cannot read, naming it, rather than starting an empty account', async () => {
    const stateFile = join(dir, 'broken.json');
    writeFileSync(stateFile, '{"version":1,"tick');
    await expect(startAteraSandbox({ stateFile })).rejects.toThrow(
      /cannot read its kept data in .*broken\.json/,
    );
  });
});
