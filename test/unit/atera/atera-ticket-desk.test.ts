import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AteraClient } from '../../../src/adapters/atera/atera-client.js';
import { AteraTicketDesk, markerLine } from '../../../src/adapters/atera/atera-ticket-desk.js';
import { NO_RETRY } from '../../../src/adapters/atera/retry-policy.js';
import { NotFoundError } from '../../../src/errors.js';
import { startAteraSandbox, type AteraSandbox } from '../../../src/sandboxes/atera/atera-sandbox.js';

describe('the Atera ticket desk', () => {
  let sandbox: AteraSandbox;
  let desk: AteraTicketDesk;

  beforeAll(async () => {
    sandbox = await startAteraSandbox();
    const client = new AteraClient({ baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey, retry: NO_RETRY });
    desk = new AteraTicketDesk(client, { technicianId: 9, technicianEmail: 'ticketzero@msp.example' });
  });
  afterAll(() => sandbox.close());

  it('maps a ticket with HTML, non-ASCII text and 7-digit fractional dates to plain data', async () => {
    const ticket = await desk.getTicket(1002);
    expect(ticket).toMatchObject({
      id: 1002,
      number: '1002',
      title: 'Drucker im 2. Stock druckt nur leere Seiten',
      status: 'Open',
      priority: 'Low',
      customer: { id: 101, name: 'Contoso Ltd' },
      endUser: { id: 502, email: 'lukas.schmidt@contoso.example', firstName: 'Lukas', lastName: 'Schmidt' },
    });
    expect(ticket.description).toContain('Grüß Gott,\nder Drucker');
    expect(ticket.description).toContain('80 %');
    expect(ticket.description).not.toContain('<p>');
    expect(ticket.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('keeps numeric enum values as they come and treats an empty end-user e-mail as none', async () => {
    expect((await desk.getTicket(1004)).priority).toBe('3');
    expect((await desk.getTicket(1006)).endUser.email).toBeNull();
    expect((await desk.getTicket(1007)).endUser.email).toBeNull();
    expect((await desk.getTicket(1001)).description.length).toBeGreaterThan(5000);
  });

  it('throws NotFoundError for a ticket that does not exist', async () => {
    await expect(desk.getTicket(424242)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('posts an end-user turn as the end user, escaped, with its marker and timestamp', async () => {
    await desk.addComment(1005, {
      text: 'J\'ai essayé <b>redémarrer</b> & ça "marche" pas\nDeuxième ligne',
      visibility: 'public',
      author: 'end_user',
      endUserId: 521,
      timestampUtc: '2026-01-02T03:04:05.000Z',
      marker: 'tz-1005-1',
    });
    const raw = sandbox.comments(1005).at(-1)!;
    expect(raw).toMatchObject({ EndUserID: 521, TechnicianContactID: null, IsInternal: false });
    expect(raw.Comment).toContain('&lt;b&gt;redémarrer&lt;/b&gt; &amp; ça &quot;marche&quot;');
    expect(String(raw.Date)).toMatch(/^2026-01-02T03:04:05\.000\d{4}Z$/);
    const read = (await desk.listComments(1005)).at(-1)!;
    expect(read.author).toBe('end_user');
    expect(read.text).toBe(
      `J'ai essayé <b>redémarrer</b> & ça "marche" pas\nDeuxième ligne\n\n${markerLine('tz-1005-1')}`,
    );
  });

  it('posts a bot turn as the configured technician, internal when the visibility says so', async () => {
    await desk.addComment(1005, {
      text: 'Internal note',
      visibility: 'internal',
      author: 'ticketzero',
      timestampUtc: '2026-01-02T03:05:00.000Z',
      marker: 'tz-1005-2',
    });
    await desk.addComment(1005, {
      text: 'End user without a known Atera id',
      visibility: 'public',
      author: 'end_user',
      endUserId: null,
      timestampUtc: '2026-01-02T03:06:00.000Z',
      marker: 'tz-1005-3',
    });
    const [internal, publicOne] = sandbox.comments(1005).slice(-2);
    expect(internal).toMatchObject({
      TechnicianContactID: 9,
      IsInternal: true,
      Email: 'ticketzero@msp.example',
    });
    expect(publicOne).toMatchObject({ TechnicianContactID: 9, IsInternal: false });
  });

  it('reads HTML comments as decoded text', async () => {
    const comments = await desk.listComments(1003);
    expect(comments.map((c) => c.text)).toEqual([
      'Hi Adele, could you send us the output of ipconfig /all?',
      "Internal: check the ISP's MTU & the GP gateway logs <fw-02>.",
    ]);
    expect(comments[1]!.internal).toBe(true);
  });

  it('updates status, priority and technician', async () => {
    await desk.updateTicket(1009, {
      status: 'Pending',
      priority: 'High',
      technicianEmail: 'dana.tech@msp.example',
    });
    expect(sandbox.getTicket(1009)).toMatchObject({
      TicketStatus: 'Pending',
      TicketPriority: 'High',
      TechnicianContactID: 7,
    });
  });

  it("finds the end user's devices among the customer's agents", async () => {
    const devices = await desk.findDevices({
      customerId: 101,
      email: 'megan.bowen@contoso.example',
      displayName: 'Megan Bowen',
    });
    expect(devices).toEqual([
      expect.objectContaining({
        name: 'CONTOSO-LT-MB01',
        online: true,
        loggedInUsers: ['CONTOSO\\megan.bowen'],
      }),
    ]);
  });

  it('asks Atera once for a customer’s devices when several of its tickets arrive together', async () => {
    sandbox.resetRequests();
    const lookups = ['megan.bowen', 'lukas.schmidt', 'diego.siciliani'].map((name) =>
      desk.findDevices({ customerId: 102, email: `${name}@contoso.example`, displayName: name }),
    );
    await Promise.all(lookups);
    expect(sandbox.requests.filter((r) => r.path.startsWith('/agents'))).toHaveLength(1);
  });
});
