import { defineConfig } from 'vitest/config';

/**
 * Specs are filed by what they start (test/unit/ship/spec-folders.test.ts checks it):
 * - unit: the code in this process, with in-memory ports or a sandbox as its counterpart;
 * - contract: the suites every conversation store passes;
 * - sandboxes: the sandboxes themselves, with at most TicketZero's clients talking to them;
 * - in-process: TicketZero's parts (engine, adapters, HTTP layer) in this process against the sandboxes, not the app;
 * - e2e: the app (src/app.ts, src/main.ts or a CLI that starts it) over HTTP.
 * Each folder is a project: `vitest run --project e2e` runs one.
 */
export const SPEC_FOLDERS = ['unit', 'contract', 'sandboxes', 'in-process', 'e2e'] as const;

/** What every project runs with. The global setup stays on the root only, so it runs once per run. */
const shared = {
  environment: 'node',
  testTimeout: 60_000,
  hookTimeout: 60_000,
  // The sandboxes and the app listen on port 0; files run in parallel processes.
  pool: 'forks',
} as const;

export default defineConfig({
  test: {
    ...shared,
    // Fails the run when a test leaves a process (and the port it listens on) behind.
    globalSetup: ['test/support/fail-on-leftover-processes.ts'],
    reporters: ['default'],
    // Two files at a time: most specs wait on processes and HTTP, not the CPU; Vitest's default (cores - 1) runs
    // one file at a time on a 2-core machine.
    maxWorkers: 2,
    projects: SPEC_FOLDERS.map((folder) => ({
      test: { ...shared, name: folder, include: [`test/${folder}/**/*.test.ts`] },
    })),
  },
});
