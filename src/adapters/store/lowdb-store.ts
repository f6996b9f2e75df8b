/**
 * The embedded ConversationStore (the default), in files under the data directory:
 * - the live work — live conversations, comments not yet delivered, cursors, small values — as a lowdb JSON
 *   document (`ticketzero.json`, the snapshot) plus a journal of every change since it (store-journal.ts);
 * - an append-only archive of ended conversations (conversation-archive.ts);
 * - an append-only log of ticket claims (claims-log.ts).
 *
 * Durability: every change is applied in memory (atomically: the change function is synchronous) and the
 * promise of the call that made it resolves only once a journal append holding it has been fdatasynced.
 * Group commit: the changes made while one append is in flight are appended together by the next, one write and
 * one fdatasync for all of them. A turn therefore writes the conversation it changed and its outbox entries, an
 * amount independent of how many conversations are live or were ever stored. When the journal has grown past
 * a threshold (and twice the live work's size), the store compacts: it starts the next journal generation and writes
 * a new snapshot atomically (temporary file, fsync, rename, directory fsync) in the background, then deletes the
 * old generation; the cost is amortised over the changes that filled the journal. Opening reads the snapshot
 * with lowdb and replays the journal over it. Conversations that ended with nothing left to deliver move to the
 * archive before the batch that records their leaving.
 *
 * One process owns a data directory at a time (a lock file names it); use PostgreSQL for several instances.
 * Because of that, every comment still pending when the store opens is due at once: whatever the previous
 * process had scheduled (a lease over an attempt in flight, a backoff) ended with it. The outbox reads an entry
 * that was attempted before back from Atera before posting it, so this never doubles a comment.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import type {
  ConversationRecord,
  ConversationStore,
  Mutation,
  OutboxEntry,
  TicketClaim,
} from '../../ports/conversation-store.js';
import { silentLog, type Log } from '../../ports/log.js';
import { newestEnded, timeOf } from './conversation-record-fields.js';
import { ClaimsLog } from './claims-log.js';
import { ConversationArchive } from './conversation-archive.js';
import { DurableJsonFile } from './durable-json-file.js';
import { copyOf, emptySnapshot, HotState, type HotChange, type HotSnapshot } from './hot-state.js';
import { HotStateJson } from './hot-state-json.js';
import { journalFileName, journalGeneration, parseJournal, StoreJournal } from './store-journal.js';
import { asStoreError, StoreClosedError, StoreError } from './store-errors.js';

export interface LowdbStoreOptions {
  dataDir: string;
  /** Archived conversations older than this are deleted when the store opens (and by `deleteEndedBefore`). */
  archiveRetentionDays?: number;
  log?: Log;
  /** fsync files and the directory on every write (default true). Off only for throwaway benchmarks. */
  fsync?: boolean;
  /**
   * Compact (write a new snapshot, start a new journal) once the journal holds more than this many bytes and
   * more than twice what the snapshot would hold (default 4 MiB).
   */
  compactAfterBytes?: number;
}

export const HOT_DOCUMENT = 'ticketzero.json';
const LOCK_FILE = 'ticketzero.lock';
const CLAIMS_FILE = 'claims.jsonl';
const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_COMPACT_AFTER_BYTES = 4 * 1024 * 1024;
/** Live records copied per event-loop turn by listLive. */
const LIST_SLICE = 100;

export interface LowdbStoreStats {
  /** Journal appends (group commits) since open. */
  journalWrites: number;
  /** Bytes appended to the journal since open. */
  journalBytes: number;
  /** Snapshots written since open. */
  compactions: number;
  /** Bytes of snapshots written since open. */
  snapshotBytes: number;
  /** Tickets in the archive. */
  archived: number;
}

export type LowdbConversationStore = ConversationStore & { stats(): LowdbStoreStats };

