/**
 * The ConversationStore on PostgreSQL, for running several TicketZero instances against one database.
 *
 * - `update` runs in a transaction holding a per-ticket advisory lock, so two instances updating the same
 *   ticket (including creating it) take turns; the change function runs between the read and the write.
 *   Comments queued by the change get the ticket's next seqs in the same transaction.
 * - `dueComments` picks each ticket's lowest undelivered comment with `FOR UPDATE SKIP LOCKED` and leases it
 *   by moving `next_attempt_at` forward in the same transaction, so two instances never deliver the same entry.
 * - Claims are first-writer-wins through the primary key (`INSERT … ON CONFLICT DO NOTHING`).
 * - Migrations (postgres-migrations.ts) run at start-up under an advisory lock.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import {
  isLive,
  type ConversationRecord,
  type ConversationStore,
  type Mutation,
  type OutboxEntry,
  type TicketClaim,
} from '../../ports/conversation-store.js';
import { silentLog, type Log } from '../../ports/log.js';
import { endedAtOf, normalizeThreadId } from './conversation-record-fields.js';
import { migrate, quoteIdentifier } from './postgres-migrations.js';
import { asStoreError, StoreClosedError, StoreUsageError } from './store-errors.js';

export interface PostgresStoreOptions {
  connectionString: string;
  /** A schema of its own (created when missing); tests use a fresh one each. Default: the role's search_path. */
  schema?: string;
  /** Shown as the connections' application_name. */
  instanceId?: string;
  log?: Log;
  poolSize?: number;
}

/** Errors thrown by callers' change functions, passed through unwrapped. */
const callerErrors = new WeakSet<object>();

/** Arbitrary constant: the first half of the per-ticket advisory lock key. */
const TICKET_LOCK_CLASS = 1_953_853;

export async function createPostgresConversationStore(
  options: PostgresStoreOptions,
): Promise<ConversationStore> {
  const log = (options.log ?? silentLog).child({ component: 'postgres-store' });
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
    throw new StoreUsageError(
      `schema name ${JSON.stringify(options.schema)} is not a plain lower-case identifier`,
    );
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    application_name: `ticketzero${options.instanceId ? `:${options.instanceId}` : ''}`.slice(0, 63),
    ...(options.schema ? { options: `-c search_path=${quoteIdentifier(options.schema)}` } : {}),
  });
  pool.on('error', (error) => log.error({ err: error }, 'idle database connection failed'));
  try {
    const client = await pool.connect();
    try {
      const applied = await migrate(client, options.schema);
      if (applied.length > 0) log.info({ applied }, 'database migrated');
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw asStoreError('cannot prepare the PostgreSQL store', error);
  }
  return new PostgresStore(pool);
}

interface ConversationRow {
  record: ConversationRecord;
  version: number;
}

interface OutboxRow {
  id: string;
  ticket_id: string;
  seq: number;
  comment: OutboxEntry['comment'];
  created_at: Date;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
}

function toRecord(row: ConversationRow): ConversationRecord {
  return { ...row.record, version: row.version };
}

function toEntry(row: OutboxRow): OutboxEntry {
  return {
    id: row.id,
    ticketId: Number(row.ticket_id),
    seq: row.seq,
    comment: row.comment,
    createdAt: row.created_at.toISOString(),
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at.toISOString(),
    lastError: row.last_error,
  };
}

class PostgresStore implements ConversationStore {
  private closed = false;

  constructor(private readonly pool: pg.Pool) {}

  async getCursor(name: string): Promise<string | null> {
    const { rows } = await this.query<{ value: string }>('SELECT value FROM cursors WHERE name = $1', [name]);
    return rows[0]?.value ?? null;
  }

  async setCursor(name: string, value: string): Promise<void> {
    await this.query(
      'INSERT INTO cursors (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value',
      [name, value],
    );
  }

  async claimTicket(ticketId: number, claim: TicketClaim): Promise<boolean> {
    const { rowCount } = await this.query(
      `INSERT INTO claims (ticket_id, claim, ticket_created_at) VALUES ($1, $2, $3)
       ON CONFLICT (ticket_id) DO NOTHING`,
      [ticketId, claim, claim.ticketCreatedAt],
    );
    return rowCount === 1;
  }

  async pruneClaims(createdBefore: string): Promise<number> {
    const { rowCount } = await this.query('DELETE FROM claims WHERE ticket_created_at < $1', [createdBefore]);
    return rowCount ?? 0;
  }

