/**
 * The ConversationStore over three folders of small JSON documents (see document-folder.ts):
 *
 *   conversations/<ticketId>       a conversation with work left: its record, last comment seq, undelivered comments
 *   archive/<ticketId>-<ended ms>  an ended conversation with nothing left to deliver (same shape, empty outbox)
 *   values/<hash>                  one claim, cursor or small value: { ns, key, value }
 *
 * A change writes the one document it concerns (its changed fields; each undelivered comment is a field of its
 * own, see TicketFile), so a turn costs what it changed, however many tickets were stored before. Memory follows the disk: a change is made in memory only after its document was
 * written, so a failed write leaves readers seeing what the disk holds. Changes to one document run one at a time
 * in call order (a queue per document); changes to different documents run side by side. Reading one document
 * (`getConversation`, `getValue`) waits for the changes already asked of it, so a caller reads what it wrote.
 *
 * Opening reads every document of `conversations/` and `values/`, and only the names of `archive/`; an archived
 * conversation is read from its file when asked for. A conversation in `conversations/` wins over an archived copy
 * (a crash between writing one and removing the other leaves both).
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  isLive,
  type ConversationRecord,
  type ConversationStore,
  type Mutation,
  type OutboxEntry,
  type TicketClaim,
} from '../../ports/conversation-store.js';
import { silentLog, type Log } from '../../ports/log.js';
import { endedAtOf, newestEnded, normalizeThreadId, timeOf } from './conversation-record-fields.js';
import type { DocumentFolder } from './document-folder.js';
import { asStoreError, StoreClosedError, StoreUsageError } from './store-errors.js';

export interface StoreFolders {
  conversations: DocumentFolder;
  archive: DocumentFolder;
  values: DocumentFolder;
}

/** One conversation's document. */
export interface TicketDocument {
  ticketId: number;
  /** Null when only comments were queued for the ticket, or retention deleted the conversation. */
  record: ConversationRecord | null;
  /** The seq of the last comment queued. */
  lastSeq: number;
  /** Comments not delivered yet, in seq order. */
  outbox: OutboxEntry[];
}

/**
 * A conversation's document as its file holds it: each undelivered comment is a field of its own
 * (`comment <seq>`), so recording a delivery removes one small field instead of rewriting the outbox.
 */
export type TicketFile = Omit<TicketDocument, 'outbox'> & { [comment: `comment ${number}`]: OutboxEntry };

export function ticketFileOf(doc: TicketDocument): TicketFile {
  const file: TicketFile = { ticketId: doc.ticketId, record: doc.record, lastSeq: doc.lastSeq };
  for (const entry of doc.outbox) file[`comment ${entry.seq}`] = entry;
  return file;
}

export function ticketDocumentOf(file: TicketFile): TicketDocument {
  const outbox: OutboxEntry[] = [];
  for (const [key, value] of Object.entries(file)) {
    if (key.startsWith('comment ')) outbox.push(value as OutboxEntry);
  }
  outbox.sort((a, b) => a.seq - b.seq);
  return { ticketId: file.ticketId, record: file.record, lastSeq: file.lastSeq, outbox };
}

interface ValueDocument {
  ns: string;
  key: string;
  value: unknown;
}

interface ArchiveEntry {
  name: string;
  endedAtMs: number;
}

/** The store's own namespaces among the values. */
export const CLAIMS = 'ticketzero-store:claims';
export const CURSORS = 'ticketzero-store:cursors';
const ARCHIVE_NAME = /^(\d+)-(\d+)$/;
/** Live records copied per event-loop turn by listLive; documents read at a time when opening. */
const SLICE = 100;

export function copyOf<T>(value: T): T {
  return structuredClone(value);
}

export interface DocumentStoreOptions {
  log?: Log;
  /**
   * The process that scheduled the stored comments is gone (one process owns a lowdb folder): make every pending
   * comment due now, so an attempt it had in flight does not wait for its lease. The outbox reads such an entry
   * back from Atera before posting it again, so this never doubles a comment.
   */
  releaseSchedules?: boolean;
}

