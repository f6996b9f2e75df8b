/**
 * The store's working set held in memory: live and recently ended conversations, the pending comment outbox,
 * claims, cursors and small values, with indexes by user and by thread.
 *
 * Every method is synchronous, so an update (read, change, write) is atomic with respect to every other call
 * in the process. The in-memory store uses it as is; the lowdb store persists its snapshot after each batch of
 * changes and moves ended conversations out of it into the archive.
 */
import { randomUUID } from 'node:crypto';
import {
  isLive,
  type ConversationRecord,
  type Mutation,
  type OutboxEntry,
  type TicketClaim,
} from '../../ports/conversation-store.js';
import { endedAtOf, normalizeThreadId, timeOf } from './conversation-record-fields.js';
import { StoreCorruptError, StoreUsageError } from './store-errors.js';

/** A ticket the hot state knows: its conversation (null when only comments were queued) and its last comment seq. */
export interface HotTicket {
  record: ConversationRecord | null;
  lastSeq: number;
}

/** The persisted form of the hot state (the lowdb document). */
export interface HotSnapshot {
  format: 1;
  /** The lowdb store's journal generation to replay over this snapshot (absent: 1). */
  journal?: number;
  cursors: Record<string, string>;
  claims: Record<string, TicketClaim>;
  kv: Record<string, Record<string, unknown>>;
  tickets: Record<string, HotTicket>;
  outbox: OutboxEntry[];
}

export function emptySnapshot(): HotSnapshot {
  return { format: 1, cursors: {}, claims: {}, kv: {}, tickets: {}, outbox: [] };
}

/** A ticket leaving the hot state for the archive. */
export interface ColdTicket {
  ticketId: number;
  record: ConversationRecord | null;
  lastSeq: number;
}

export function copyOf<T>(value: T): T {
  return structuredClone(value);
}

/**
 * One change to the hot state, as the lowdb store journals it. Every change sets something to a value (a ticket,
 * an outbox entry, a cursor, a small value) or removes it, so replaying a change the state already holds leaves
 * the state as it is: replay after a compaction that raced with appends is safe.
 */
export type HotChange =
  /** The ticket's whole hot state (conversation record and last comment seq) is now this. */
  | { t: 'ticket'; id: number; ticket: HotTicket }
  /** The ticket left the hot state (archived). */
  | { t: 'drop'; id: number }
  /** The pending outbox entry is now this (queued, or an attempt failed and it is rescheduled). */
  | { t: 'queue'; entry: OutboxEntry }
  /** The outbox entry was delivered. */
  | { t: 'delivered'; id: string }
  | { t: 'cursor'; name: string; value: string }
  | { t: 'kv'; ns: string; key: string; value: unknown };

export class HotState {
  /** Incremented by every update that changed something. */
  revision = 0;
  /** Told of every change made through the methods below (not of replayed ones); the lowdb store journals them. */
  onChange: ((change: HotChange) => void) | null = null;
  /** Tickets that may have become archivable since `archivable()` last looked (changed, or their outbox emptied). */
  private readonly settling = new Set<number>();
  private readonly tickets = new Map<number, HotTicket>();
  /** Undelivered entries per ticket, in seq order. */
  private readonly outbox = new Map<number, OutboxEntry[]>();
  private readonly entries = new Map<string, OutboxEntry>();
  /** In-process leases (entry id → until, ms). A restart drops them, which is right: their holder died. */
  private readonly leases = new Map<string, number>();
  private readonly claims = new Map<number, TicketClaim>();
  private readonly cursors = new Map<string, string>();
  private readonly kv = new Map<string, Map<string, unknown>>();
  private readonly liveByUser = new Map<string, Set<number>>();
  private readonly liveByThread = new Map<string, number>();

  static fromSnapshot(snapshot: HotSnapshot): HotState {
    if (snapshot.format !== 1) {
      throw new StoreCorruptError(`unknown store format ${String(snapshot.format)}`);
    }
    const state = new HotState();
    for (const [name, value] of Object.entries(snapshot.cursors)) state.cursors.set(name, value);
    for (const [id, claim] of Object.entries(snapshot.claims)) state.claims.set(Number(id), claim);
    for (const [ns, values] of Object.entries(snapshot.kv)) state.kv.set(ns, new Map(Object.entries(values)));
    for (const [id, ticket] of Object.entries(snapshot.tickets)) state.putTicket(Number(id), ticket);
    for (const entry of snapshot.outbox) state.enqueue(entry);
    return state;
  }