export async function createLowdbConversationStore(
  options: LowdbStoreOptions,
): Promise<LowdbConversationStore> {
  const log = (options.log ?? silentLog).child({ component: 'lowdb-store' });
  const fsync = options.fsync ?? true;
  try {
    await mkdir(options.dataDir, { recursive: true });
  } catch (error) {
    throw asStoreError(`cannot create the data directory ${options.dataDir}`, error);
  }
  const lockPath = join(options.dataDir, LOCK_FILE);
  await takeDirectoryLock(lockPath);
  try {
    const json = new HotStateJson();
    const file = new DurableJsonFile<HotSnapshot>(join(options.dataDir, HOT_DOCUMENT), {
      fsync,
      serialize: (data) => json.snapshot(data),
    });
    const db = new Low<HotSnapshot>(file, emptySnapshot());
    await db.read();
    const state = HotState.fromSnapshot(db.data);
    const journal = await StoreJournal.open(options.dataDir, db.data.journal ?? 1, { fsync, log }, (change) =>
      state.apply(change),
    );
    // The previous owner of the directory is gone: its leases (an attempt in flight when it was killed) end now.
    const released = state.dueNow(new Date().toISOString());
    if (released > 0) log.info({ released }, 'pending comments due again after a restart');
    const archive = await ConversationArchive.open(join(options.dataDir, 'archive'), { fsync, log });
    const claims = await ClaimsLog.open(join(options.dataDir, CLAIMS_FILE), { fsync, log });
    const store = new LowdbStore(db, file, state, journal, json, archive, claims, lockPath, log, {
      compactAfterBytes: options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES,
    });
    if (options.archiveRetentionDays !== undefined) {
      const cutoff = new Date(Date.now() - options.archiveRetentionDays * DAY_MS).toISOString();
      const deleted = await store.deleteEndedBefore(cutoff);
      if (deleted > 0) log.info({ deleted, cutoff }, 'expired conversations deleted');
    }
    log.info({ dataDir: options.dataDir, archived: archive.size }, 'store opened');
    return store;
  } catch (error) {
    await unlink(lockPath).catch(() => undefined);
    throw asStoreError(`cannot open the store in ${options.dataDir}`, error);
  }
}

/**
 * The live work as the files of `dataDir` hold it now (the snapshot with every complete journal line replayed),
 * read synchronously, without taking the lock or changing a file: for tools and tests that watch a running store
 * from outside. Retries when a compaction replaced the files while they were read.
 */
export function readLowdbState(dataDir: string): HotSnapshot {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const document = readFileIfPresent(join(dataDir, HOT_DOCUMENT));
      const snapshot = document ? (JSON.parse(document.toString('utf8')) as HotSnapshot) : emptySnapshot();
      const state = HotState.fromSnapshot(snapshot);
      const from = snapshot.journal ?? 1;
      const generations = readdirSync(dataDir)
        .map((file) => journalGeneration(file))
        .filter((g): g is number => g !== null && g >= from)
        .sort((a, b) => a - b);
      for (const generation of generations) {
        const file = journalFileName(generation);
        const { changes } = parseJournal(readFileSync(join(dataDir, file)), file);
        for (const change of changes) state.apply(change);
      }
      return state.snapshot();
    } catch (error) {
      const vanished = (error as NodeJS.ErrnoException).code === 'ENOENT';
      if (!vanished || attempt >= 5) throw asStoreError(`cannot read the store in ${dataDir}`, error);
    }
  }
}

