/**
 * The embedded ConversationStore (the default): one lowdb JSON document under the data directory holding the
 * live work — live conversations, comments not yet delivered, cursors, small values — plus an append-only
 * archive of ended conversations (conversation-archive.ts) and an append-only log of ticket claims
 * (claims-log.ts).
 *
 * Durability: every change is applied in memory (atomically: the change function is synchronous) and the
 * promise of the call that made it resolves only once a document containing it has been written atomically
 * (temporary file, fsync, rename). Group commit: the changes made while one write is in flight are written
 * together by the next, so many updates share one file write and throughput does not depend on the disk's
 * fsync rate. Conversations that ended with nothing left to deliver move to the archive in the same write
 * cycle, so a turn writes an amount bounded by the live work, not by the number of tickets ever seen.
 *
 * One process owns a data directory at a time (a lock file names it); use PostgreSQL for several instances.
 * Because of that, every comment still pending when the store opens is due at once: whatever the previous
 * process had scheduled (a lease over an attempt in flight, a backoff) ended with it. The outbox reads an entry
 * that was attempted before back from Atera before posting it, so this never doubles a comment.
 */
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
import { copyOf, emptySnapshot, HotState, type HotSnapshot } from './hot-state.js';
import { asStoreError, StoreClosedError, StoreError } from './store-errors.js';

export interface LowdbStoreOptions {
  dataDir: string;
  /** Archived conversations older than this are deleted when the store opens (and by `deleteEndedBefore`). */
  archiveRetentionDays?: number;
  log?: Log;
  /** fsync files and the directory on every write (default true). Off only for throwaway benchmarks. */
  fsync?: boolean;
}

export const HOT_DOCUMENT = 'ticketzero.json';
const LOCK_FILE = 'ticketzero.lock';
const CLAIMS_FILE = 'claims.jsonl';
const DAY_MS = 24 * 60 * 60 * 1000;

export interface LowdbStoreStats {
  /** Document writes since open. */
  writes: number;
  /** Bytes written to the hot document since open. */
  documentBytes: number;
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
    const file = new DurableJsonFile<HotSnapshot>(join(options.dataDir, HOT_DOCUMENT), { fsync });
    const db = new Low<HotSnapshot>(file, emptySnapshot());
    await db.read();
    const state = HotState.fromSnapshot(db.data);
    // The previous owner of the directory is gone: its leases (an attempt in flight when it was killed) end now.
    const released = state.dueNow(new Date().toISOString());
    if (released > 0) log.info({ released }, 'pending comments due again after a restart');
    const archive = await ConversationArchive.open(join(options.dataDir, 'archive'), { fsync, log });
    const claims = await ClaimsLog.open(join(options.dataDir, CLAIMS_FILE), { fsync, log });
    const store = new LowdbStore(db, file, state, archive, claims, lockPath, log);
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
  /** Waiters for the next write, which has not started yet. */
  private next: Deferred | null = null;
  private writing = false;
  private closed = false;
  private writes = 0;
  private documentBytes = 0;

  constructor(
    private readonly db: Low<HotSnapshot>,
    private readonly file: DurableJsonFile<HotSnapshot>,
    private readonly state: HotState,
    private readonly archive: ConversationArchive,
    private readonly claims: ClaimsLog,
    private readonly lockPath: string,
    private readonly log: Log,
  ) {}

  stats(): LowdbStoreStats {
    return { writes: this.writes, documentBytes: this.documentBytes, archived: this.archive.size };
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
    return this.open().listLive();
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
    return new Set([...hotDeleted, ...coldDeleted]).size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.next || this.writing) await this.persist().catch(() => undefined);
    await this.claims.settled().catch(() => undefined);
    this.closed = true;
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
        setImmediate(() => void this.writeLoop());
      }
    }
    return this.next.promise;
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
        batch.reject(asStoreError('the store could not write its document', error));
      }
    }
    this.writing = false;
  }

  private async writeOnce(): Promise<void> {
    // Ended tickets with nothing left to deliver go to the archive before the document that no longer holds them.
    const leaving = this.state.archivable();
    if (leaving.length > 0) {
      await this.archive.append(leaving, new Date());
      for (const cold of leaving) this.state.release(cold);
    }
    this.db.data = this.state.snapshot();
    await this.db.write();
    this.writes += 1;
    this.documentBytes += this.file.lastWriteBytes;
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