export type DocumentConversationStore = ConversationStore & {
  /** Refuses every call from now on (the lowdb folder's lock was lost). */
  fail(error: Error): void;
  /** Runs after the last write, when the store closes (releases the lowdb folder's lock). */
  onClose: (() => Promise<void>) | null;
};

/** The store over folders holding what an earlier one wrote (read when opening). */
export async function openDocumentStore(
  folders: StoreFolders,
  options: DocumentStoreOptions = {},
): Promise<DocumentConversationStore> {
  const store = new DocumentStore(folders, (options.log ?? silentLog).child({ component: 'store' }));
  await store.load(options.releaseSchedules ?? false);
  return store;
}

/** The store over folders that are empty (nothing to read first). */
export function createDocumentStore(
  folders: StoreFolders,
  options: { log?: Log } = {},
): DocumentConversationStore {
  return new DocumentStore(folders, (options.log ?? silentLog).child({ component: 'store' }));
}

class DocumentStore implements DocumentConversationStore {
  onClose: (() => Promise<void>) | null = null;
  private readonly live = new Map<number, TicketDocument>();
  private readonly archived = new Map<number, ArchiveEntry>();
  private readonly liveByUser = new Map<string, Set<number>>();
  private readonly liveByThread = new Map<string, number>();
  /** Tickets with undelivered comments, and the ticket of each undelivered comment. */
  private readonly withOutbox = new Set<number>();
  private readonly entryTicket = new Map<string, number>();
  /** In-process leases (entry id → until, ms). A restart drops them, which is right: their holder died. */
  private readonly leases = new Map<string, number>();
  private readonly claims = new Map<number, TicketClaim>();
  private readonly values = new Map<string, unknown>();
  /** The tail of each document's queue of changes. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closing: Promise<void> | null = null;
  private failure: Error | null = null;

  constructor(
    private readonly folders: StoreFolders,
    private readonly log: Log,
  ) {}

  async load(releaseSchedules: boolean): Promise<void> {
    for (const name of await this.folders.archive.names()) {
      const match = ARCHIVE_NAME.exec(name);
      if (!match) continue;
      const ticketId = Number(match[1]);
      const entry = { name, endedAtMs: Number(match[2]) };
      const other = this.archived.get(ticketId);
      if (other && other.endedAtMs > entry.endedAtMs) await this.folders.archive.remove(name);
      else {
        if (other) await this.folders.archive.remove(other.name);
        this.archived.set(ticketId, entry);
      }
    }
    const now = new Date().toISOString();
    let released = 0;
    for (const file of await readAll<TicketFile>(this.folders.conversations)) {
      const doc = ticketDocumentOf(file);
      if (releaseSchedules) {
        doc.outbox = doc.outbox.map((entry) => {
          if (timeOf(entry.nextAttemptAt) <= Date.parse(now)) return entry;
          released += 1;
          return { ...entry, nextAttemptAt: now };
        });
      }
      this.put(doc);
      const superseded = this.archived.get(doc.ticketId);
      if (superseded) await this.unarchive(doc.ticketId, superseded);
    }
    if (released > 0) this.log.info({ released }, 'pending comments due again after a restart');
    // Ended with nothing left to deliver, but not archived yet when the last process stopped.
    for (const doc of [...this.live.values()]) await this.settle(doc);
    for (const doc of await readAll<ValueDocument>(this.folders.values)) {
      if (doc.ns === CLAIMS) this.claims.set(Number(doc.key), doc.value as TicketClaim);
      else this.values.set(valueKey(doc.ns, doc.key), doc.value);
    }
  }

  fail(error: Error): void {
    this.failure ??= error;
  }

  // Cursors, small values and claims --------------------------------------------------------------------------

  async getCursor(name: string): Promise<string | null> {
    return this.getValue<string>(CURSORS, name);
  }

  async setCursor(name: string, value: string): Promise<void> {
    await this.setValue(CURSORS, name, value);
  }

  async getValue<T>(namespace: string, key: string): Promise<T | null> {
    this.usable();
    const id = valueKey(namespace, key);
    await this.queues.get(`v${id}`);
    const value = this.values.get(id);
    return value === undefined ? null : (copyOf(value) as T);
  }

  async setValue<T>(namespace: string, key: string, value: T): Promise<void> {
    this.usable();
    const stored = copyOf(value);
    const id = valueKey(namespace, key);
    await this.exclusive(`v${id}`, async () => {
      await this.writeValue({ ns: namespace, key, value: stored });
      this.values.set(id, stored);
    });
  }

  async claimTicket(ticketId: number, claim: TicketClaim): Promise<boolean> {
    this.usable();
    const stored = copyOf(claim);
    return this.exclusive(`c${ticketId}`, async () => {
      if (this.claims.has(ticketId)) return false;
      await this.writeValue({ ns: CLAIMS, key: String(ticketId), value: stored });
      this.claims.set(ticketId, stored);
      return true;
    });
  }

  async pruneClaims(createdBefore: string): Promise<number> {
    this.usable();
    const cutoff = timeOf(createdBefore);
    const expired = [...this.claims].filter(([, claim]) => timeOf(claim.ticketCreatedAt) < cutoff);
    const pruned = await Promise.all(
      expired.map(([ticketId, claim]) =>
        this.exclusive(`c${ticketId}`, async () => {
          if (this.claims.get(ticketId) !== claim) return false;
          await this.guard('cannot delete a claim', () =>
            this.folders.values.remove(valueName(CLAIMS, String(ticketId))),
          );
          this.claims.delete(ticketId);
          return true;
        }),
      ),
    );
    return pruned.filter(Boolean).length;
  }

  // Conversations ---------------------------------------------------------------------------------------------

  async getConversation(ticketId: number): Promise<ConversationRecord | null> {
    this.usable();
    await this.queues.get(`t${ticketId}`);
    const hot = this.live.get(ticketId);
    if (hot) return hot.record && copyOf(hot.record);
    const entry = this.archived.get(ticketId);
    if (!entry) return null;
    // A fresh copy from the file; null when retention deleted it meanwhile (or the live copy, if it came back).
    const doc = await this.readArchived(entry);
    return doc?.record ?? this.live.get(ticketId)?.record ?? null;
  }

  async findLiveByUser(userId: string): Promise<ConversationRecord[]> {
    this.usable();
    return oldestFirst([...(this.liveByUser.get(userId) ?? [])].map((id) => this.live.get(id)!.record!)).map(
      copyOf,
    );
  }

  async findByThread(threadId: string): Promise<ConversationRecord | null> {
    this.usable();
    const id = this.liveByThread.get(normalizeThreadId(threadId));
    const record = id === undefined ? null : this.live.get(id)?.record;
    return record ? copyOf(record) : null;
  }

  async listLive(): Promise<ConversationRecord[]> {
    this.usable();
    const live: ConversationRecord[] = [];
    for (const { record } of this.live.values()) if (record && isLive(record.state)) live.push(record);
    // Copied a slice at a time with the event loop free in between: with thousands of live conversations,
    // copying them all at once on every engine tick stalled every turn in flight.
    const copies: ConversationRecord[] = [];
    const sorted = oldestFirst(live);
    for (let start = 0; start < sorted.length; start += SLICE) {
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      for (const record of sorted.slice(start, start + SLICE)) copies.push(copyOf(record));
    }
    return copies;
  }

  async listEnded(options: { limit: number; since?: string }): Promise<ConversationRecord[]> {
    this.usable();
    const sinceMs = options.since === undefined ? -Infinity : timeOf(options.since);
    const hot: ConversationRecord[] = [];
    for (const { record } of this.live.values())
      if (record && !isLive(record.state)) hot.push(copyOf(record));
    const newestArchived = [...this.archived]
      .filter(([id, entry]) => !this.live.has(id) && entry.endedAtMs >= sinceMs)
      .sort(([ida, a], [idb, b]) => b.endedAtMs - a.endedAtMs || idb - ida)
      .slice(0, Math.max(0, options.limit));
    const cold: ConversationRecord[] = [];
    for (const [, entry] of newestArchived) {
      const record = (await this.readArchived(entry))?.record;
      if (record) cold.push(record);
    }
    return newestEnded([...hot, ...cold], options.limit, options.since);
  }

  async update<T>(ticketId: number, change: (current: ConversationRecord | null) => Mutation<T>): Promise<T> {
    this.usable();
    return this.exclusive(`t${ticketId}`, async () => {
      const archived = this.live.has(ticketId) ? undefined : this.archived.get(ticketId);
      const current = this.live.get(ticketId) ?? (archived ? await this.readArchived(archived) : null);
      const mutation = change(current?.record ? copyOf(current.record) : null);
      const comments = mutation.comments ?? [];
      if (mutation.conversation === undefined && comments.length === 0) return mutation.result;
      if (mutation.conversation && mutation.conversation.ticketId !== ticketId) {
        throw new StoreUsageError(
          `update of ticket ${ticketId} returned the record of ticket ${mutation.conversation.ticketId}`,
        );
      }
      let record = current?.record ?? null;
      if (mutation.conversation) {
        record = { ...copyOf(mutation.conversation), version: (record?.version ?? 0) + 1 };
      }
      let lastSeq = current?.lastSeq ?? 0;
      const createdAt = new Date().toISOString();
      const queued = comments.map((comment): OutboxEntry => {
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
      const next = { ticketId, record, lastSeq, outbox: [...(current?.outbox ?? []), ...queued] };
      await this.commit(next);
      if (archived) await this.unarchive(ticketId, archived);
      await this.settle(next);
      return mutation.result;
    });
  }

  async deleteEndedBefore(endedBefore: string): Promise<number> {
    this.usable();
    const cutoff = timeOf(endedBefore);
    const expired = (record: ConversationRecord | null) =>
      record !== null && !isLive(record.state) && timeOf(endedAtOf(record)) < cutoff;
    const deleted = new Set<number>();
    for (const ticketId of [...this.live.keys()]) {
      await this.exclusive(`t${ticketId}`, async () => {
        const doc = this.live.get(ticketId);
        if (!doc || !expired(doc.record)) return;
        // Comments or chat messages are still to be delivered: the conversation goes, the outbox stays.
        const next = { ...doc, record: null };
        await this.commit(next);
        await this.settle(next);
        deleted.add(ticketId);
      });
    }
    for (const [ticketId, entry] of [...this.archived]) {
      if (entry.endedAtMs >= cutoff) continue;
      await this.exclusive(`t${ticketId}`, async () => {
        if (this.archived.get(ticketId) !== entry || this.live.has(ticketId)) return;
        await this.guard('cannot delete an archived conversation', () =>
          this.folders.archive.remove(entry.name),
        );
        this.archived.delete(ticketId);
        deleted.add(ticketId);
      });
    }
    return deleted.size;
  }

  // The comment outbox ----------------------------------------------------------------------------------------

  async dueComments(now: string, limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    this.usable();
    const nowMs = timeOf(now);
    const due: OutboxEntry[] = [];
    for (const ticketId of this.withOutbox) {
      const head = this.live.get(ticketId)!.outbox[0]!;
      if (timeOf(head.nextAttemptAt) > nowMs) continue;
      const leasedUntil = this.leases.get(head.id);
      if (leasedUntil !== undefined && leasedUntil > nowMs) continue;
      due.push(head);
    }
    due.sort((a, b) => timeOf(a.createdAt) - timeOf(b.createdAt) || a.ticketId - b.ticketId);
    const picked = due.slice(0, Math.max(0, limit));
    for (const entry of picked) this.leases.set(entry.id, nowMs + leaseMs);
    return picked.map(copyOf);
  }

  async pendingComments(ticketId: number, limit: number): Promise<OutboxEntry[]> {
    this.usable();
    await this.queues.get(`t${ticketId}`);
    const outbox = this.live.get(ticketId)?.outbox ?? [];
    return outbox.slice(0, Math.max(0, limit)).map(copyOf);
  }

  async markDelivered(...entryIds: string[]): Promise<void> {
    this.usable();
    // One write per ticket's document (a folded comment's entries are one ticket's: one write in all).
    const byTicket = new Map<number, Set<string>>();
    for (const id of entryIds) {
      const ticketId = this.entryTicket.get(id);
      if (ticketId === undefined) continue;
      byTicket.set(ticketId, (byTicket.get(ticketId) ?? new Set()).add(id));
    }
    await Promise.all(
      [...byTicket].map(([ticketId, ids]) =>
        this.exclusive(`t${ticketId}`, async () => {
          const doc = this.live.get(ticketId);
          if (!doc || !doc.outbox.some((e) => ids.has(e.id))) return;
          const changed = { ...doc, outbox: doc.outbox.filter((e) => !ids.has(e.id)) };
          await this.commit(changed);
          for (const id of ids) this.leases.delete(id);
          await this.settle(changed);
        }),
      ),
    );
  }

  async markFailed(entryId: string, error: string, nextAttemptAt: string): Promise<void> {
    await this.changeEntry(entryId, (entry) => ({
      ...entry,
      attempts: entry.attempts + 1,
      lastError: error,
      nextAttemptAt,
    }));
  }

  async outboxStats(): Promise<{ depth: number; oldestCreatedAt: string | null }> {
    this.usable();
    let depth = 0;
    let oldest: string | null = null;
    for (const ticketId of this.withOutbox) {
      for (const entry of this.live.get(ticketId)!.outbox) {
        depth += 1;
        if (oldest === null || timeOf(entry.createdAt) < timeOf(oldest)) oldest = entry.createdAt;
      }
    }
    return { depth, oldestCreatedAt: oldest };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.state = 'closing';
      // Changes already asked for are written; new calls are refused.
      while (this.queues.size > 0) await Promise.all(this.queues.values());
      this.state = 'closed';
      await this.onClose?.();
    })();
    return this.closing;
  }

  // Internals -------------------------------------------------------------------------------------------------

  /** Replaces (`next`) or removes (null) an undelivered comment, in its conversation's document. */
  private async changeEntry(
    entryId: string,
    next: (entry: OutboxEntry) => OutboxEntry | null,
  ): Promise<void> {
    this.usable();
    const ticketId = this.entryTicket.get(entryId);
    if (ticketId === undefined) return;
    await this.exclusive(`t${ticketId}`, async () => {
      const doc = this.live.get(ticketId);
      const entry = doc?.outbox.find((e) => e.id === entryId);
      if (!doc || !entry) return;
      const replacement = next(entry);
      const outbox = doc.outbox.flatMap((e) => (e !== entry ? [e] : replacement ? [replacement] : []));
      const changed = { ...doc, outbox };
      await this.commit(changed);
      this.leases.delete(entryId);
      await this.settle(changed);
    });
  }

