import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLowdbConversationStore } from '../../../src/adapters/store/lowdb-store.js';
import { makeComment, makeConversationRecord, makeEndedRecord } from '../../contract/fixtures.js';

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
    await writeFile(join(dataDir, 'conversations', '.1.jsonl.tmp'), '{"ticketId":1,"record":{"tick');

    const reopened = await createLowdbConversationStore({ dataDir });
    expect((await reopened.getConversation(1))?.version).toBe(1);
    expect(await readdir(join(dataDir, 'conversations'))).toEqual(['1.jsonl']);
    await reopened.close();
  });

  it('opens without a line torn by a kill mid-append (it was never acknowledged), and the next write replaces the file', async () => {
    const store = await createLowdbConversationStore({ dataDir });
    await store.update(1, () => ({ conversation: makeConversationRecord({ ticketId: 1 }), result: 0 }));
    await store.close();
    await appendFile(join(dataDir, 'conversations', '1.jsonl'), '{"record":{"ticketId":1,"rou');

    const reopened = await createLowdbConversationStore({ dataDir });
    expect((await reopened.getConversation(1))?.version).toBe(1);
    await reopened.update(1, (current) => ({ conversation: { ...current!, rounds: 2 }, result: 0 }));
    const lines = (await readFile(join(dataDir, 'conversations', '1.jsonl'), 'utf8')).split('\n');
    expect(lines.map((line) => line.length > 0)).toEqual([true, false]); // one whole line, nothing torn
    await reopened.close();
  });

  it('records a delivered comment by appending the removal of its field, not the transcript again', async () => {
    const store = await createLowdbConversationStore({ dataDir });
    await store.update(6, () => ({ conversation: makeConversationRecord({ ticketId: 6 }), result: 0 }));
    await store.update(6, (current) => ({
      conversation: { ...current!, rounds: 1 },
      comments: [makeComment('Please restart Outlook.')],
      result: 0,
    }));
    const file = join(dataDir, 'conversations', '6.jsonl');
    const before = (await stat(file)).size;
    const [entry] = await store.dueComments(new Date(Date.now() + 1000).toISOString(), 10, 60_000);
    await store.markDelivered(entry!.id);
    expect((await readFile(file, 'utf8')).slice(before)).toBe('{"-":["comment 1"]}\n');
    await store.close();
    const reopened = await createLowdbConversationStore({ dataDir });
    expect((await reopened.outboxStats()).depth).toBe(0);
    expect((await reopened.getConversation(6))?.rounds).toBe(1);
    await reopened.close();
  });

  it('archives on opening a conversation that ended just before the process was killed', async () => {
    const store = await createLowdbConversationStore({ dataDir });
    await store.update(2, () => ({ conversation: makeConversationRecord({ ticketId: 2 }), result: 0 }));
    await store.close();
    // The process appended the ended record and was killed before it moved the document to the archive.
    const ended = makeEndedRecord(2, '2026-03-01T10:00:00.000Z', { version: 2 });
    await appendFile(join(dataDir, 'conversations', '2.jsonl'), `${JSON.stringify({ record: ended })}\n`);

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
    const lines = await readFile(join(dataDir, 'archive', archived!), 'utf8');
    // Brought back (written live), killed before the archived copy was removed.
    const live = makeConversationRecord({ ticketId: 3, version: 2 });
    await writeFile(
      join(dataDir, 'conversations', '3.jsonl'),
      `${lines}${JSON.stringify({ record: live })}\n`,
    );

    const reopened = await createLowdbConversationStore({ dataDir });
    expect((await reopened.getConversation(3))?.state).toBe('active');
    expect(await reopened.listEnded({ limit: 5 })).toEqual([]);
    expect(await readdir(join(dataDir, 'archive'))).toEqual([]);
    await reopened.close();
  });

  it('refuses to start on a document that is not JSON instead of starting without it', async () => {
    await mkdir(join(dataDir, 'conversations'));
    await writeFile(join(dataDir, 'conversations', '4.jsonl'), '{"ticketId":4,"rec');
    await expect(createLowdbConversationStore({ dataDir })).rejects.toMatchObject({ code: 'store_corrupt' });
    // The lock was given back: a fixed folder opens at once.
    await rm(join(dataDir, 'conversations', '4.jsonl'));
    const store = await createLowdbConversationStore({ dataDir, lock: { waitMs: 0 } });
    await store.close();
  });
});
