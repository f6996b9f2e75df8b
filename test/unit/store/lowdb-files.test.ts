import { appendFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLowdbConversationStore } from '../../../src/adapters/store/lowdb-store.js';
import { makeEndedRecord } from '../../contract/fixtures.js';

describe("the lowdb store's files after a crash", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tz-files-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('cuts off an archive line torn mid-append and keeps archiving after it', async () => {
    const store = await createLowdbConversationStore({ dataDir });
    await store.update(1, () => ({
      conversation: makeEndedRecord(1, '2026-03-01T10:00:00.000Z'),
      result: 0,
    }));
    await store.close();
    const [file] = await readdir(join(dataDir, 'archive'));
    await appendFile(join(dataDir, 'archive', file!), '{"n":99,"ticketId":2,"lastSeq":0,"endedAt":"20');

    const reopened = await createLowdbConversationStore({ dataDir });
    await reopened.update(3, () => ({
      conversation: makeEndedRecord(3, '2026-03-02T10:00:00.000Z'),
      result: 0,
    }));
    await reopened.close();
    const again = await createLowdbConversationStore({ dataDir });
    expect((await again.listEnded({ limit: 10 })).map((r) => r.ticketId)).toEqual([3, 1]);
    await again.close();
  });

  it('cuts off a claim line torn mid-append and keeps the claims before it', async () => {
    const store = await createLowdbConversationStore({ dataDir });
    const claim = {
      by: 'a',
      at: '2026-03-02T08:00:00.000Z',
      decision: 'taken' as const,
      ticketCreatedAt: '2026-03-02T08:00:00.000Z',
    };
    await store.claimTicket(1, claim);
    await store.close();
    await appendFile(join(dataDir, 'claims.jsonl'), '{"ticketId":2,"cla');
    const reopened = await createLowdbConversationStore({ dataDir });
    expect(await reopened.claimTicket(1, claim)).toBe(false);
    expect(await reopened.claimTicket(2, claim)).toBe(true);
    await reopened.close();
  });

  it('refuses to start on a document that is not JSON instead of starting empty', async () => {
    await writeFile(join(dataDir, 'ticketzero.json'), '{"format":1,"tick');
    await expect(createLowdbConversationStore({ dataDir })).rejects.toMatchObject({ code: 'store_corrupt' });
  });
});
