import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLowdbConversationStore } from '../../../src/adapters/store/lowdb-store.js';
import { makeComment, makeConversationRecord } from '../../contract/fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the lowdb store after a restart', () => {
  it('makes a comment whose attempt was in flight when the process died due at once, not after its lease', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tz-leases-'));
    dirs.push(dataDir);
    const first = await createLowdbConversationStore({ dataDir });
    await first.update(7, () => ({
      conversation: makeConversationRecord({ ticketId: 7 }),
      comments: [makeComment('turn 1')],
      result: undefined,
    }));
    const [entry] = await first.dueComments(new Date().toISOString(), 10, 60_000);
    // The outbox records the attempt, a lease ahead, before it posts; then the process is killed.
    const leaseEnd = new Date(Date.now() + 60_000).toISOString();
    await first.markFailed(entry!.id, 'delivery in progress', leaseEnd);
    await first.close();

    const second = await createLowdbConversationStore({ dataDir });
    const due = await second.dueComments(new Date().toISOString(), 10, 60_000);
    await second.close();
    expect(due.map((e) => [e.id, e.attempts])).toEqual([[entry!.id, 1]]);
  });

  it('keeps a comment that is not yet due in the running process scheduled as it was', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tz-leases-'));
    dirs.push(dataDir);
    const store = await createLowdbConversationStore({ dataDir });
    await store.update(8, () => ({ comments: [makeComment('note')], result: undefined }));
    const [entry] = await store.dueComments(new Date().toISOString(), 10, 60_000);
    await store.markFailed(entry!.id, 'Atera 503', new Date(Date.now() + 60_000).toISOString());
    expect(await store.dueComments(new Date().toISOString(), 10, 60_000)).toEqual([]);
    await store.close();
  });
});