  /** Replays a journaled change (the listener is not told). */
  apply(change: HotChange): void {
    switch (change.t) {
      case 'ticket':
        this.putTicket(change.id, change.ticket);
        return;
      case 'drop': {
        const ticket = this.tickets.get(change.id);
        if (!ticket) return;
        this.unindex(change.id, ticket.record);
        this.tickets.delete(change.id);
        this.settling.delete(change.id);
        return;
      }
      case 'queue':
        this.enqueue(change.entry);
        return;
      case 'delivered':
        this.removeEntry(change.id);
        return;
      case 'cursor':
        this.cursors.set(change.name, change.value);
        return;
      case 'kv':
        this.valuesOf(change.ns).set(change.key, change.value);
        return;
      default:
        throw new StoreCorruptError(`unknown journal change ${JSON.stringify(change)}`);
    }
  }

  snapshot(): HotSnapshot {
    const kv: Record<string, Record<string, unknown>> = {};
    for (const [ns, values] of this.kv) kv[ns] = Object.fromEntries(values);
    const outbox: OutboxEntry[] = [];
    for (const queue of this.outbox.values()) outbox.push(...queue);
    return {
      format: 1,
      cursors: Object.fromEntries(this.cursors),
      claims: Object.fromEntries(this.claims),
      kv,
      tickets: Object.fromEntries(this.tickets),
      outbox,
    };
  }

  // Cursors and small values ----------------------------------------------------------------------------------

  getCursor(name: string): string | null {
    return this.cursors.get(name) ?? null;
  }

  setCursor(name: string, value: string): void {
    this.cursors.set(name, value);
    this.onChange?.({ t: 'cursor', name, value });
  }

  getValue<T>(namespace: string, key: string): T | null {
    const value = this.kv.get(namespace)?.get(key);
    return value === undefined ? null : (copyOf(value) as T);
  }

  setValue(namespace: string, key: string, value: unknown): void {
    const stored = copyOf(value);
    this.valuesOf(namespace).set(key, stored);
    this.onChange?.({ t: 'kv', ns: namespace, key, value: stored });
  }

  private valuesOf(namespace: string): Map<string, unknown> {
    let values = this.kv.get(namespace);
    if (!values) {
      values = new Map();
      this.kv.set(namespace, values);
    }
    return values;
  }

  // Claims ----------------------------------------------------------------------------------------------------

  claimTicket(ticketId: number, claim: TicketClaim): boolean {
    if (this.claims.has(ticketId)) return false;
    this.claims.set(ticketId, copyOf(claim));
    return true;
  }

  pruneClaims(createdBefore: string): number {
    const cutoff = timeOf(createdBefore);
    let pruned = 0;
    for (const [id, claim] of this.claims) {
      if (timeOf(claim.ticketCreatedAt) < cutoff) {
        this.claims.delete(id);
        pruned += 1;
      }
    }
    return pruned;
  }

  // Conversations ---------------------------------------------------------------------------------------------

  hasTicket(ticketId: number): boolean {
    return this.tickets.has(ticketId);
  }

  /** A copy of the stored record, or undefined when the hot state does not hold the ticket. */
  getConversation(ticketId: number): ConversationRecord | null | undefined {
    const ticket = this.tickets.get(ticketId);
    if (!ticket) return undefined;
    return ticket.record ? copyOf(ticket.record) : null;
  }

  /** Brings a ticket back from the archive so it can be updated. */
  adopt(cold: ColdTicket): void {
    if (this.tickets.has(cold.ticketId)) return;
    // Not a change: the archive holds it. If the update that follows changes nothing, it leaves again.
    this.putTicket(cold.ticketId, { record: cold.record, lastSeq: cold.lastSeq });
  }

  /**
   * The atomic read-modify-write: runs `change` on a copy of the current record, then stores the new record
   * (version + 1) and queues the comments with the next seqs. Nothing changes if `change` throws.
   */
  update<T>(
    ticketId: number,
    change: (current: ConversationRecord | null) => Mutation<T>,
    now: () => string,
  ): T {
    const current = this.tickets.get(ticketId);
    const mutation = change(current?.record ? copyOf(current.record) : null);
    const comments = mutation.comments ?? [];
    if (mutation.conversation === undefined && comments.length === 0) return mutation.result;

    if (mutation.conversation && mutation.conversation.ticketId !== ticketId) {
      throw new StoreUsageError(
        `update of ticket ${ticketId} returned the record of ticket ${mutation.conversation.ticketId}`,
      );
    }
    const previous = current?.record ?? null;
    let record = previous;
    if (mutation.conversation) {
      record = copyOf(mutation.conversation);
      record.version = (previous?.version ?? 0) + 1;
    }
    let lastSeq = current?.lastSeq ?? 0;
    const createdAt = now();
    const queued: OutboxEntry[] = comments.map((comment) => {
      lastSeq += 1;
      return {
        id: randomUUID(),
        ticketId,
        seq: lastSeq,
        comment: copyOf(comment),
        createdAt,
        attempts: 0,
        nextAttemptAt: createdAt,
        lastError: null,
      };
    });
    const ticket: HotTicket = { record, lastSeq };
    this.putTicket(ticketId, ticket);
    this.onChange?.({ t: 'ticket', id: ticketId, ticket });
    for (const entry of queued) {
      this.enqueue(entry);
      this.onChange?.({ t: 'queue', entry });
    }
    this.revision += 1;
    return mutation.result;
  }

