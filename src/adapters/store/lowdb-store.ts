/**
 * The embedded ConversationStore (the default): small lowdb documents in the data directory, one per conversation
 * with work left, one per archived conversation, one per claim, cursor or small value (document-store.ts says
 * what each holds), each written atomically and durably, a change appending only the fields it changed
 * (document-folder.ts).
 *
 *   <dataDir>/ticketzero.lock                  the instance that owns the folder (data-dir-lock.ts)
 *   <dataDir>/conversations/<ticketId>.jsonl   live conversations and those with comments still to deliver
 *   <dataDir>/archive/<ticketId>-<ms>.jsonl    ended conversations (the ms: when they ended)
 *   <dataDir>/values/<hash>.jsonl              claims, cursors, small values
 *
 * One process owns a data directory at a time; use PostgreSQL for several instances. A folder written by the
 * earlier layout (snapshot, journal, archive lines, claims log) is converted when it is opened (migrate-v1-layout.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConversationRecord, ConversationStore, OutboxEntry } from '../../ports/conversation-store.js';
import { silentLog, type Log } from '../../ports/log.js';
import { lockDataDir, type LockOptions } from './data-dir-lock.js';
import { createJsonFolder, parseDocument, type FolderFs } from './document-folder.js';
import {
  openDocumentStore,
  ticketDocumentOf,
  type TicketDocument,
  type TicketFile,
} from './document-store.js';
import { migrateV1Layout } from './migrate-v1-layout.js';
import { asStoreError } from './store-errors.js';

export interface LowdbStoreOptions {
  dataDir: string;
  /** Archived conversations older than this are deleted when the store opens (and by `deleteEndedBefore`). */
  archiveRetentionDays?: number;
  log?: Log;
  /** fsync files and folders on every write (default true). Off only for throwaway tests and benchmarks. */
  fsync?: boolean;
  /** The folder lock's timing (specs shorten it). */
  lock?: LockOptions;
  /** The file system calls of the document folders (specs inject failing ones). */
  fs?: FolderFs;
}

export const LOCK_FILE = 'ticketzero.lock';
const DAY_MS = 24 * 60 * 60 * 1000;

export async function createLowdbConversationStore(options: LowdbStoreOptions): Promise<ConversationStore> {
  const log = (options.log ?? silentLog).child({ component: 'lowdb-store' });
  const { dataDir } = options;
  const folderOptions = { fsync: options.fsync ?? true, ...(options.fs ? { fs: options.fs } : {}) };
  try {
    await mkdir(dataDir, { recursive: true });
  } catch (error) {
    throw asStoreError(`cannot create the data directory ${dataDir}`, error);
  }
  const lock = await lockDataDir(join(dataDir, LOCK_FILE), options.lock);
  try {
    const folders = {
      conversations: await createJsonFolder(join(dataDir, 'conversations'), folderOptions),
      archive: await createJsonFolder(join(dataDir, 'archive'), folderOptions),
      values: await createJsonFolder(join(dataDir, 'values'), folderOptions),
    };
    await migrateV1Layout(dataDir, folders, log);
    const store = await openDocumentStore(folders, { log, releaseSchedules: true });
    lock.onLost = (error) => {
      log.error({ err: error }, 'store lock lost; refusing every call');
      store.fail(error);
    };
    store.onClose = () => lock.release();
    if (options.archiveRetentionDays !== undefined) {
      const cutoff = new Date(Date.now() - options.archiveRetentionDays * DAY_MS).toISOString();
      const deleted = await store.deleteEndedBefore(cutoff);
      if (deleted > 0) log.info({ deleted, cutoff }, 'expired conversations deleted');
    }
    log.info({ dataDir }, 'store opened');
    return store;
  } catch (error) {
    await lock.release().catch(() => undefined);
    throw asStoreError(`cannot open the store in ${dataDir}`, error);
  }
}

/** What `readLowdbState` sees: the conversations with work left, and their undelivered comments. */
export interface LowdbState {
  tickets: Record<string, { record: ConversationRecord | null; lastSeq: number }>;
  outbox: OutboxEntry[];
}

/**
 * The conversations with work left as the files of `dataDir` hold them now, read synchronously, without taking
 * the lock or changing a file: for tools and tests that watch a running store from outside. Every file is
 * replaced by a rename, so each read sees a whole document; one archived meanwhile is left out.
 */
export function readLowdbState(dataDir: string): LowdbState {
  const state: LowdbState = { tickets: {}, outbox: [] };
  const dir = join(dataDir, 'conversations');
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.jsonl') && !f.startsWith('.'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return state;
    throw asStoreError(`cannot read the store in ${dataDir}`, error);
  }
  for (const file of files) {
    let doc: TicketDocument;
    try {
      doc = ticketDocumentOf(parseDocument<TicketFile>(readFileSync(join(dir, file), 'utf8'), file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw asStoreError(`cannot read ${file} in ${dataDir}`, error);
    }
    state.tickets[String(doc.ticketId)] = { record: doc.record, lastSeq: doc.lastSeq };
    state.outbox.push(...doc.outbox);
  }
  return state;
}
