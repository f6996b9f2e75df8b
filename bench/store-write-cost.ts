/**
 * Write cost of one conversation turn, as a function of how many tickets the store has ever seen.
 *
 *   npx tsx bench/store-write-cost.ts            # lowdb (and PostgreSQL when TICKETZERO_TEST_DATABASE_URL is set)
 *   npx tsx bench/store-write-cost.ts --turns 400 --sizes 100,10000
 *   npx tsx bench/store-write-cost.ts --no-fsync  # lowdb without fdatasync/fsync: the most group commit could give
 *
 * A "turn" is what the engine writes when a user message is answered: one update appending the user's message
 * and the AI's answer and queueing both as Atera comments, then both comments delivered (marked). Bytes are what
 * this process handed to write(2) (lowdb, /proc/self/io wchar) or the WAL the server generated (PostgreSQL).
 * Sequential turns show the cost of one turn on its own (median time, mean bytes, after 20 warm-up turns);
 * concurrent turns show throughput with group commit. syncs/turn counts the fdatasync and fsync calls of a turn
 * (lowdb): what group commit saves shows as fewer of them per concurrent turn than per sequential one.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { FolderFs } from '../src/adapters/store/document-folder.js';
import { createLowdbConversationStore } from '../src/adapters/store/lowdb-store.js';
import { createPostgresConversationStore } from '../src/adapters/store/postgres-store.js';
import type { ConversationStore } from '../src/ports/conversation-store.js';
import { makeComment, makeConversationRecord, makeEndedRecord, makeTurn } from '../test/contract/fixtures.js';
import { percentile } from './bench-stats.js';

export interface WriteCostResult {
  store: 'lowdb' | 'postgres';
  storedTickets: number;
  liveTickets: number;
  /** Sequential turns: mean bytes written and median milliseconds per turn. */
  bytesPerTurn: number;
  msPerTurn: number;
  /** Concurrent turns (one worker per live ticket): turns completed per second. */
  turnsPerSecond: number;
  /** lowdb only: the size of the documents read at open, after the run (conversations with work left, values). */
  hotDocumentBytes?: number;
  /** lowdb only: fdatasync/fsync calls per turn, sequential and concurrent (group commit makes the second smaller). */
  syncsPerTurn?: number;
  concurrentSyncsPerTurn?: number;
}

export interface WriteCostOptions {
  store: 'lowdb' | 'postgres';
  storedTickets: number;
  liveTickets?: number;
  sequentialTurns?: number;
  concurrentTurns?: number;
  /** PostgreSQL connection URL (store = postgres). */
  databaseUrl?: string;
  /** lowdb: fdatasync and fsync (default true); off, the run shows what a turn costs without them (a ceiling). */
  fsync?: boolean;
}

const DAY_MS = 86_400_000;