  findLiveByUser(userId: string): ConversationRecord[] {
    const ids = this.liveByUser.get(userId);
    if (!ids) return [];
    return [...ids]
      .map((id) => this.tickets.get(id)?.record)
      .filter((r): r is ConversationRecord => r != null)
      .sort((a, b) => timeOf(a.createdAt) - timeOf(b.createdAt) || a.ticketId - b.ticketId)
      .map(copyOf);
  }

  findByThread(threadId: string): ConversationRecord | null {
    const id = this.liveByThread.get(normalizeThreadId(threadId));
    const record = id === undefined ? null : this.tickets.get(id)?.record;
    return record ? copyOf(record) : null;
  }

  listLive(): ConversationRecord[] {
    return this.liveRecords().map(copyOf);
  }

  /**
   * Live records oldest first, not copied (callers copy what they return; the records themselves are never
   * changed in place). Sorted on times parsed once each: this runs on every engine tick over every live one.
   */
  liveRecords(): ConversationRecord[] {
    const live: Array<{ at: number; record: ConversationRecord }> = [];
    for (const { record } of this.tickets.values()) {
      if (record && isLive(record.state)) live.push({ at: timeOf(record.createdAt), record });
    }
    live.sort((a, b) => a.at - b.at || a.record.ticketId - b.record.ticketId);
    return live.map(({ record }) => record);
  }

  /** Ended records held here (not copied: callers sort and copy what they return). */
  endedRecords(): ConversationRecord[] {
    const ended: ConversationRecord[] = [];
    for (const { record } of this.tickets.values()) {
      if (record && !isLive(record.state)) ended.push(record);
    }
    return ended;
  }

  /** Deletes ended conversations that ended before `cutoffMs`; returns their ticket ids. */
  deleteEndedBefore(cutoffMs: number): number[] {
    const deleted: number[] = [];
    for (const [id, { record }] of this.tickets) {
      if (record && !isLive(record.state) && timeOf(endedAtOf(record)) < cutoffMs) {
        const ticket: HotTicket = { record: null, lastSeq: this.tickets.get(id)?.lastSeq ?? 0 };
        this.putTicket(id, ticket);
        this.onChange?.({ t: 'ticket', id, ticket });
        deleted.push(id);
      }
    }
    return deleted;
  }

  /**
   * Tickets the hot state no longer needs: not live and with no comment waiting for delivery. Looks only at
   * tickets that changed or whose outbox emptied since the last call (every ticket after a load), so the cost
   * follows the changes, not the number of live conversations.
   */
  archivable(): ColdTicket[] {
    const cold: ColdTicket[] = [];
    for (const ticketId of this.settling) {
      const ticket = this.tickets.get(ticketId);
      if (!ticket) continue;
      const { record, lastSeq } = ticket;
      // Ended with nothing left to deliver: no Atera comment, no message for the user's chat.
      const settled = record === null || (!isLive(record.state) && !record.chatOutbox?.length);
      if (settled && !this.outbox.has(ticketId)) {
        cold.push({ ticketId, record, lastSeq });
      }
    }
    this.settling.clear();
    return cold;
  }

  /** Looks at these tickets again on the next `archivable()` (their archiving failed). */
  reconsider(ticketIds: readonly number[]): void {
    for (const id of ticketIds) this.settling.add(id);
  }

  /** Drops a ticket that was archived, unless it changed since (then the hot copy stays and wins). */
  release(cold: ColdTicket): boolean {
    const ticket = this.tickets.get(cold.ticketId);
    if (!ticket || ticket.record !== cold.record || ticket.lastSeq !== cold.lastSeq) return false;
    if (this.outbox.has(cold.ticketId)) return false;
    this.unindex(cold.ticketId, ticket.record);
    this.tickets.delete(cold.ticketId);
    this.onChange?.({ t: 'drop', id: cold.ticketId });
    return true;
  }

  // Outbox ----------------------------------------------------------------------------------------------------