  async getConversation(ticketId: number): Promise<ConversationRecord | null> {
    const { rows } = await this.query<ConversationRow>(
      'SELECT record, version FROM conversations WHERE ticket_id = $1',
      [ticketId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findLiveByUser(userId: string): Promise<ConversationRecord[]> {
    const { rows } = await this.query<ConversationRow>(
      `SELECT record, version FROM conversations WHERE live AND user_id = $1 ORDER BY created_at, ticket_id`,
      [userId],
    );
    return rows.map(toRecord);
  }

  async findByThread(threadId: string): Promise<ConversationRecord | null> {
    const { rows } = await this.query<ConversationRow>(
      `SELECT record, version FROM conversations WHERE live AND thread_id = $1 ORDER BY created_at DESC LIMIT 1`,
      [normalizeThreadId(threadId)],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async listLive(): Promise<ConversationRecord[]> {
    const { rows } = await this.query<ConversationRow>(
      'SELECT record, version FROM conversations WHERE live ORDER BY created_at, ticket_id',
    );
    return rows.map(toRecord);
  }

  async listEnded(options: { limit: number; since?: string }): Promise<ConversationRecord[]> {
    const { rows } = await this.query<ConversationRow>(
      `SELECT record, version FROM conversations
       WHERE NOT live AND ($2::timestamptz IS NULL OR ended_at >= $2)
       ORDER BY ended_at DESC, ticket_id DESC LIMIT $1`,
      [Math.max(0, options.limit), options.since ?? null],
    );
    return rows.map(toRecord);
  }

  async update<T>(ticketId: number, change: (current: ConversationRecord | null) => Mutation<T>): Promise<T> {
    return this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, ($2::bigint % 2147483647)::int)', [
        TICKET_LOCK_CLASS,
        ticketId,
      ]);
      const { rows } = await client.query<ConversationRow>(
        'SELECT record, version FROM conversations WHERE ticket_id = $1',
        [ticketId],
      );
      const current = rows[0] ? toRecord(rows[0]) : null;
      let mutation: Mutation<T>;
      try {
        mutation = change(current);
      } catch (error) {
        // The caller's own error: it reaches them unchanged (the transaction is rolled back).
        if (error instanceof Object) callerErrors.add(error);
        throw error;
      }
      if (mutation.conversation && mutation.conversation.ticketId !== ticketId) {
        throw new StoreUsageError(
          `update of ticket ${ticketId} returned the record of ticket ${mutation.conversation.ticketId}`,
        );
      }
      if (mutation.conversation) {
        const version = (current?.version ?? 0) + 1;
        const record: ConversationRecord = { ...mutation.conversation, version };
        const live = isLive(record.state);
        await client.query(
          `INSERT INTO conversations
             (ticket_id, user_id, thread_id, state, live, ended_at, created_at, version, record)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (ticket_id) DO UPDATE SET
             user_id = EXCLUDED.user_id, thread_id = EXCLUDED.thread_id, state = EXCLUDED.state,
             live = EXCLUDED.live, ended_at = EXCLUDED.ended_at, created_at = EXCLUDED.created_at,
             version = EXCLUDED.version, record = EXCLUDED.record`,
          [
            ticketId,
            record.user?.id ?? null,
            record.thread ? normalizeThreadId(record.thread.threadId) : null,
            record.state,
            live,
            live ? null : endedAtOf(record),
            record.createdAt,
            version,
            record,
          ],
        );
      }
      const comments = mutation.comments ?? [];
      if (comments.length > 0) {
        const { rows: seqRows } = await client.query<{ last: number }>(
          'SELECT coalesce(max(seq), 0)::int AS last FROM outbox WHERE ticket_id = $1',
          [ticketId],
        );
        let seq = seqRows[0]?.last ?? 0;
        const now = new Date().toISOString();
        const values: unknown[] = [];
        const tuples = comments.map((comment) => {
          seq += 1;
          const base = values.length;
          values.push(randomUUID(), ticketId, seq, comment, now);
          return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 5})`;
        });
        await client.query(
          `INSERT INTO outbox (id, ticket_id, seq, comment, created_at, next_attempt_at) VALUES ${tuples.join(', ')}`,
          values,
        );
      }
      return mutation.result;
    });
  }

  async dueComments(now: string, limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    return this.transaction(async (client) => {
      // Only each ticket's lowest undelivered entry; rows another instance is leasing right now are skipped,
      // and one it leased a moment ago no longer passes the next_attempt_at test when re-checked under the lock.
      const { rows } = await client.query<OutboxRow>(
        `SELECT o.id, o.ticket_id, o.seq, o.comment, o.created_at, o.attempts, o.next_attempt_at, o.last_error
         FROM outbox o
         WHERE o.delivered_at IS NULL AND o.next_attempt_at <= $1
           AND NOT EXISTS (
             SELECT 1 FROM outbox p WHERE p.ticket_id = o.ticket_id AND p.delivered_at IS NULL AND p.seq < o.seq)
         ORDER BY o.created_at, o.ticket_id, o.seq
         LIMIT $2
         FOR UPDATE OF o SKIP LOCKED`,
        [now, Math.max(0, limit)],
      );
      if (rows.length === 0) return [];
      await client.query(
        `UPDATE outbox SET next_attempt_at = $1::timestamptz + $2 * interval '1 millisecond' WHERE id = ANY($3)`,
        [now, leaseMs, rows.map((r) => r.id)],
      );
      return rows.map(toEntry);
    });
  }

  async pendingComments(ticketId: number, limit: number): Promise<OutboxEntry[]> {
    const { rows } = await this.query<OutboxRow>(
      `SELECT id, ticket_id, seq, comment, created_at, attempts, next_attempt_at, last_error
       FROM outbox WHERE ticket_id = $1 AND delivered_at IS NULL ORDER BY seq LIMIT $2`,
      [ticketId, Math.max(0, limit)],
    );
    return rows.map(toEntry);
  }

  async markDelivered(...entryIds: string[]): Promise<void> {
    if (entryIds.length === 0) return;
    await this.query(
      'UPDATE outbox SET delivered_at = now() WHERE id = ANY($1::text[]) AND delivered_at IS NULL',
      [entryIds],
    );
  }

  async markFailed(entryId: string, error: string, nextAttemptAt: string): Promise<void> {
    await this.query(
      `UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3
       WHERE id = $1 AND delivered_at IS NULL`,
      [entryId, error, nextAttemptAt],
    );
  }

  async outboxStats(): Promise<{ depth: number; oldestCreatedAt: string | null }> {
    const { rows } = await this.query<{ depth: number; oldest: Date | null }>(
      'SELECT count(*)::int AS depth, min(created_at) AS oldest FROM outbox WHERE delivered_at IS NULL',
    );
    return { depth: rows[0]?.depth ?? 0, oldestCreatedAt: rows[0]?.oldest?.toISOString() ?? null };
  }

  async getValue<T>(namespace: string, key: string): Promise<T | null> {
    const { rows } = await this.query<{ value: T }>(
      'SELECT value FROM kv WHERE namespace = $1 AND key = $2',
      [namespace, key],
    );
    return rows[0] ? rows[0].value : null;
  }

  async setValue<T>(namespace: string, key: string, value: T): Promise<void> {
    await this.query(
      `INSERT INTO kv (namespace, key, value) VALUES ($1, $2, $3)
       ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value`,
      [namespace, key, JSON.stringify(value)],
    );
  }

  async deleteEndedBefore(endedBefore: string): Promise<number> {
    return this.transaction(async (client) => {
      const { rows } = await client.query<{ ticket_id: string }>(
        'DELETE FROM conversations WHERE NOT live AND ended_at < $1 RETURNING ticket_id',
        [endedBefore],
      );
      if (rows.length > 0) {
        await client.query('DELETE FROM outbox WHERE ticket_id = ANY($1) AND delivered_at IS NOT NULL', [
          rows.map((r) => r.ticket_id),
        ]);
      }
      return rows.length;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  // Internals -------------------------------------------------------------------------------------------------

  private async query<R extends QueryResultRow>(sql: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    try {
      return await this.pool.query<R>(sql, values);
    } catch (error) {
      throw asStoreError('a PostgreSQL store query failed', error);
    }
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw asStoreError('cannot reach PostgreSQL', error);
    }
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof Object && callerErrors.has(error)) throw error;
      throw asStoreError('a PostgreSQL store transaction failed', error);
    } finally {
      client.release();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError('the PostgreSQL store is closed');
  }
}
