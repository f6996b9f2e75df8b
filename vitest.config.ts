import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Fails the run when a test leaves a process (and the port it listens on) behind.
    globalSetup: ['test/support/fail-on-leftover-processes.ts'],
    // e2e suites start servers on port 0; files run in parallel processes.
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
