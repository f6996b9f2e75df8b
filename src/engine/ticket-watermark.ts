/**
 * Which Atera tickets are new to TicketZero, and from where the watcher reads Atera next — decided by Atera's own
 * data (its clock, its ticket ids, its created times), never by this host's clock alone, so a host clock ahead of
 * or behind Atera's loses no ticket.
 *
 * - The first-start watermark is Atera's time when the watcher started (Atera's clock at its first answer, less the
 *   host time that passed since the start, less a minute's grace) and the highest ticket id Atera showed then.
 * - A ticket is new when Atera created it at or after the watermark time minus the backfill window, or when its id
 *   is above the watermark id (Atera numbers tickets in order, so it came in after the first look, whatever its
 *   timestamp says) — and, either way, not long before the cursor (a ticket first seen an hour after it came in is
 *   not new: its claim may have been pruned).
 * - The cursor is Atera's clock at the last answer minus the overlap, held back to where any ticket noticed but not
 *   yet handed over was seen from. Comment timestamps never move it: callers, TicketZero included, stamp comments
 *   with their own clocks (CommentTimestampUTC).
 */
import type { Ticket } from '../ports/ticket-desk.js';

export interface Watermark {
  /** Atera's time of TicketZero's first start, less the grace (ISO 8601 UTC). */
  at: string;
  /** The highest ticket id Atera showed at the first start; null when it showed none. */
  ticketId: number | null;
  /** Whose clock `at` is on: Atera's, or this host's (Atera told no time, or an earlier version wrote it). */
  clock: 'atera' | 'host';
}

/** Tickets that came in this long before the watcher's first start still count as new (start-up, Atera's lag). */
export const FIRST_START_GRACE_MS = 60_000;
/**
 * The first start reads Atera's changes from this far back by this host's clock (plus the backfill window), so the
 * first answer holds every ticket a start-up could be about even with the host's clock a day ahead.
 */
export const FIRST_START_LOOK_BACK_MS = 24 * 60 * 60_000;
/** A ticket created this long before the cursor is no longer new (the cursor passed it long ago). */
export const HORIZON_SLACK_MS = 60 * 60_000;

const iso = (ms: number) => new Date(ms).toISOString();

/** Where the first poll reads from: a day (and the backfill window) back by this host's clock. */
export function firstStartSince(hostStartedAtMs: number, backfillMs: number): string {
  return iso(hostStartedAtMs - backfillMs - FIRST_START_LOOK_BACK_MS);
}

/**
 * The watermark taken from Atera's first answer. `hostStartedAtMs` and `hostAnsweredAtMs` are this host's clock
 * when the watcher started and when that answer came; only their difference counts when Atera told its time.
 */
export function firstStartWatermark(input: {
  tickets: readonly Pick<Ticket, 'id'>[];
  ateraTime: string | null;
  hostStartedAtMs: number;
  hostAnsweredAtMs: number;
}): Watermark {
  const ticketId = input.tickets.reduce<number | null>(
    (max, t) => (max === null || t.id > max ? t.id : max),
    null,
  );
  const ateraMs = input.ateraTime === null ? NaN : Date.parse(input.ateraTime);
  if (Number.isNaN(ateraMs)) {
    return { at: iso(input.hostStartedAtMs - FIRST_START_GRACE_MS), ticketId, clock: 'host' };
  }
  const sinceStart = Math.max(0, input.hostAnsweredAtMs - input.hostStartedAtMs);
  return { at: iso(ateraMs - sinceStart - FIRST_START_GRACE_MS), ticketId, clock: 'atera' };
}

export function serializeWatermark(watermark: Watermark): string {
  return JSON.stringify(watermark);
}

/**
 * A stored watermark: this module's JSON, or the bare ISO time earlier versions stored (taken from this host's
 * clock). Null when unreadable.
 */
export function parseWatermark(stored: string): Watermark | null {
  const text = stored.trim();
  if (!text.startsWith('{')) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? null : { at: iso(ms), ticketId: null, clock: 'host' };
  }
  try {
    const value = JSON.parse(text) as Partial<Watermark>;
    const ms = typeof value.at === 'string' ? Date.parse(value.at) : NaN;
    if (Number.isNaN(ms)) return null;
    const ticketId =
      typeof value.ticketId === 'number' && Number.isSafeInteger(value.ticketId) ? value.ticketId : null;
    return { at: iso(ms), ticketId, clock: value.clock === 'atera' ? 'atera' : 'host' };
  } catch {
    return null;
  }
}

export type NewTicketVerdict =
  | { isNew: true; by: 'created_time' | 'ticket_id' }
  | { isNew: false; reason: 'created_before_first_start' | 'created_long_before_cursor' };

/** Whether Atera's ticket is new to TicketZero (status, e-mail and earlier decisions aside). */
export function judgeNewTicket(
  ticket: Pick<Ticket, 'id' | 'createdAt'>,
  context: { watermark: Watermark; backfillMs: number; since: string },
): NewTicketVerdict {
  const created = Date.parse(ticket.createdAt);
  const by =
    created >= Date.parse(context.watermark.at) - context.backfillMs
      ? 'created_time'
      : context.watermark.ticketId !== null && ticket.id > context.watermark.ticketId
        ? 'ticket_id'
        : null;
  if (by === null) return { isNew: false, reason: 'created_before_first_start' };
  if (Number.isNaN(created) || created < Date.parse(context.since) - HORIZON_SLACK_MS) {
    return { isNew: false, reason: 'created_long_before_cursor' };
  }
  return { isNew: true, by };
}

/**
 * The cursor after an answer. With Atera's time: that time minus the overlap (even if that is earlier than the
 * cursor was: a cursor ahead of Atera's clock would skip tickets). Without it: forward only, to the newest created
 * time in the answer minus the overlap. Either way never past `holdAt` (tickets noticed, not yet handed over).
 */
export function nextCursor(input: {
  current: string;
  ateraTime: string | null;
  tickets: readonly Pick<Ticket, 'createdAt'>[];
  overlapMs: number;
  holdAt: Iterable<string>;
}): string {
  const currentMs = Date.parse(input.current);
  const ateraMs = input.ateraTime === null ? NaN : Date.parse(input.ateraTime);
  let target: number;
  if (!Number.isNaN(ateraMs)) {
    target = ateraMs - input.overlapMs;
  } else {
    const newest = input.tickets.reduce((max, t) => {
      const ms = Date.parse(t.createdAt);
      return Number.isNaN(ms) ? max : Math.max(max, ms);
    }, -Infinity);
    target = Math.max(currentMs, newest - input.overlapMs);
  }
  for (const held of input.holdAt) {
    const ms = Date.parse(held);
    if (!Number.isNaN(ms)) target = Math.min(target, ms);
  }
  return Number.isFinite(target) ? iso(target) : input.current;
}
