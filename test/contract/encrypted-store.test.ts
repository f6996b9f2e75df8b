import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withEncryptedTranscripts } from '../../src/adapters/store/encrypted-store.js';
import { createInMemoryConversationStore } from '../../src/adapters/store/in-memory-store.js';
import { createLowdbConversationStore } from '../../src/adapters/store/lowdb-store.js';
import { createTranscriptCipher } from '../../src/adapters/store/transcript-cipher.js';
import type { ConversationStore } from '../../src/ports/conversation-store.js';
import { describeConversationStoreContract } from './conversation-store.contract.js';
import { makeComment, makeConversationRecord, makeEndedRecord, makeTurn } from './fixtures.js';

const key = () => randomBytes(32).toString('base64');
const keys = `k2:${key()},k1:${key()}`;

describeConversationStoreContract('the encrypted in-memory store', async () => {
  const store = withEncryptedTranscripts(createInMemoryConversationStore(), createTranscriptCipher(keys));
  return { store, cleanup: () => store.close() };
});

describeConversationStoreContract('the encrypted lowdb store', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tz-enc-'));
  const open = async () =>
    withEncryptedTranscripts(await createLowdbConversationStore({ dataDir }), createTranscriptCipher(keys));
  let current: ConversationStore = await open();
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await open();
      return current;
    },
    cleanup: async () => {
      await current.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

/** Every file the lowdb store keeps: snapshot, journal, claims, archive. */
async function everythingOnDisk(dataDir: string): Promise<string> {
  const parts: string[] = [];
  for (const entry of await readdir(dataDir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) parts.push(await readFile(join(entry.parentPath, entry.name), 'utf8'));
  }
  expect(parts.join('')).toContain('"ticketId"');
  return parts.join('\n');
}

describe('transcripts encrypted at rest', () => {
  const secretWords = 'my password is Sommer2026 and my boss Adele hates the VPN';

  it("keeps the user's words, name, e-mail and the queued comments out of the files on disk", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tz-enc-'));
    try {
      const store = withEncryptedTranscripts(
        await createLowdbConversationStore({ dataDir }),
        createTranscriptCipher(keys),
      );
      const live = makeConversationRecord({ ticketId: 1 });
      live.turns.push(makeTurn(3, 'user', secretWords));
      await store.update(1, () => ({
        conversation: live,
        comments: [makeComment(`Megan: ${secretWords}`)],
        result: 0,
      }));
      const ended = makeEndedRecord(2, '2026-03-01T10:00:00.000Z');
      ended.turns.push(makeTurn(3, 'user', secretWords));
      await store.update(2, () => ({ conversation: ended, result: 0 }));

      const disk = await everythingOnDisk(dataDir);
      for (const plain of [
        secretWords,
        'Sommer2026',
        'Only in Outlook',
        'Outlook keeps asking for my password',
        'megan.bowen@contoso.example',
        'Megan Bowen',
        'Marketing Manager',
        '+49 30 1234567',
      ]) {
        expect(disk).not.toContain(plain);
      }
      expect(disk).toContain('enc:v1:k2:');
      // Ids stay in clear, so the indexes work.
      expect(disk).toContain(live.user!.id);

      expect((await store.getConversation(1))?.turns[2]?.text).toBe(secretWords);
      expect((await store.getConversation(2))?.turns[2]?.text).toBe(secretWords);
      expect((await store.findLiveByUser(live.user!.id)).map((r) => r.ticketId)).toEqual([1]);
      const [entry] = await store.dueComments(new Date(Date.now() + 1000).toISOString(), 10, 60_000);
      expect(entry?.comment.text).toBe(`Megan: ${secretWords}`);
      await store.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('reads records written under an old key after a rotation, and writes new ones under the new key', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tz-enc-'));
    const oldKey = `old:${key()}`;
    const newKey = `new:${key()}`;
    try {
      const before = withEncryptedTranscripts(
        await createLowdbConversationStore({ dataDir }),
        createTranscriptCipher(oldKey),
      );
      await before.update(1, () => ({ conversation: makeConversationRecord({ ticketId: 1 }), result: 0 }));
      await before.close();

      const after = withEncryptedTranscripts(
        await createLowdbConversationStore({ dataDir }),
        createTranscriptCipher(`${newKey},${oldKey}`),
      );
      expect((await after.getConversation(1))?.ticket.description).toContain('Outlook asks for my password');
      await after.update(1, (c) => ({ conversation: { ...c!, rounds: 2 }, result: 0 }));
      await after.close();
      const disk = await everythingOnDisk(dataDir);
      expect(disk).toContain('enc:v1:new:');
      expect(disk).not.toContain('enc:v1:old:');

      const withoutOld = withEncryptedTranscripts(
        await createLowdbConversationStore({ dataDir }),
        createTranscriptCipher(newKey),
      );
      expect((await withoutOld.getConversation(1))?.rounds).toBe(2);
      await withoutOld.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to read a record whose key was removed, with a clear error', async () => {
    const inner = createInMemoryConversationStore();
    const first = withEncryptedTranscripts(inner, createTranscriptCipher(`a:${key()}`));
    await first.update(1, () => ({ conversation: makeConversationRecord({ ticketId: 1 }), result: 0 }));
    const other = withEncryptedTranscripts(inner, createTranscriptCipher(`b:${key()}`));
    await expect(other.getConversation(1)).rejects.toMatchObject({ code: 'transcript_undecryptable' });
  });

  it('still reads records stored before encryption was turned on', async () => {
    const inner = createInMemoryConversationStore();
    await inner.update(1, () => ({ conversation: makeConversationRecord({ ticketId: 1 }), result: 0 }));
    const store = withEncryptedTranscripts(inner, createTranscriptCipher(keys));
    expect((await store.getConversation(1))?.user?.displayName).toBe('Megan Bowen');
  });
});
