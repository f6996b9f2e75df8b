/**
 * One-way conversion of a data folder written by the first lowdb layout (until 2026-03): a snapshot
 * (`ticketzero.json`), the journal of changes since it (`ticketzero.journal-<n>.jsonl`), a claims log
 * (`claims.jsonl`) and archive lines (`archive/conversations-<day>.jsonl`). Their state is rebuilt as the old store
 * did at open (snapshot, then every complete journal line; a torn last line was never acknowledged), written as
 * documents, and the old files are deleted.
 *
 * A crash at any point is safe: the documents are written first (again, whole, if the conversion is run again),
 * then a marker file says they are complete, then the old files go, the marker last.
 */
import { readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConversationRecord, OutboxEntry, TicketClaim } from '../../ports/conversation-store.js';
import type { Log } from '../../ports/log.js';
import { fsyncDirectory } from './document-folder.js';
import {
  archiveName,
  CLAIMS,
  CURSORS,
  valueName,
  ticketFileOf,
  type StoreFolders,
  type TicketDocument,
} from './document-store.js';
import { StoreCorruptError } from './store-errors.js';

const SNAPSHOT = 'ticketzero.json';
const CLAIMS_LOG = 'claims.jsonl';
const MARKER = '.v1-migrated';
const JOURNAL = /^ticketzero\.journal-(\d+)\.jsonl$/;
const ARCHIVE_LINES = /^conversations-\d{4}-\d{2}-\d{2}\.jsonl$/;

interface V1Ticket {
  record: ConversationRecord | null;
  lastSeq: number;
}

interface V1Snapshot {
  format: 1;
  journal?: number;
  cursors: Record<string, string>;
  claims: Record<string, TicketClaim>;
  kv: Record<string, Record<string, unknown>>;
  tickets: Record<string, V1Ticket>;
  outbox: OutboxEntry[];
}

type V1Change =
  | { t: 'ticket'; id: number; ticket: V1Ticket }
  | { t: 'drop'; id: number }
  | { t: 'queue'; entry: OutboxEntry }
  | { t: 'delivered'; id: string }
  | { t: 'cursor'; name: string; value: string }
  | { t: 'kv'; ns: string; key: string; value: unknown };

export async function migrateV1Layout(dataDir: string, folders: StoreFolders, log: Log): Promise<void> {
  const files = await readdir(dataDir);
  const archiveDir = join(dataDir, 'archive');
  const archiveFiles = (await readdir(archiveDir)).filter((f) => ARCHIVE_LINES.test(f));
  const oldFiles = [
    ...files.filter((f) => JOURNAL.test(f) || f === CLAIMS_LOG).map((f) => join(dataDir, f)),
    ...archiveFiles.map((f) => join(archiveDir, f)),
    ...(files.includes(SNAPSHOT) ? [join(dataDir, SNAPSHOT)] : []),
  ];
  if (oldFiles.length === 0 && !files.includes(MARKER)) return;
  if (!files.includes(MARKER)) {
    const counts = await convert(dataDir, files, archiveDir, archiveFiles, folders);
    await writeFile(join(dataDir, MARKER), '');
    await fsyncDirectory(dataDir);
    log.info(counts, 'data folder converted from the first lowdb layout');
  }
  for (const file of oldFiles) await unlink(file);
  await unlink(join(dataDir, MARKER));
  await fsyncDirectory(archiveDir);
  await fsyncDirectory(dataDir);
}

