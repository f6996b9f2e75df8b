/**
 * Vitest global setup: the run fails when a test leaves a process behind (and with it whatever port it listens on).
 * Before any worker starts, a fresh marker goes into the environment workers and their children inherit; when the
 * run ends, every process still carrying it, other than Vitest and its workers, is killed and named in the error.
 *
 * Vitest only logs an error thrown by a global teardown ("error during close"), so the exit code is set here too.
 */
import { randomUUID } from 'node:crypto';
import { describeLeftovers, findLeftoverProcesses, TEST_RUN_VARIABLE } from './leftover-processes.js';
import type { ProcessEntry } from './process-table.js';
import { until } from './waiting.js';

/** Vitest itself (this process) and the pool's workers (its children running Vitest's worker entry). */
function isVitest(entry: ProcessEntry, command: string): boolean {
  return (
    entry.pid === process.pid ||
    (entry.ppid === process.pid && /[/\\]vitest[/\\]dist[/\\]workers[/\\]/.test(command))
  );
}

export function setup(): () => Promise<void> {
  const marker = randomUUID();
  process.env[TEST_RUN_VARIABLE] = marker;

  return async function teardown() {
    // A process a test has just stopped may take a moment to finish exiting.
    let leftovers = findLeftoverProcesses(TEST_RUN_VARIABLE, marker, isVitest);
    await until(
      'no process left',
      () => (leftovers = findLeftoverProcesses(TEST_RUN_VARIABLE, marker, isVitest)).length === 0,
      { timeoutMs: 2_000, intervalMs: 100 },
    ).catch(() => undefined);
    if (leftovers.length === 0) return;
    const description = describeLeftovers(leftovers);
    for (const { pid } of leftovers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    process.exitCode = 1;
    throw new Error(
      `tests left ${leftovers.length} process(es) running (now killed); stop what a test starts with stopGroup:\n${description}`,
    );
  };
}
