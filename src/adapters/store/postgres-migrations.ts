/**
 * The PostgreSQL schema, as plain versioned SQL. Applied in order at start-up by `migrate`, inside one
 * transaction holding an advisory lock, so several instances starting together migrate exactly once.
 * Never edit a migration that has shipped; add the next one.
 */
import type { PoolClient } from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'conversations, outbox, claims, cursors, kv',
    sql: `
      CREATE TABLE conversations (
        ticket_id   bigint PRIMARY KEY,
        user_id     text,
        thread_id   text,
        state       text NOT NULL,
        live        boolean NOT NULL,
        ended_at    timestamptz,
        created_at  timestamptz NOT NULL,
        version     integer NOT NULL,
        record      jsonb NOT NULL
      );
      CREATE INDEX conversations_live_user ON conversations (user_id) WHERE live;
      CREATE INDEX conversations_live_thread ON conversations (thread_id) WHERE live;
      CREATE INDEX conversations_state ON conversations (state);
      CREATE INDEX conversations_ended_at ON conversations (ended_at DESC) WHERE NOT live;

      CREATE TABLE outbox (
        id              text PRIMARY KEY,
        ticket_id       bigint NOT NULL,
        seq             integer NOT NULL,
        comment         jsonb NOT NULL,
        created_at      timestamptz NOT NULL,
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        last_error      text,
        delivered_at    timestamptz,
        UNIQUE (ticket_id, seq)
      );
      CREATE INDEX outbox_pending ON outbox (ticket_id, seq) WHERE delivered_at IS NULL;
      CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

      CREATE TABLE claims (
        ticket_id         bigint PRIMARY KEY,
        claim             jsonb NOT NULL,
        ticket_created_at timestamptz NOT NULL
      );
      CREATE INDEX claims_ticket_created_at ON claims (ticket_created_at);

      CREATE TABLE cursors (
        name  text PRIMARY KEY,
        value text NOT NULL
      );

      CREATE TABLE kv (
        namespace text NOT NULL,
        key       text NOT NULL,
        value     jsonb NOT NULL,
        PRIMARY KEY (namespace, key)
      );
    `,
  },
];

/** Arbitrary constant: the advisory lock key TicketZero migrates under. */
const MIGRATION_LOCK = 73_401_151;

/** Applies the migrations not yet applied; returns their versions. `client` is a dedicated connection. */
export async function migrate(client: PoolClient, schema: string | undefined): Promise<number[]> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    if (schema) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
      await client.query(`SET LOCAL search_path TO ${quoteIdentifier(schema)}`);
    }
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const done: number[] = [];
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      done.push(migration.version);
    }
    await client.query('COMMIT');
    return done;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** A schema name as a quoted SQL identifier (names are validated before they get here). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
