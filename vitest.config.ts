import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e suites start servers on port 0; files run in parallel processes.
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
