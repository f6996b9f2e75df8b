/**
 * The watermark rule: which Atera tickets are new to TicketZero and where the watcher reads from next, decided by
 * Atera's clock, created times and ticket ids. Plain functions, no network: the end-to-end specs over real HTTP are
 * in test/e2e/no-ticket-missed.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  FIRST_START_GRACE_MS,
  HORIZON_SLACK_MS,
  firstStartSince,
  firstStartWatermark,
  judgeNewTicket,
  nextCursor,
  parseWatermark,
  serializeWatermark,
  type Watermark,
} from '../../../src/engine/ticket-watermark.js';

const MINUTE = 60_000;
const ms = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();

/** Atera's clock at the moment TicketZero starts, in these specs. */
const ATERA_START = ms('2026-03-23T10:00:00.000Z');

describe('the first-start watermark', () => {
  it('is Atera’s time at the start — its clock at the first answer less the host time since the start — less a minute’s grace', () => {
    const mark = firstStartWatermark({
      tickets: [{ id: 1001 }, { id: 1042 }, { id: 1007 }],
      ateraTime: iso(ATERA_START + 3_000),
      hostStartedAtMs: ms('2026-03-23T10:05:00.000Z'),
      hostAnsweredAtMs: ms('2026-03-23T10:05:03.000Z'),
    });
    expect(mark).toEqual({ at: iso(ATERA_START - FIRST_START_GRACE_MS), ticketId: 1042, clock: 'atera' });
  });

  it('counts a first look that only got an answer ten minutes after the start from the start, not from the answer', () => {
    const mark = firstStartWatermark({
      tickets: [],
      ateraTime: iso(ATERA_START + 10 * MINUTE),
      hostStartedAtMs: ms('2026-03-23T09:55:00.000Z'),
      hostAnsweredAtMs: ms('2026-03-23T10:05:00.000Z'),
    });
    expect(mark).toEqual({ at: iso(ATERA_START - FIRST_START_GRACE_MS), ticketId: null, clock: 'atera' });
  });

  it('falls back to this host’s clock, said so, only when Atera’s answer told no time', () => {
    const hostStart = ms('2026-03-23T10:05:00.000Z');
    const mark = firstStartWatermark({
      tickets: [{ id: 5 }],
      ateraTime: null,
      hostStartedAtMs: hostStart,
      hostAnsweredAtMs: hostStart + 200,
    });
    expect(mark).toEqual({ at: iso(hostStart - FIRST_START_GRACE_MS), ticketId: 5, clock: 'host' });
  });

  it('is read on the first start from a day (and the backfill window) back by this host’s clock', () => {
    expect(firstStartSince(ms('2026-03-23T10:00:00.000Z'), 30 * MINUTE)).toBe('2026-03-22T09:30:00.000Z');
  });

  it('is stored as JSON and read back; a bare time from an earlier version is on this host’s clock', () => {
    const mark: Watermark = { at: '2026-03-23T09:59:00.000Z', ticketId: 1042, clock: 'atera' };
    expect(parseWatermark(serializeWatermark(mark))).toEqual(mark);
    expect(parseWatermark('2026-03-23T09:59:00.000Z')).toEqual({
      at: '2026-03-23T09:59:00.000Z',
      ticketId: null,
      clock: 'host',
    });
    expect(parseWatermark('{"at":"soon"}')).toBeNull();
    expect(parseWatermark('not a time')).toBeNull();
  });
});