  /** Writes the conversation's document, then (only then) holds it in memory. */
  private async commit(doc: TicketDocument): Promise<void> {
    await this.guard(`cannot write the conversation of ticket ${doc.ticketId}`, () =>
      this.folders.conversations.write(String(doc.ticketId), ticketFileOf(doc)),
    );
    this.put(doc);
  }

  /** Moves a conversation that ended with nothing left to deliver to the archive (or drops an empty one). */
  private async settle(doc: TicketDocument): Promise<void> {
    const { ticketId, record } = doc;
    if (doc.outbox.length > 0 || (record && (isLive(record.state) || record.chatOutbox?.length))) return;
    try {
      if (record) {
        const entry = { name: archiveName(ticketId, record), endedAtMs: timeOf(endedAtOf(record)) };
        await this.folders.conversations.moveTo(String(ticketId), this.folders.archive, entry.name);
        this.archived.set(ticketId, entry);
      } else {
        await this.folders.conversations.remove(String(ticketId));
      }
      this.unindex(doc);
      this.live.delete(ticketId);
    } catch (error) {
      // It stays with the live conversations, where it is found as well; the next open archives it.
      this.log.warn({ err: error, ticketId }, 'ended conversation not archived');
    }
  }

  /** Removes the archived copy of a conversation that is live again. */
  private async unarchive(ticketId: number, entry: ArchiveEntry): Promise<void> {
    try {
      await this.folders.archive.remove(entry.name);
      this.archived.delete(ticketId);
    } catch (error) {
      // The live document wins over the archived one; the next open removes it.
      this.log.warn({ err: error, ticketId }, 'archived copy not removed');
    }
  }

