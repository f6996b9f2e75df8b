/**
 * A child process for the lock spec: opens a lowdb store on <dataDir> and holds it, printing "opened <pid>", or
 * prints "refused <code>" and exits 3 when the folder is held. Run as PID 1 of its own PID namespace (unshare).
 */
import { createLowdbConversationStore } from '../../../src/adapters/store/lowdb-store.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: lowdb-holder.ts <dataDir>');
try {
  await createLowdbConversationStore({ dataDir, lock: { staleMs: 1000 } });
  process.stdout.write(`opened ${process.pid}\n`);
  setInterval(() => undefined, 60_000);
} catch (error) {
  process.stdout.write(`refused ${(error as { code?: string }).code}\n`);
  process.exit(3);
}