describe('a new ticket', () => {
  const mark: Watermark = { at: iso(ATERA_START - FIRST_START_GRACE_MS), ticketId: 1042, clock: 'atera' };
  const since = iso(ATERA_START + 30 * MINUTE);
  const judge = (id: number, createdAtMs: number, backfillMinutes = 0) =>
    judgeNewTicket(
      { id, createdAt: iso(createdAtMs) },
      { watermark: mark, backfillMs: backfillMinutes * MINUTE, since },
    );

  it('is one Atera created at or after the watermark', () => {
    expect(judge(1043, ATERA_START + 1_000)).toEqual({ isNew: true, by: 'created_time' });
    expect(judge(1040, ATERA_START - 30_000)).toEqual({ isNew: true, by: 'created_time' });
  });

  it('is one whose id is above the watermark id, whatever Atera’s created time says', () => {
    expect(judge(1043, ATERA_START - 10 * MINUTE)).toEqual({ isNew: true, by: 'ticket_id' });
  });

  it('is not one created before the first start with an id Atera had shown then', () => {
    expect(judge(1041, ATERA_START - 2 * MINUTE)).toEqual({
      isNew: false,
      reason: 'created_before_first_start',
    });
  });

  it('includes the backfill window before the first start', () => {
    expect(judge(1030, ATERA_START - 20 * MINUTE, 30)).toEqual({ isNew: true, by: 'created_time' });
    expect(judge(1030, ATERA_START - 40 * MINUTE, 30).isNew).toBe(false);
  });

  it('is not one created long before the cursor, even with a high id (its claim may be pruned)', () => {
    expect(judge(2000, ms(since) - HORIZON_SLACK_MS - 1)).toEqual({
      isNew: false,
      reason: 'created_long_before_cursor',
    });
  });

  it('does not depend on this host’s clock: with it five minutes ahead or behind, a ticket a second after the start is new and one two minutes before is not', () => {
    for (const hostAheadMs of [-5 * MINUTE, 0, 5 * MINUTE]) {
      const hostStart = ATERA_START + hostAheadMs;
      const firstAnswer = firstStartWatermark({
        tickets: [{ id: 1041 }],
        ateraTime: iso(ATERA_START + 1_000),
        hostStartedAtMs: hostStart,
        hostAnsweredAtMs: hostStart + 1_000,
      });
      const context = { watermark: firstAnswer, backfillMs: 0, since: iso(ATERA_START) };
      expect(
        judgeNewTicket({ id: 1042, createdAt: iso(ATERA_START + 1_000) }, context).isNew,
        `${hostAheadMs}`,
      ).toBe(true);
      expect(judgeNewTicket({ id: 1040, createdAt: iso(ATERA_START - 2 * MINUTE) }, context).isNew).toBe(
        false,
      );
    }
  });
});

describe('the cursor', () => {
  const atera = '2026-03-23T10:00:00.000Z';

  it('follows Atera’s clock at the answer, less the overlap, and not the tickets’ timestamps', () => {
    const cursor = nextCursor({
      current: '2026-03-23T09:58:00.000Z',
      ateraTime: atera,
      // A comment stamped by a host clock five minutes ahead made this ticket look modified in the future.
      tickets: [{ createdAt: '2026-03-23T10:05:00.000Z' }],
      overlapMs: MINUTE,
      holdAt: [],
    });
    expect(cursor).toBe('2026-03-23T09:59:00.000Z');
  });

  it('moves back when it was ahead of Atera’s clock (written from a host clock that ran ahead)', () => {
    expect(
      nextCursor({
        current: '2026-03-23T10:04:00.000Z',
        ateraTime: atera,
        tickets: [],
        overlapMs: MINUTE,
        holdAt: [],
      }),
    ).toBe('2026-03-23T09:59:00.000Z');
  });

  it('stays at or before a ticket noticed but not yet handed over', () => {
    expect(
      nextCursor({
        current: '2026-03-23T09:50:00.000Z',
        ateraTime: atera,
        tickets: [],
        overlapMs: MINUTE,
        holdAt: ['2026-03-23T09:55:00.000Z'],
      }),
    ).toBe('2026-03-23T09:55:00.000Z');
  });

  it('without Atera’s time, moves forward only, to the newest created time less the overlap', () => {
    const current = '2026-03-23T09:50:00.000Z';
    const without = (tickets: { createdAt: string }[]) =>
      nextCursor({ current, ateraTime: null, tickets, overlapMs: MINUTE, holdAt: [] });
    expect(
      without([{ createdAt: '2026-03-23T09:57:00.000Z' }, { createdAt: '2026-03-23T09:20:00.000Z' }]),
    ).toBe('2026-03-23T09:56:00.000Z');
    expect(without([{ createdAt: '2026-03-23T09:20:00.000Z' }])).toBe(current);
    expect(without([])).toBe(current);
  });
});