  private async readArchived(entry: ArchiveEntry): Promise<TicketDocument | null> {
    const file = await this.guard('cannot read the archive', () =>
      this.folders.archive.read<TicketFile>(entry.name),
    );
    return file && ticketDocumentOf(file);
  }

  private async writeValue(doc: ValueDocument): Promise<void> {
    await this.guard('cannot write a value', () =>
      this.folders.values.write(valueName(doc.ns, doc.key), doc),
    );
  }

  private put(doc: TicketDocument): void {
    const previous = this.live.get(doc.ticketId);
    if (previous) this.unindex(previous);
    this.live.set(doc.ticketId, doc);
    const { record } = doc;
    if (record && isLive(record.state)) {
      if (record.user) {
        const ids = this.liveByUser.get(record.user.id) ?? new Set();
        this.liveByUser.set(record.user.id, ids.add(doc.ticketId));
      }
      if (record.thread) this.liveByThread.set(normalizeThreadId(record.thread.threadId), doc.ticketId);
    }
    if (doc.outbox.length > 0) this.withOutbox.add(doc.ticketId);
    for (const entry of doc.outbox) this.entryTicket.set(entry.id, doc.ticketId);
  }

  private unindex(doc: TicketDocument): void {
    const { record, ticketId } = doc;
    if (record?.user) {
      const ids = this.liveByUser.get(record.user.id);
      ids?.delete(ticketId);
      if (ids?.size === 0) this.liveByUser.delete(record.user.id);
    }
    if (record?.thread) {
      const key = normalizeThreadId(record.thread.threadId);
      if (this.liveByThread.get(key) === ticketId) this.liveByThread.delete(key);
    }
    this.withOutbox.delete(ticketId);
    for (const entry of doc.outbox) this.entryTicket.delete(entry.id);
  }