/** Seeds a store with `storedTickets` tickets (all but `liveTickets` ended), then measures turns on the live ones. */
export async function measureStoreWriteCost(options: WriteCostOptions): Promise<WriteCostResult> {
  const liveTickets = options.liveTickets ?? 50;
  const sequentialTurns = options.sequentialTurns ?? 200;
  const concurrentTurns = options.concurrentTurns ?? 2000;
  const target = await openTarget(options);
  try {
    await seed(target.store, options.storedTickets, liveTickets);

    // A few turns first, so both sizes are measured with the code already compiled by the JIT.
    for (let i = 0; i < 20; i += 1) await turn(target.store, 1 + (i % liveTickets), -1 - i);
    const bytesBefore = await target.bytesWritten();
    const syncsBefore = target.syncs?.() ?? 0;
    const durations: number[] = [];
    for (let i = 0; i < sequentialTurns; i += 1) {
      const started = performance.now();
      await turn(target.store, 1 + (i % liveTickets), i);
      durations.push(performance.now() - started);
    }
    // The median: one turn's cost without the odd fsync stall or GC pause of a shared machine.
    const msPerTurn = percentile(durations, 50);
    const bytesPerTurn = ((await target.bytesWritten()) - bytesBefore) / sequentialTurns;
    const syncsPerTurn = ((target.syncs?.() ?? 0) - syncsBefore) / sequentialTurns;
    const concurrentSyncsBefore = target.syncs?.() ?? 0;

    // Concurrent: one worker per live ticket writes turns while one outbox loop delivers, as in production.
    let next = 0;
    let writing = true;
    const concurrentStart = performance.now();
    const writers = Promise.all(
      Array.from({ length: liveTickets }, async (_, worker) => {
        while (next < concurrentTurns) {
          next += 1;
          await turn(target.store, worker + 1, sequentialTurns + next, false);
        }
      }),
    ).finally(() => {
      writing = false;
    });
    const deliverer = (async () => {
      while (writing || (await target.store.outboxStats()).depth > 0) {
        const delivered = await deliverAll(target.store);
        if (delivered === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await Promise.all([writers, deliverer]);
    const turnsPerSecond = concurrentTurns / ((performance.now() - concurrentStart) / 1000);
    const concurrentSyncsPerTurn = ((target.syncs?.() ?? 0) - concurrentSyncsBefore) / concurrentTurns;
    return {
      store: options.store,
      storedTickets: options.storedTickets,
      liveTickets,
      bytesPerTurn: Math.round(bytesPerTurn),
      msPerTurn: Number(msPerTurn.toFixed(2)),
      turnsPerSecond: Math.round(turnsPerSecond),
      ...(target.hotDocumentBytes ? { hotDocumentBytes: await target.hotDocumentBytes() } : {}),
      ...(target.syncs
        ? {
            syncsPerTurn: Number(syncsPerTurn.toFixed(2)),
            concurrentSyncsPerTurn: Number(concurrentSyncsPerTurn.toFixed(2)),
          }
        : {}),
    };
  } finally {
    await target.close();
  }
}

interface Target {
  store: ConversationStore;
  bytesWritten(): Promise<number>;
  hotDocumentBytes?: () => Promise<number>;
  /** lowdb: fdatasync and fsync calls made so far. */
  syncs?: () => number;
  close(): Promise<void>;
}

async function openTarget(options: WriteCostOptions): Promise<Target> {
  if (options.store === 'lowdb') {
    const dataDir = await mkdtemp(join(tmpdir(), 'tz-bench-'));
    const counted = countingSyncs();
    const store = await createLowdbConversationStore({
      dataDir,
      fs: counted.fs,
      fsync: options.fsync ?? true,
    });
    return {
      store,
      syncs: () => counted.syncs,
      bytesWritten: processWriteBytes,
      hotDocumentBytes: async () => {
        // The documents read when the store opens: conversations with work left, claims, cursors and values.
        let bytes = 0;
        for (const folder of ['conversations', 'values']) {
          for (const file of await readdir(join(dataDir, folder)))
            bytes += (await stat(join(dataDir, folder, file))).size;
        }
        return bytes;
      },
      close: async () => {
        await store.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  if (!options.databaseUrl) throw new Error('measureStoreWriteCost: databaseUrl is required for postgres');
  const schema = `tz_bench_${randomBytes(4).toString('hex')}`;
  const store = await createPostgresConversationStore({ connectionString: options.databaseUrl, schema });
  const admin = new pg.Client({ connectionString: options.databaseUrl });
  await admin.connect();
  return {
    store,
    bytesWritten: async () => {
      const { rows } = await admin.query<{ bytes: string }>(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS bytes",
      );
      return Number(rows[0]?.bytes ?? 0);
    },
    close: async () => {
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
}

/** The file system, counting the fdatasync and fsync calls made through its file handles. */
function countingSyncs(): { fs: FolderFs; syncs: number } {
  const counted = {
    syncs: 0,
    fs: {
      ...fs,
      open: (async (...args: Parameters<typeof fs.open>) => {
        const handle = await fs.open(...args);
        return Object.assign(Object.create(handle) as FileHandle, {
          datasync: () => {
            counted.syncs += 1;
            return handle.datasync();
          },
          sync: () => {
            counted.syncs += 1;
            return handle.sync();
          },
        });
      }) as typeof fs.open,
    },
  };
  return counted;
}

/** Bytes this process passed to write(2) so far (Linux). */
async function processWriteBytes(): Promise<number> {
  const io = await readFile('/proc/self/io', 'utf8');
  const match = /wchar:\s+(\d+)/.exec(io);
  if (!match) throw new Error('cannot read /proc/self/io');
  return Number(match[1]);
}

async function seed(store: ConversationStore, storedTickets: number, liveTickets: number): Promise<void> {
  const now = Date.now();
  const ids = Array.from({ length: storedTickets }, (_, i) => i + 1);
  for (let start = 0; start < ids.length; start += 500) {
    await Promise.all(
      ids.slice(start, start + 500).map(async (ticketId) => {
        const live = ticketId <= liveTickets;
        // Ended tickets spread over the last 60 days; the watcher's claims are pruned after 2.
        const createdAt = new Date(now - (live ? 0 : (ticketId % 60) * DAY_MS + DAY_MS)).toISOString();
        await store.claimTicket(ticketId, {
          by: 'bench',
          at: createdAt,
          decision: 'taken',
          ticketCreatedAt: createdAt,
        });
        const record = live
          ? makeConversationRecord({ ticketId, createdAt })
          : makeEndedRecord(ticketId, createdAt, { createdAt });
        await store.update(ticketId, () => ({
          conversation: record,
          comments: [makeComment('opening comment')],
          result: 0,
        }));
      }),
    );
  }
  await store.pruneClaims(new Date(now - 2 * DAY_MS).toISOString());
  await deliverAll(store);
}

async function turn(store: ConversationStore, ticketId: number, n: number, deliver = true): Promise<void> {
  const user = `Turn ${n}: I restarted Outlook as you said, it still asks for the password after about five minutes.`;
  const answer = `Thanks. Please open Credential Manager, remove the entries that start with MicrosoftOffice16, then sign in again. (${n})`;
  await store.update(ticketId, (current) => {
    const base = current!;
    // A conversation holds at most 10 rounds; start over so records stay realistic in size.
    const turns = base.turns.length >= 20 ? base.turns.slice(0, 2) : base.turns;
    return {
      conversation: {
        ...base,
        rounds: base.rounds + 1,
        turns: [
          ...turns,
          makeTurn(turns.length + 1, 'user', user),
          makeTurn(turns.length + 2, 'assistant', answer),
        ],
        updatedAt: new Date().toISOString(),
      },
      comments: [makeComment(user), makeComment(answer, { author: 'ticketzero' })],
      result: undefined,
    };
  });
  if (deliver) await deliverAll(store);
}

/** Delivers every due comment as the outbox does (each ticket's head with what is queued behind it, one fold marked
 * delivered in one call); returns how many. */
async function deliverAll(store: ConversationStore): Promise<number> {
  let delivered = 0;
  for (;;) {
    const due = await store.dueComments(new Date(Date.now() + 60_000).toISOString(), 1000, 60_000);
    if (due.length === 0) return delivered;
    await Promise.all(
      due.map(async (head) => {
        const fold = await store.pendingComments(head.ticketId, 50);
        await store.markDelivered(...fold.map((e) => e.id));
        delivered += fold.length;
      }),
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      turns: { type: 'string', default: '200' },
      sizes: { type: 'string', default: '100,10000' },
      'no-fsync': { type: 'boolean', default: false },
    },
  });
  const sizes = values.sizes.split(',').map(Number);
  const databaseUrl = process.env['TICKETZERO_TEST_DATABASE_URL'];
  const kinds: Array<'lowdb' | 'postgres'> = databaseUrl ? ['lowdb', 'postgres'] : ['lowdb'];
  const results: WriteCostResult[] = [];
  for (const store of kinds) {
    for (const storedTickets of sizes) {
      results.push(
        await measureStoreWriteCost({
          store,
          storedTickets,
          sequentialTurns: Number(values.turns),
          fsync: !values['no-fsync'],
          ...(databaseUrl ? { databaseUrl } : {}),
        }),
      );
    }
  }
  console.log(
    'store     stored  live  bytes/turn  ms/turn  turns/s (concurrent)  hot document  syncs/turn  (concurrent)',
  );
  for (const r of results) {
    console.log(
      `${r.store.padEnd(9)} ${String(r.storedTickets).padStart(6)}  ${String(r.liveTickets).padStart(4)}  ${String(r.bytesPerTurn).padStart(10)}  ${r.msPerTurn.toFixed(2).padStart(7)}  ${String(r.turnsPerSecond).padStart(20)}  ${String(r.hotDocumentBytes ?? '-').padStart(12)}  ${String(r.syncsPerTurn ?? '-').padStart(10)}  ${String(r.concurrentSyncsPerTurn ?? '-').padStart(12)}`,
    );
  }
  if (!databaseUrl) console.log('(PostgreSQL skipped: TICKETZERO_TEST_DATABASE_URL unset)');
  console.log(JSON.stringify({ benchmark: 'store-write-cost', results }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
