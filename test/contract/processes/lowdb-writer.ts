/**
 * A child process for the kill-safety test: opens a lowdb store and updates it as fast as it can, printing
 * "ack <n>" after each update resolved (= acknowledged as durable). The test SIGKILLs it mid-stream.
 * Usage: tsx lowdb-writer.ts <dataDir>
 */
import { createLowdbConversationStore } from '../../../src/adapters/store/lowdb-store.js';
import { makeComment, makeConversationRecord, makeEndedRecord, makeTurn } from '../fixtures.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: lowdb-writer.ts <dataDir>');
const store = await createLowdbConversationStore({ dataDir });

let n = 0;
async function writer(lane: number): Promise<void> {
  for (;;) {
    n += 1;
    const mine = n;
    const ticketId = 1000 + (mine % 40);
    if (mine % 7 === 0) {
      // Some tickets end, so the archive is appended to while the process is killed.
      const endedId = 200_000 + mine;
      await store.update(endedId, () => ({
        conversation: makeEndedRecord(endedId, new Date().toISOString()),
        result: 0,
      }));
      process.stdout.write(`ended ${endedId}\n`);
    }
    await store.update(ticketId, (current) => {
      const base = current ?? makeConversationRecord({ ticketId, turns: [] });
      return {
        conversation: {
          ...base,
          turns: [...base.turns, makeTurn(base.turns.length + 1, 'user', `message ${mine}`)],
        },
        comments: [makeComment(`comment ${mine}`)],
        result: 0,
      };
    });
    process.stdout.write(`ack ${mine} ${lane}\n`);
  }
}
await Promise.all([writer(1), writer(2), writer(3), writer(4)]);