  /** Runs `work` after every change queued before for the same document. */
  private exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(key) ?? Promise.resolve()).then(work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  private async guard<T>(failure: string, io: () => Promise<T>): Promise<T> {
    try {
      return await io();
    } catch (error) {
      this.log.error({ err: error }, failure);
      throw asStoreError(failure, error);
    }
  }

  private usable(): void {
    if (this.failure) throw this.failure;
    if (this.state !== 'open') throw new StoreClosedError('the store is closed');
  }
}

function valueKey(namespace: string, key: string): string {
  return `${namespace}\u0000${key}`;
}

/** A value's document name: a hash, as keys are free text (thread ids, conversation ids) of any length. */
export function valueName(namespace: string, key: string): string {
  return createHash('sha256').update(valueKey(namespace, key)).digest('hex').slice(0, 32);
}

/** An archived conversation's document name: its ticket and when it ended (so listing the folder sorts them). */
export function archiveName(ticketId: number, record: ConversationRecord): string {
  return `${ticketId}-${timeOf(endedAtOf(record))}`;
}

function oldestFirst(records: ConversationRecord[]): ConversationRecord[] {
  return records
    .map((record) => ({ at: timeOf(record.createdAt), record }))
    .sort((a, b) => a.at - b.at || a.record.ticketId - b.record.ticketId)
    .map(({ record }) => record);
}

/** Every document of the folder, read a slice at a time. */
async function readAll<T extends object>(folder: DocumentFolder): Promise<T[]> {
  const names = await folder.names();
  const documents: T[] = [];
  for (let start = 0; start < names.length; start += SLICE) {
    const slice = await Promise.all(names.slice(start, start + SLICE).map((name) => folder.read<T>(name)));
    for (const doc of slice) if (doc !== null) documents.push(doc);
  }
  return documents;
}
