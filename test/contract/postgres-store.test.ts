import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresConversationStore } from '../../src/adapters/store/postgres-store.js';
import type { ConversationStore } from '../../src/ports/conversation-store.js';
import { describeConversationStoreContract } from './conversation-store.contract.js';
import { makeComment, makeConversationRecord } from './fixtures.js';
import { testDatabaseUrl } from '../support/test-database.js';

// CI sets it in .ci/run; under CI a missing URL fails the run (test/support/test-database.ts).
const databaseUrl = testDatabaseUrl();

const schemas: string[] = [];
function freshSchema(): string {
  const schema = `tz_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return schema;
}

if (!databaseUrl) {
  describe('the PostgreSQL store', () => {
    // Skipped only without a database and outside CI: under CI=true a missing TICKETZERO_TEST_DATABASE_URL fails the run.
    // Skipped on purpose: a visible placeholder where PostgreSQL is missing, so the report says why the real specs did not run.
    it.skip('runs against a real PostgreSQL (TICKETZERO_TEST_DATABASE_URL unset)', () => {});
  });
} else {
  const url = databaseUrl;

  afterAll(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  describeConversationStoreContract('the PostgreSQL store', async () => {
    const schema = freshSchema();
    let current: ConversationStore = await createPostgresConversationStore({ connectionString: url, schema });
    return {
      store: current,
      reopen: async () => {
        await current.close();
        current = await createPostgresConversationStore({ connectionString: url, schema });
        return current;
      },
      cleanup: () => current.close(),
    };
  });

  describe('the PostgreSQL store with several instances', () => {
    it('migrates once when several instances start together', async () => {
      const schema = freshSchema();
      const stores = await Promise.all(
        [1, 2, 3].map((i) =>
          createPostgresConversationStore({ connectionString: url, schema, instanceId: `i${i}` }),
        ),
      );
      try {
        const { rows } = await queryIn(url, schema, 'SELECT version FROM schema_migrations');
        expect(rows.map((r) => r.version)).toEqual([1]);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('creates a new ticket once when two instances race to update it', async () => {
      const schema = freshSchema();
      const a = await createPostgresConversationStore({ connectionString: url, schema, instanceId: 'a' });
      const b = await createPostgresConversationStore({ connectionString: url, schema, instanceId: 'b' });
      try {
        for (let ticketId = 1; ticketId <= 10; ticketId += 1) {
          const attempt = (store: ConversationStore) =>
            store.update(ticketId, (current) =>
              current
                ? { conversation: { ...current, rounds: current.rounds + 1 }, result: 'updated' }
                : {
                    conversation: makeConversationRecord({ ticketId, rounds: 0 }),
                    comments: [makeComment('opened')],
                    result: 'created',
                  },
            );
          const results = await Promise.all([attempt(a), attempt(b), attempt(a), attempt(b)]);
          expect(results.filter((r) => r === 'created')).toHaveLength(1);
          const record = await b.getConversation(ticketId);
          expect(record?.rounds).toBe(3);
          expect(record?.version).toBe(4);
        }
        expect((await a.outboxStats()).depth).toBe(10);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('never hands the same comment to two instances', async () => {
      const schema = freshSchema();
      const a = await createPostgresConversationStore({ connectionString: url, schema, instanceId: 'a' });
      const b = await createPostgresConversationStore({ connectionString: url, schema, instanceId: 'b' });
      try {
        for (let ticketId = 1; ticketId <= 30; ticketId += 1) {
          await a.update(ticketId, () => ({ comments: [makeComment('one'), makeComment('two')], result: 0 }));
        }
        const delivered = new Map<string, number>();
        const now = new Date(Date.now() + 1000).toISOString();
        const deliver = async (store: ConversationStore) => {
          for (let round = 0; round < 40; round += 1) {
            const due = await store.dueComments(now, 5, 600_000);
            for (const entry of due) {
              delivered.set(entry.id, (delivered.get(entry.id) ?? 0) + 1);
              await store.markDelivered(entry.id);
            }
          }
        };
        await Promise.all([deliver(a), deliver(b), deliver(a), deliver(b)]);
        expect([...delivered.values()].every((count) => count === 1)).toBe(true);
        expect(delivered.size).toBe(60);
        expect((await a.outboxStats()).depth).toBe(0);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}

async function queryIn(
  url: string,
  schema: string,
  sql: string,
): Promise<pg.QueryResult<{ version: number }>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${schema}"`);
    return await client.query<{ version: number }>(sql);
  } finally {
    await client.end();
  }
}
