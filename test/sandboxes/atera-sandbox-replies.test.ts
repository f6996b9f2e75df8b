/**
 * The Atera sandbox plays what people write in Atera: a technician's public reply or internal note, and the end
 * user's e-mail (or portal) reply, served by GET /tickets/{id}/comments as the live API serves each kind.
 * Read back over HTTP through the production AteraClient.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AteraClient } from '../../src/adapters/atera/atera-client.js';
import { NO_RETRY } from '../../src/adapters/atera/retry-policy.js';
import {
  AteraSandboxError,
  startAteraSandbox,
  type AteraSandbox,
} from '../../src/sandboxes/atera/atera-sandbox.js';

const FIVE_MINUTES = 5 * 60_000;
/** Seeded ticket 1003: Adele Vance (end user 511, Fabrikam), assigned to Dana Tech (7), with a reply and a note. */
const ADELE_TICKET = 1003;

describe('replies written in Atera, as the sandbox serves them', () => {
  let sandbox: AteraSandbox;
  let client: AteraClient;
  let origin: string;

  const nearAteraNow = (value: unknown) => {
    const ms = Date.parse(String(value));
    // Atera's clock runs five minutes ahead of this host's in these tests.
    expect(Math.abs(ms - (Date.now() + FIVE_MINUTES)), String(value)).toBeLessThan(2_000);
    expect(String(value)).toMatch(/\.\d{7}Z$/);
  };
  const lastComment = async (ticketId: number) => (await client.listComments(ticketId)).at(-1);
  const control = (path: string, body: unknown) =>
    fetch(`${origin}/_sandbox${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeEach(async () => {
    sandbox = await startAteraSandbox({ clockOffsetMs: FIVE_MINUTES });
    client = new AteraClient({ baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey, retry: NO_RETRY });
    origin = sandbox.baseUrl.replace(/\/api\/v3$/, '');
  });
  afterEach(() => sandbox.close());

  it('serves a technician’s public reply with the technician’s id, e-mail and names, as editor HTML dated by Atera’s clock', async () => {
    sandbox.addTechnicianReply(ADELE_TICKET, {
      text: 'Hi Adele,\nplease run <ipconfig> & send it.\n\nThanks, Dana',
    });

    const comment = await lastComment(ADELE_TICKET);
    expect(comment).toEqual({
      Date: expect.any(String),
      Comment: '<p>Hi Adele,<br>please run &lt;ipconfig&gt; &amp; send it.</p><p>Thanks, Dana</p>',
      EndUserID: null,
      TechnicianContactID: 7,
      Email: 'dana.tech@msp.example',
      FirstName: 'Dana',
      LastName: 'Tech',
      IsInternal: false,
    });
    nearAteraNow(comment!.Date);
  });

  it('serves an internal note with IsInternal true, and keeps it out of LastTechnicianComment', async () => {
    sandbox.addTechnicianReply(ADELE_TICKET, { text: 'Try a new profile' });
    sandbox.addTechnicianReply(ADELE_TICKET, { text: 'MTU is 1400 on her ISP', internal: true });

    expect(await lastComment(ADELE_TICKET)).toMatchObject({
      Comment: '<p>MTU is 1400 on her ISP</p>',
      TechnicianContactID: 7,
      EndUserID: null,
      IsInternal: true,
    });
    const ticket = await client.getTicket(ADELE_TICKET);
    expect(ticket.LastTechnicianComment).toBe('<p>Try a new profile</p>');
    nearAteraNow(ticket.LastTechnicianCommentTimestamp);
  });

  it('writes as a person, never as TicketZero’s own technician, when no technician is named', async () => {
    const ticket = sandbox.createTicket({
      title: 'Mail',
      description: 'slow',
      endUserEmail: 'megan.bowen@contoso.example',
    });
    expect(ticket.TechnicianContactID).toBeNull();

    const reply = sandbox.addTechnicianReply(ticket.TicketID, { text: 'Looking into it' });

    expect(reply).toMatchObject({ TechnicianContactID: 7, FirstName: 'Dana' });
    expect(reply.TechnicianContactID).not.toBe(9);
  });

  it('writes as a technician the test names, new to the account or already known', async () => {
    sandbox.addTechnicianReply(ADELE_TICKET, {
      text: 'Taking over',
      technician: { contactId: 42, email: 'jo.night@msp.example', firstName: 'Jo', lastName: 'Night' },
    });
    expect(await lastComment(ADELE_TICKET)).toMatchObject({
      TechnicianContactID: 42,
      Email: 'jo.night@msp.example',
      FirstName: 'Jo',
      LastName: 'Night',
    });
    expect(
      sandbox.addTechnicianReply(ADELE_TICKET, { text: 'hi', technician: { contactId: 8 } }),
    ).toMatchObject({ Email: 'sam.support@msp.example' });
    expect(() =>
      sandbox.addTechnicianReply(ADELE_TICKET, {
        text: 'hi',
        technician: { contactId: 8, email: 'someone.else@msp.example' },
      }),
    ).toThrow(AteraSandboxError);
  });

  it('serves the end user’s e-mail reply with the end user’s id, e-mail and names, and updates LastEndUserComment', async () => {
    sandbox.addEndUserReply(ADELE_TICKET, { text: 'Still dropping.\nSee attached <log>' });

    const comment = await lastComment(ADELE_TICKET);
    expect(comment).toEqual({
      Date: expect.any(String),
      Comment: '<div dir="ltr">Still dropping.<br>See attached &lt;log&gt;</div>',
      EndUserID: 511,
      TechnicianContactID: null,
      Email: 'adele.vance@fabrikam.example',
      FirstName: 'Adele',
      LastName: 'Vance',
      IsInternal: false,
    });
    nearAteraNow(comment!.Date);
    const ticket = await client.getTicket(ADELE_TICKET);
    expect(ticket.LastEndUserComment).toBe(comment!.Comment);
    expect(ticket.LastEndUserCommentTimestamp).toBe(comment!.Date);
  });

  it('ends an e-mail reply with the previous message quoted under "On … wrote:" when asked', async () => {
    sandbox.addTechnicianReply(ADELE_TICKET, { text: 'Please restart the VPN client & try again' });
    const previous = (await lastComment(ADELE_TICKET))!;
    const day = new Date(Date.parse(String(previous.Date))).getUTCDate();

    sandbox.addEndUserReply(ADELE_TICKET, { text: 'That fixed it, thanks!', quotePrevious: true });

    const html = String((await lastComment(ADELE_TICKET))!.Comment);
    expect(html.startsWith('<div dir="ltr">That fixed it, thanks!</div>')).toBe(true);
    expect(html).toMatch(
      new RegExp(
        `On \\w{3}, ${day} \\w{3} \\d{4} at \\d\\d:\\d\\d, Dana Tech &lt;dana\\.tech@msp\\.example&gt; wrote:`,
      ),
    );
    expect(html.endsWith('<p>Please restart the VPN client &amp; try again</p></blockquote></div>')).toBe(
      true,
    );
  });

  it('serves a portal reply as editor HTML with no quote', async () => {
    sandbox.addEndUserReply(ADELE_TICKET, { text: 'Works now', via: 'portal' });
    expect(await lastComment(ADELE_TICKET)).toMatchObject({
      Comment: '<p>Works now</p>',
      EndUserID: 511,
      TechnicianContactID: null,
    });
    expect(() =>
      sandbox.addEndUserReply(ADELE_TICKET, { text: 'x', via: 'portal', quotePrevious: true }),
    ).toThrow(/Only an e-mail reply/);
  });

  it('returns the ticket from /tickets/lastmodified once someone replies, and not before', async () => {
    const ticket = sandbox.createTicket({
      title: 'Printer',
      description: 'jam',
      endUserEmail: 'megan.bowen@contoso.example',
      createdSecondsAgo: 3_600,
    });
    const aMinuteAgo = new Date(sandbox.now().getTime() - 60_000).toISOString();
    const modifiedIds = async () =>
      (await client.listTicketsModifiedSince(aMinuteAgo)).tickets.map((t) => Number(t.TicketID));
    expect(await modifiedIds()).not.toContain(ticket.TicketID);

    sandbox.addEndUserReply(ticket.TicketID, { text: 'Any news?' });

    expect(await modifiedIds()).toContain(ticket.TicketID);
  });

  it('refuses an unknown ticket, empty text, and an end-user reply on a ticket without an end user', () => {
    expect(() => sandbox.addTechnicianReply(99_999, { text: 'hi' })).toThrow(
      expect.objectContaining({ status: 404 }),
    );
    expect(() => sandbox.addTechnicianReply(ADELE_TICKET, { text: '  ' })).toThrow(
      expect.objectContaining({ status: 400 }),
    );
    // Seeded ticket 1006 came in with no end-user e-mail, so it has no end user.
    expect(() => sandbox.addEndUserReply(1006, { text: 'hi' })).toThrow(/no end user/);
    expect(sandbox.comments(1006)).toEqual([]);
  });

  describe('over its control routes', () => {
    it('adds a technician reply, an internal note and an end-user reply, answering 201 with the comment', async () => {
      const reply = await control(`/tickets/${ADELE_TICKET}/technician-replies`, { text: 'On it' });
      expect(reply.status).toBe(201);
      expect(await reply.json()).toMatchObject({ TechnicianContactID: 7, IsInternal: false });

      const note = await control(`/tickets/${ADELE_TICKET}/technician-replies`, {
        text: 'escalate to network team',
        internal: true,
        technician: { contactId: 8 },
      });
      expect(note.status).toBe(201);

      const email = await control(`/tickets/${ADELE_TICKET}/end-user-replies`, {
        text: 'Thanks',
        via: 'email',
        quotePrevious: true,
      });
      expect(email.status).toBe(201);

      const served = (await client.listComments(ADELE_TICKET)).slice(-3);
      expect(served).toMatchObject([
        { Comment: '<p>On it</p>', TechnicianContactID: 7, IsInternal: false },
        { Comment: '<p>escalate to network team</p>', TechnicianContactID: 8, IsInternal: true },
        { EndUserID: 511, TechnicianContactID: null, Email: 'adele.vance@fabrikam.example' },
      ]);
      // The quote is the latest public reply, not the internal note.
      expect(String(served[2]!.Comment)).toContain('<blockquote');
      expect(String(served[2]!.Comment)).toContain('<p>On it</p></blockquote>');
      expect(String(served[2]!.Comment)).not.toContain('escalate');
    });

    it('answers 404 for an unknown ticket and 400 with a message for a wrongly shaped body', async () => {
      expect((await control('/tickets/99999/technician-replies', { text: 'hi' })).status).toBe(404);
      for (const [path, body] of [
        [`/tickets/${ADELE_TICKET}/technician-replies`, {}],
        [`/tickets/${ADELE_TICKET}/technician-replies`, { text: 'hi', internal: 'yes' }],
        [`/tickets/${ADELE_TICKET}/technician-replies`, { text: 'hi', technician: { contactId: 'x' } }],
        [`/tickets/${ADELE_TICKET}/technician-replies`, { text: 'hi', technician: { contactId: 50 } }],
        [`/tickets/${ADELE_TICKET}/end-user-replies`, { text: 'hi', via: 'fax' }],
        ['/tickets/1006/end-user-replies', { text: 'hi' }],
      ] as const) {
        const res = await control(path, body);
        expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
        expect(((await res.json()) as { Message: string }).Message).not.toBe('');
      }
    });
  });
});
