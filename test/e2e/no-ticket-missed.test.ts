/**
 * End to end over real HTTP: which Atera tickets TicketZero takes around its first start, judged by Atera's clock
 * and ticket ids, never by this host's clock alone. The Atera sandbox runs with a clock of its own (five minutes
 * ahead of or behind this host's); a ticket counts as taken when TicketZero wrote its intake note on it in Atera
 * ("started a Teams conversation …" or "… this ticket waits …"), and none may get that note twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AteraSandbox, TicketDto } from '../../src/sandboxes/atera/atera-sandbox.js';
import { TEAMS_USERS } from '../../src/sandboxes/local-stack.js';
import { eventually, startTicketZero, type RunningTicketZero } from './support/running-ticketzero.js';

const FIVE_MINUTES = 5 * 60_000;
const INTAKE_NOTE = /started a Teams conversation with|this ticket waits and starts when/;

let running: RunningTicketZero | null = null;

afterEach(async () => {
  await running?.close();
  running = null;
});

/** How many times TicketZero has looked at Atera for new tickets (ATERA_POLL_SECONDS is 1 in the local stack). */
function polls(r: RunningTicketZero): number {
  return r.stack.atera.requests.filter((q) => q.method === 'GET' && q.path === '/tickets/lastmodified')
    .length;
}

/** Waits until TicketZero has looked at Atera `count` more times than it had when called. */
async function morePolls(r: RunningTicketZero, count: number): Promise<void> {
  const from = polls(r);
  await eventually(() => expect(polls(r), 'polls of Atera').toBeGreaterThanOrEqual(from + count), 20_000);
}

function ticketFor(
  atera: AteraSandbox,
  who: { email: string; name: string },
  title: string,
  createdSecondsAgo?: number,
): TicketDto {
  const [first, last] = who.name.split(' ');
  return atera.createTicket({
    title,
    description: `${title} — reported by ${who.name}.`,
    endUserEmail: who.email,
    endUserFirstName: first,
    endUserLastName: last,
    customerId: 101,
    ...(createdSecondsAgo ? { createdSecondsAgo } : {}),
  });
}

function commentsOn(r: RunningTicketZero, ticket: TicketDto): string[] {
  return r.stack.atera.comments(ticket.TicketID).map((c) => String(c.Comment ?? ''));
}

function intakeNotes(r: RunningTicketZero, ticket: TicketDto): string[] {
  return commentsOn(r, ticket).filter((c) => INTAKE_NOTE.test(c));
}

/** Waits until every ticket has its intake note, then checks for a few more polls that none got a second one. */
async function expectTakenOnce(r: RunningTicketZero, tickets: Record<string, TicketDto>): Promise<void> {
  const notes = () =>
    Object.fromEntries(Object.entries(tickets).map(([k, t]) => [k, intakeNotes(r, t).length]));
  const once = Object.fromEntries(Object.keys(tickets).map((k) => [k, 1]));
  await eventually(() => expect(notes(), 'intake notes per ticket').toEqual(once), 20_000);
  await morePolls(r, 3);
  expect(notes(), 'intake notes per ticket after more polls').toEqual(once);
}

/**
 * The scenario both skews share: one ticket came in two minutes before TicketZero's first start (it is not taken),
 * one while TicketZero starts, one a second after it, and one after TicketZero's own comments (stamped by this
 * host's clock) have modified the first ticket in Atera.
 */
async function firstStartWithAteraClockOff(offsetMs: number): Promise<{
  r: RunningTicketZero;
  tickets: Record<string, TicketDto>;
  before: TicketDto;
}> {
  let before: TicketDto | undefined;
  let atStart: TicketDto | undefined;
  const r = await startTicketZero({
    ateraClockOffsetMs: offsetMs,
    beforeStart: (stack) => {
      before = ticketFor(stack.atera, TEAMS_USERS.lukas, 'Came in before TicketZero started', 120);
      atStart = ticketFor(stack.atera, TEAMS_USERS.megan, 'Came in as TicketZero started');
    },
  });
  running = r;
  await morePolls(r, 2); // its first look at Atera at the start, and the next one a second later
  const oneSecondLater = ticketFor(r.stack.atera, TEAMS_USERS.lukas, 'Came in a second after the start');
  // TicketZero has written to the first ticket (comments carrying this host's time) before the next one comes in.
  await eventually(() => expect(intakeNotes(r, atStart!)).toHaveLength(1), 20_000);
  const afterOwnComments = ticketFor(
    r.stack.atera,
    TEAMS_USERS.megan,
    'Came in after TicketZero wrote to Atera',
  );
  return { r, tickets: { atStart: atStart!, oneSecondLater, afterOwnComments }, before: before! };
}

describe('a ticket that comes in around TicketZero’s first start', () => {
  it('is taken when it is created one second after the first start', async () => {
    running = await startTicketZero();
    await morePolls(running, 2); // its first look at Atera at the start, and the next one a second later
    const ticket = ticketFor(running.stack.atera, TEAMS_USERS.megan, 'Teams keeps signing me out');
    await expectTakenOnce(running, { ticket });
  });

  it('is taken when it is created while TicketZero is starting, before its first look at Atera', async () => {
    let ticket: TicketDto | undefined;
    running = await startTicketZero({
      beforeStart: (stack) => {
        ticket = ticketFor(stack.atera, TEAMS_USERS.megan, 'OneDrive is not syncing');
      },
    });
    await expectTakenOnce(running, { ticket: ticket! });
  });
});

describe('with Atera’s clock five minutes ahead of this host’s', () => {
  it('takes every ticket created at the first start and later, once each, and none from before it', async () => {
    const { r, tickets, before } = await firstStartWithAteraClockOff(FIVE_MINUTES);
    await expectTakenOnce(r, tickets);
    expect(commentsOn(r, before), `ticket #${before.TicketID} came in before the first start`).toEqual([]);
  });
});

describe('with Atera’s clock five minutes behind this host’s', () => {
  it('takes every ticket created at the first start and later, once each, and none from before it', async () => {
    const { r, tickets, before } = await firstStartWithAteraClockOff(-FIVE_MINUTES);
    await expectTakenOnce(r, tickets);
    expect(commentsOn(r, before), `ticket #${before.TicketID} came in before the first start`).toEqual([]);
  });

  it('takes a ticket that came in while TicketZero was down, after a restart, and none twice', async () => {
    const r = await startTicketZero({ ateraClockOffsetMs: -FIVE_MINUTES });
    running = r;
    const beforeRestart = ticketFor(r.stack.atera, TEAMS_USERS.megan, 'Came in before the restart');
    await expectTakenOnce(r, { beforeRestart });
    let whileDown: TicketDto | undefined;
    await r.restart(() => {
      whileDown = ticketFor(r.stack.atera, TEAMS_USERS.lukas, 'Came in while TicketZero was down');
    });
    await expectTakenOnce(r, { beforeRestart, whileDown: whileDown! });
  });
});