function readFileIfPresent(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

class LowdbStore implements LowdbConversationStore {
  /** Waiters for the next journal append, which has not started yet. */
  private next: Deferred | null = null;
  private writing = false;
  private closed = false;
  /** Journal lines of changes made since the last append started. */
  private lines: string[] = [];
  /** The running write loop. */
  private loop: Promise<void> = Promise.resolve();
  /** The snapshot being written, if any. */
  private compaction: Promise<void> | null = null;
  /** Compact at the end of the next write cycle whatever the journal's size (on close). */
  private compactRequested = false;
  /** Approximate size of a snapshot written now: the JSON of every hot ticket and small value. */
  private hotBytes = 0;
  private readonly hotSizes = new Map<string, number>();
  private readonly counters = { journalWrites: 0, journalBytes: 0, compactions: 0, snapshotBytes: 0 };

  constructor(
    private readonly db: Low<HotSnapshot>,
    private readonly file: DurableJsonFile<HotSnapshot>,
    private readonly state: HotState,
    private readonly journal: StoreJournal,
    private readonly json: HotStateJson,
    private readonly archive: ConversationArchive,
    private readonly claims: ClaimsLog,
    private readonly lockPath: string,
    private readonly log: Log,
    private readonly options: { compactAfterBytes: number },
  ) {
    const snapshot = state.snapshot();
    for (const [id, ticket] of Object.entries(snapshot.tickets)) this.sized(`t${id}`, json.of(ticket).length);
    for (const [ns, values] of Object.entries(snapshot.kv)) {
      for (const [key, value] of Object.entries(values))
        this.sized(`k${ns}\u0000${key}`, json.of(value).length);
    }
    state.onChange = (change: HotChange) => {
      const line = json.changeLine(change);
      this.lines.push(`${line}\n`);
      if (change.t === 'ticket') this.sized(`t${change.id}`, line.length);
      else if (change.t === 'drop') this.sized(`t${change.id}`, 0);
      else if (change.t === 'kv') this.sized(`k${change.ns}\u0000${change.key}`, line.length);
    };
  }

  private sized(key: string, bytes: number): void {
    this.hotBytes += bytes - (this.hotSizes.get(key) ?? 0);
    if (bytes === 0) this.hotSizes.delete(key);
    else this.hotSizes.set(key, bytes);
  }

  stats(): LowdbStoreStats {
    return { ...this.counters, archived: this.archive.size };
  }

  async getCursor(name: string): Promise<string | null> {
    return this.open().getCursor(name);
  }

  async setCursor(name: string, value: string): Promise<void> {
    this.open().setCursor(name, value);
    await this.persist();
  }

  async claimTicket(ticketId: number, claim: TicketClaim): Promise<boolean> {
    this.open();
    return this.claims.claim(ticketId, claim);
  }

  async pruneClaims(createdBefore: string): Promise<number> {
    this.open();
    return this.claims.prune(createdBefore);
  }

  async getConversation(ticketId: number): Promise<ConversationRecord | null> {
    const hot = this.open().getConversation(ticketId);
    if (hot !== undefined) return hot;
    const cold = await this.archive.read(ticketId);
    return cold?.record ?? null;
  }

  async findLiveByUser(userId: string): Promise<ConversationRecord[]> {
    return this.open().findLiveByUser(userId);
  }

  async findByThread(threadId: string): Promise<ConversationRecord | null> {
    return this.open().findByThread(threadId);
  }

  async listLive(): Promise<ConversationRecord[]> {
    // The records as they are now (stored records are replaced, never changed in place), copied a slice at a
    // time with the event loop free in between: with thousands of live conversations, copying them all at once
    // on every engine tick stalled every turn in flight for tens of milliseconds.
    const live = this.open().liveRecords();
    const copies: ConversationRecord[] = [];
    for (let start = 0; start < live.length; start += LIST_SLICE) {
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      for (const record of live.slice(start, start + LIST_SLICE)) copies.push(copyOf(record));
    }
    return copies;
  }

  async listEnded(options: { limit: number; since?: string }): Promise<ConversationRecord[]> {
    const state = this.open();
    const hot = newestEnded(state.endedRecords(), options.limit, options.since).map(copyOf);
    const sinceMs = options.since === undefined ? -Infinity : timeOf(options.since);
    const cold = await this.archive.listEnded(options.limit, sinceMs, (id) => state.hasTicket(id));
    return newestEnded([...hot, ...cold], options.limit, options.since);
  }

  async update<T>(ticketId: number, change: (current: ConversationRecord | null) => Mutation<T>): Promise<T> {
    const state = this.open();
    if (!state.hasTicket(ticketId) && this.archive.has(ticketId)) {
      const cold = await this.archive.read(ticketId);
      if (cold) this.open().adopt(cold);
    }
    const before = state.revision;
    const result = this.open().update(ticketId, change, () => new Date().toISOString());
    if (state.revision !== before) await this.persist();
    return result;
  }

  async dueComments(now: string, limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    // Leases live in memory: one process owns a lowdb store, and a restart rightly frees its leases.
    return this.open().dueComments(now, limit, leaseMs);
  }

  async pendingComments(ticketId: number, limit: number): Promise<OutboxEntry[]> {
    return this.open().pendingComments(ticketId, limit);
  }

  async markDelivered(entryId: string): Promise<void> {
    if (this.open().markDelivered(entryId)) await this.persist();
  }

  async markFailed(entryId: string, error: string, nextAttemptAt: string): Promise<void> {
    if (this.open().markFailed(entryId, error, nextAttemptAt)) await this.persist();
  }

  async outboxStats(): Promise<{ depth: number; oldestCreatedAt: string | null }> {
    return this.open().outboxStats();
  }

  async getValue<T>(namespace: string, key: string): Promise<T | null> {
    return this.open().getValue<T>(namespace, key);
  }

  async setValue<T>(namespace: string, key: string, value: T): Promise<void> {
    this.open().setValue(namespace, key, value);
    await this.persist();
  }

  async deleteEndedBefore(endedBefore: string): Promise<number> {
    const state = this.open();
    const cutoff = timeOf(endedBefore);
    const hotDeleted = state.deleteEndedBefore(cutoff);
    // The hot document is written first, so an adopted or deleted ticket is durable before its archive line goes.
    await this.persist();
    const dropped = new Set(hotDeleted);
    const coldDeleted = await this.archive.deleteEndedBefore(
      cutoff,
      (id) => state.hasTicket(id) || dropped.has(id),
    );
    const deleted = new Set([...hotDeleted, ...coldDeleted]).size;
    // Earlier journal lines still hold the deleted transcripts: compact now, so they leave the disk with this call.
    if (deleted > 0) await this.compactNow();
    return deleted;
  }

  /** Writes a snapshot of the state as it is and deletes every older journal generation. */
  private async compactNow(): Promise<void> {
    await this.settle(); // a compaction in flight started its generation before this call's changes
    this.compactRequested = true;
    await this.settle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.settle();
    // A clean stop leaves one snapshot and an empty journal: the next open reads no journal, and superseded
    // lines (old transcript versions, under a key since rotated out) leave the disk.
    if (this.journal.bytes > 0) {
      this.compactRequested = true;
      await this.settle();
    }
    await this.claims.settled().catch(() => undefined);
    this.closed = true;
    await this.journal.close().catch((error: unknown) => {
      this.log.warn({ err: error }, 'journal not closed');
    });
    await unlink(this.lockPath).catch((error: unknown) => {
      this.log.warn({ err: error }, 'store lock file not removed');
    });
  }

  // Group commit ----------------------------------------------------------------------------------------------

  /** Resolves once a write that started after this call has completed. */
  private persist(): Promise<void> {
    if (!this.next) {
      this.next = deferred();
      if (!this.writing) {
        this.writing = true;
        this.loop = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.writeLoop());
      }
    }
    return this.next.promise;
  }

  /** Appends what is pending and waits for the write loop and any compaction to finish. */
  private async settle(): Promise<void> {
    await this.persist().catch(() => undefined);
    await this.loop;
    await this.compaction;
  }

  private async writeLoop(): Promise<void> {
    while (this.next) {
      const batch = this.next;
      this.next = null;
      try {
        await this.writeOnce();
        batch.resolve();
      } catch (error) {
        this.log.error({ err: error }, 'store write failed');
        batch.reject(asStoreError('the store could not write its journal', error));
      }
      if (this.shouldCompact()) {
        try {
          await this.startCompaction();
        } catch (error) {
          this.log.error({ err: error }, 'store compaction failed to start');
        }
      }
    }
    this.writing = false;
  }

  /** Archives what may leave the hot state, then appends every change made so far in one write and fdatasync. */
  private async writeOnce(): Promise<void> {
    // Ended tickets with nothing left to deliver go to the archive before the journal records that they left.
    const leaving = this.state.archivable();
    if (leaving.length > 0) {
      try {
        await this.archive.append(leaving, new Date());
      } catch (error) {
        this.state.reconsider(leaving.map((cold) => cold.ticketId));
        throw error;
      }
      for (const cold of leaving) this.state.release(cold);
    }
    const lines = this.lines;
    this.lines = [];
    if (lines.length === 0) return;
    const bytes = await this.journal.append(lines.join(''));
    this.counters.journalWrites += 1;
    this.counters.journalBytes += bytes;
  }

  private shouldCompact(): boolean {
    if (this.compaction !== null) return false;
    if (this.compactRequested) return true;
    return this.journal.bytes > Math.max(this.options.compactAfterBytes, 2 * this.hotBytes);
  }

  /**
   * Starts the next journal generation, then writes a snapshot of the state (which holds every change appended
   * to the older generations) naming it, in the background; the older generations go once it is durable.
   */
  private async startCompaction(): Promise<void> {
    this.compactRequested = false;
    const generation = await this.journal.rotate();
    this.db.data = { ...this.state.snapshot(), journal: generation };
    const started = performance.now();
    this.compaction = this.db
      .write()
      .then(async () => {
        this.counters.compactions += 1;
        this.counters.snapshotBytes += this.file.lastWriteBytes;
        await this.journal.removeBefore(generation);
        this.log.debug(
          { generation, bytes: this.file.lastWriteBytes, ms: Math.round(performance.now() - started) },
          'store compacted',
        );
      })
      .catch((error: unknown) => {
        // The older generations stay and are replayed on open; the next compaction tries again.
        this.log.error({ err: error, generation }, 'store compaction failed');
      })
      .finally(() => {
        this.compaction = null;
      });
  }

  private open(): HotState {
    if (this.closed) throw new StoreClosedError('the lowdb store is closed');
    return this.state;
  }
}

/**
 * One process per data directory: a second process writing the same document would lose the first one's
 * changes. A lock left by a process that died (kill -9) is taken over.
 */
async function takeDirectoryLock(lockPath: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw asStoreError(`cannot create the lock file ${lockPath}`, error);
      }
    }
    const holder = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processIsAlive(holder)) {
      throw new StoreError(
        `the data directory is in use by process ${holder} (lowdb allows one instance; use PostgreSQL for several)`,
      );
    }
    await unlink(lockPath).catch(() => undefined);
  }
  throw new StoreError(`cannot take the lock file ${lockPath}`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
