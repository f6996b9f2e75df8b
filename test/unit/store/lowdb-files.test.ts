import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLowdbConversationStore } from '../../../src/adapters/store/lowdb-store.js';
import { makeConversationRecord, makeEndedRecord } from '../../contract/fixtures.js';

describe("the lowdb store's files after a crash", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tz-files-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('removes a temporary file left by a kill mid-write and keeps the document it was to replace', async () => {
    const store = await createLowdbConversationStore({ dataDir });
    await store.update(1, () => ({ conversation: makeConversationRecord({ ticketId: 1 }), result: 0 }));
    await store.close();
    await writeFile(join(dataDir, 'conversations', '.1.json.tmp'), '{"ticketId":1,"record":{"tick');

    const reopened = await createLowdbConversationStore({ dataDir });
    expect((await reopened.getConversation(1))?.version).toBe(1);
    expect(await readdir(join(dataDir, 'conversations'))).toEqual(['1.json']);
    await reopened.close();
  });

  it('archives on opening a conversation that ended just before the process was killed', async () => {
    const store = await createLowdbConversationStore({ dataDir });
    await store.update(2, () => ({ conversation: makeConversationRecord({ ticketId: 2 }), result: 0 }));
    await store.close();
    // The process wrote the ended record and was killed before it moved the document to the archive.
    const doc = JSON.parse(await readFile(join(dataDir, 'conversations', '2.json'), 'utf8')) as object;
    const ended = makeEndedRecord(2, '2026-03-01T10:00:00.000Z', { version: 2 });
    await writeFile(join(dataDir, 'conversations', '2.json'), JSON.stringify({ ...doc, record: ended }));

    const reopened = await createLowdbConversationStore({ dataDir });
    expect(await readdir(join(dataDir, 'conversations'))).toEqual([]);
    expect((await reopened.listEnded({ limit: 5 })).map((r) => [r.ticketId, r.version])).toEqual([[2, 2]]);
    await reopened.close();
  });

  it('keeps the live document when a kill left an archived copy of the same conversation beside it', async () => {
    const store = await createLowdbConversationStore({ dataDir });
    await store.update(3, () => ({
      conversation: makeEndedRecord(3, '2026-03-01T10:00:00.000Z'),
      result: 0,
    }));
    await store.close();
    const [archived] = await readdir(join(dataDir, 'archive'));
    const doc = JSON.parse(await readFile(join(dataDir, 'archive', archived!), 'utf8')) as object;
    // Brought back (written live), killed before the archived copy was removed.
    const live = makeConversationRecord({ ticketId: 3, version: 2 });
    await writeFile(join(dataDir, 'conversations', '3.json'), JSON.stringify({ ...doc, record: live }));

    const reopened = await createLowdbConversationStore({ dataDir });
    expect((await reopened.getConversation(3))?.state).toBe('active');
    expect(await reopened.listEnded({ limit: 5 })).toEqual([]);
    expect(await readdir(join(dataDir, 'archive'))).toEqual([]);
    await reopened.close();
  });

  it('refuses to start on a document that is not JSON instead of starting without it', async () => {
    await mkdir(join(dataDir, 'conversations'));
    await writeFile(join(dataDir, 'conversations', '4.json'), '{"ticketId":4,"rec');
    await expect(createLowdbConversationStore({ dataDir })).rejects.toMatchObject({ code: 'store_corrupt' });
    // The lock was given back: a fixed folder opens at once.
    await rm(join(dataDir, 'conversations', '4.json'));
    const store = await createLowdbConversationStore({ dataDir, lock: { waitMs: 0 } });
    await store.close();
  });
});