  dueComments(now: string, limit: number, leaseMs: number): OutboxEntry[] {
    const nowMs = timeOf(now);
    const due: OutboxEntry[] = [];
    for (const queue of this.outbox.values()) {
      const head = queue[0];
      if (!head || timeOf(head.nextAttemptAt) > nowMs) continue;
      const leasedUntil = this.leases.get(head.id);
      if (leasedUntil !== undefined && leasedUntil > nowMs) continue;
      due.push(head);
    }
    due.sort((a, b) => timeOf(a.createdAt) - timeOf(b.createdAt) || a.ticketId - b.ticketId || a.seq - b.seq);
    const picked = due.slice(0, Math.max(0, limit));
    for (const entry of picked) this.leases.set(entry.id, nowMs + leaseMs);
    return picked.map(copyOf);
  }

  /**
   * Makes every pending entry due at `now` at the latest; returns how many were moved. For a store that one
   * process owns, at open: the process that scheduled them is gone, so an attempt it had in flight (scheduled a
   * lease ahead) must not wait for that lease. The outbox reads such an entry back before posting it again.
   */
  dueNow(now: string): number {
    const nowMs = timeOf(now);
    let moved = 0;
    for (const entry of this.entries.values()) {
      if (timeOf(entry.nextAttemptAt) > nowMs) {
        entry.nextAttemptAt = now;
        moved += 1;
      }
    }
    return moved;
  }

  /** One ticket's pending entries in seq order, at most `limit` (leases untouched). */
  pendingComments(ticketId: number, limit: number): OutboxEntry[] {
    return (this.outbox.get(ticketId) ?? []).slice(0, Math.max(0, limit)).map(copyOf);
  }

  /** Removes a delivered entry; false when it was not pending (already delivered, or unknown). */
  markDelivered(entryId: string): boolean {
    if (!this.removeEntry(entryId)) return false;
    this.onChange?.({ t: 'delivered', id: entryId });
    return true;
  }

  markFailed(entryId: string, error: string, nextAttemptAt: string): boolean {
    const entry = this.entries.get(entryId);
    if (!entry) return false;
    entry.attempts += 1;
    entry.lastError = error;
    entry.nextAttemptAt = nextAttemptAt;
    this.leases.delete(entryId);
    this.onChange?.({ t: 'queue', entry: { ...entry } });
    return true;
  }

  outboxStats(): { depth: number; oldestCreatedAt: string | null } {
    let oldest: string | null = null;
    for (const entry of this.entries.values()) {
      if (oldest === null || timeOf(entry.createdAt) < timeOf(oldest)) oldest = entry.createdAt;
    }
    return { depth: this.entries.size, oldestCreatedAt: oldest };
  }

  // Internals -------------------------------------------------------------------------------------------------

  private putTicket(ticketId: number, ticket: HotTicket): void {
    const previous = this.tickets.get(ticketId);
    if (previous) this.unindex(ticketId, previous.record);
    this.tickets.set(ticketId, ticket);
    this.settling.add(ticketId);
    const record = ticket.record;
    if (!record || !isLive(record.state)) return;
    if (record.user) {
      let ids = this.liveByUser.get(record.user.id);
      if (!ids) {
        ids = new Set();
        this.liveByUser.set(record.user.id, ids);
      }
      ids.add(ticketId);
    }
    if (record.thread) this.liveByThread.set(normalizeThreadId(record.thread.threadId), ticketId);
  }

  private unindex(ticketId: number, record: ConversationRecord | null): void {
    if (!record) return;
    if (record.user) {
      const ids = this.liveByUser.get(record.user.id);
      ids?.delete(ticketId);
      if (ids && ids.size === 0) this.liveByUser.delete(record.user.id);
    }
    if (record.thread) {
      const key = normalizeThreadId(record.thread.threadId);
      if (this.liveByThread.get(key) === ticketId) this.liveByThread.delete(key);
    }
  }

  /** Adds a pending entry, or replaces the pending entry with the same id. */
  private enqueue(entry: OutboxEntry): void {
    let queue = this.outbox.get(entry.ticketId);
    if (!queue) {
      queue = [];
      this.outbox.set(entry.ticketId, queue);
    }
    const at = this.entries.has(entry.id) ? queue.findIndex((e) => e.id === entry.id) : -1;
    if (at === -1) {
      queue.push(entry);
      if (queue.length > 1 && queue[queue.length - 2]!.seq > entry.seq) queue.sort((a, b) => a.seq - b.seq);
    } else {
      queue[at] = entry;
    }
    this.entries.set(entry.id, entry);
  }

  private removeEntry(entryId: string): boolean {
    const entry = this.entries.get(entryId);
    if (!entry) return false;
    this.entries.delete(entryId);
    this.leases.delete(entryId);
    const queue = this.outbox.get(entry.ticketId) ?? [];
    const rest = queue.filter((e) => e.id !== entryId);
    if (rest.length === 0) {
      this.outbox.delete(entry.ticketId);
      this.settling.add(entry.ticketId);
    } else this.outbox.set(entry.ticketId, rest);
    return true;
  }
}
