import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLowdbConversationStore } from '../../../src/adapters/store/lowdb-store.js';
import type { ConversationRecord, ConversationStore } from '../../../src/ports/conversation-store.js';
import { silentLog } from '../../../src/ports/log.js';
import { createRetentionJob, retentionCutoff } from '../../../src/security/retention-job.js';
import { makeConversationRecord, makeEndedRecord, makeTurn } from '../../contract/fixtures.js';
import { ManualClock } from '../../support/in-memory-ports.js';

const DAY_MS = 24 * 60 * 60 * 1000;

function everyFileUnder(dir: string): string {
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .map((path) => (statSync(path).isDirectory() ? everyFileUnder(path) : readFileSync(path, 'utf8')))
    .join('\n');
}

async function put(store: ConversationStore, record: ConversationRecord): Promise<void> {
  await store.update(record.ticketId, () => ({ conversation: record, result: null }));
}

describe('the transcript retention job', () => {
  let dataDir: string;
  let store: ConversationStore;
  const clock = new ManualClock(new Date('2026-06-01T12:00:00.000Z'));

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ticketzero-retention-'));
    store = await createLowdbConversationStore({ dataDir, fsync: false });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const daysAgo = (days: number) => new Date(clock.now().getTime() - days * DAY_MS).toISOString();

  it('deletes conversations that ended before the retention period and keeps the rest', async () => {
    await put(
      store,
      makeEndedRecord(1, daysAgo(31), {
        turns: [makeTurn(1, 'user', 'my old password is Winter2024! please help', 'in-1')],
      }),
    );
    await put(store, makeEndedRecord(2, daysAgo(29)));
    await put(
      store,
      makeConversationRecord({ ticketId: 3, createdAt: daysAgo(400), updatedAt: daysAgo(400) }),
    );
    const job = createRetentionJob({ store, clock, log: silentLog, retentionDays: 30 });

    expect(await job.runOnce()).toBe(1);

    expect(await store.getConversation(1)).toBeNull();
    expect(await store.getConversation(2)).not.toBeNull();
    // A live conversation is never expired, however old.
    expect((await store.getConversation(3))?.state).toBe('active');
    expect(everyFileUnder(dataDir)).not.toContain('Winter2024!');
  });

  it('deletes a conversation once the clock passes its expiry, not before', async () => {
    await put(store, makeEndedRecord(7, clock.now().toISOString()));
    const job = createRetentionJob({ store, clock, log: silentLog, retentionDays: 7 });

    clock.advanceMs(7 * DAY_MS - 60_000);
    expect(await job.runOnce()).toBe(0);
    expect(await store.getConversation(7)).not.toBeNull();

    clock.advanceMs(2 * 60_000);
    expect(await job.runOnce()).toBe(1);
    expect(await store.getConversation(7)).toBeNull();
  });

  it('runs once when started and stops cleanly', async () => {
    await put(store, makeEndedRecord(9, daysAgo(100)));
    const job = createRetentionJob({ store, clock, log: silentLog, retentionDays: 90 });

    job.start();
    await job.stop();

    expect(await store.getConversation(9)).toBeNull();
  });

  it('reports a failing store without throwing out of the timer', async () => {
    const errors: unknown[] = [];
    const failing = {
      deleteEndedBefore: () => Promise.reject(new Error('disk on fire')),
    };
    const log = { ...silentLog, child: () => ({ ...silentLog, error: (f: object) => errors.push(f) }) };
    const job = createRetentionJob({ store: failing, clock, log, retentionDays: 1 });

    job.start();
    await job.stop();

    expect(errors).toHaveLength(1);
  });
});

describe('the retention cutoff', () => {
  it('lies the retention period before now', () => {
    expect(retentionCutoff(new Date('2026-06-01T00:00:00.000Z'), 90)).toBe('2026-03-03T00:00:00.000Z');
  });
});