async function convert(
  dataDir: string,
  files: string[],
  archiveDir: string,
  archiveFiles: string[],
  folders: StoreFolders,
): Promise<{ live: number; archived: number; values: number }> {
  const snapshot: V1Snapshot = files.includes(SNAPSHOT)
    ? (JSON.parse(await readFile(join(dataDir, SNAPSHOT), 'utf8')) as V1Snapshot)
    : { format: 1, cursors: {}, claims: {}, kv: {}, tickets: {}, outbox: [] };
  const tickets = new Map(Object.entries(snapshot.tickets).map(([id, t]) => [Number(id), t]));
  const outbox = new Map(snapshot.outbox.map((entry) => [entry.id, entry]));
  const kv = new Map<string, { ns: string; key: string; value: unknown }>();
  const setValue = (ns: string, key: string, value: unknown) =>
    kv.set(`${ns}\u0000${key}`, { ns, key, value });
  for (const [name, value] of Object.entries(snapshot.cursors)) setValue(CURSORS, name, value);
  for (const [ns, entries] of Object.entries(snapshot.kv)) {
    for (const [key, value] of Object.entries(entries)) setValue(ns, key, value);
  }
  const claims = new Map(Object.entries(snapshot.claims).map(([id, claim]) => [Number(id), claim]));

  const generations = files
    .map((f) => JOURNAL.exec(f))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .filter((g) => g >= (snapshot.journal ?? 1))
    .sort((a, b) => a - b);
  for (const generation of generations) {
    const file = `ticketzero.journal-${generation}.jsonl`;
    for (const change of await completeLines<V1Change>(join(dataDir, file))) {
      if (change.t === 'ticket') tickets.set(change.id, change.ticket);
      else if (change.t === 'drop') tickets.delete(change.id);
      else if (change.t === 'queue') outbox.set(change.entry.id, change.entry);
      else if (change.t === 'delivered') outbox.delete(change.id);
      else if (change.t === 'cursor') setValue(CURSORS, change.name, change.value);
      else setValue(change.ns, change.key, change.value);
    }
  }
  if (files.includes(CLAIMS_LOG)) {
    for (const line of await completeLines<{ ticketId: number; claim: TicketClaim }>(
      join(dataDir, CLAIMS_LOG),
    )) {
      if (!claims.has(line.ticketId)) claims.set(line.ticketId, line.claim);
    }
  }
  for (const [ticketId, claim] of claims) setValue(CLAIMS, String(ticketId), claim);
  const values = [...kv.values()];

  // Archive lines: the highest `n` of a ticket wins; a ticket still in the hot state is not archived.
  const archived = new Map<
    number,
    { n: number; ticketId: number; lastSeq: number; record: ConversationRecord | null }
  >();
  for (const file of archiveFiles.sort()) {
    for (const line of await completeLines<{
      n: number;
      ticketId: number;
      lastSeq: number;
      record: ConversationRecord | null;
    }>(join(archiveDir, file))) {
      if ((archived.get(line.ticketId)?.n ?? 0) < line.n) archived.set(line.ticketId, line);
    }
  }

  const pending = new Map<number, OutboxEntry[]>();
  for (const entry of outbox.values())
    pending.set(entry.ticketId, [...(pending.get(entry.ticketId) ?? []), entry]);
  for (const ticketId of pending.keys())
    if (!tickets.has(ticketId)) tickets.set(ticketId, { record: null, lastSeq: 0 });
  for (const [ticketId, { record, lastSeq }] of tickets) {
    const entries = (pending.get(ticketId) ?? []).sort((a, b) => a.seq - b.seq);
    const doc: TicketDocument = {
      ticketId,
      record,
      lastSeq: Math.max(lastSeq, ...entries.map((e) => e.seq)),
      outbox: entries,
    };
    await folders.conversations.write(String(ticketId), ticketFileOf(doc));
  }
  let archivedCount = 0;
  for (const { ticketId, lastSeq, record } of archived.values()) {
    if (tickets.has(ticketId) || !record) continue;
    await folders.archive.write(
      archiveName(ticketId, record),
      ticketFileOf({ ticketId, record, lastSeq, outbox: [] }),
    );
    archivedCount += 1;
  }
  for (const value of values) await folders.values.write(valueName(value.ns, value.key), value);
  return { live: tickets.size, archived: archivedCount, values: values.length };
}

/** The JSON lines of a file; a torn last line (no newline after it) was never acknowledged and is left out. */
async function completeLines<T>(path: string): Promise<T[]> {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  lines.pop();
  return lines
    .filter((line) => line.length > 0)
    .map((line, i) => {
      try {
        return JSON.parse(line) as T;
      } catch (error) {
        throw new StoreCorruptError(`${path} has an unreadable line ${i + 1}`, { cause: error });
      }
    });
}
