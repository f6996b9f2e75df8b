import { describe, expect, it } from 'vitest';
import { testDatabaseUrl } from '../../support/test-database.js';

describe('the PostgreSQL specs’ database', () => {
  it('is the URL CI gives', () => {
    expect(testDatabaseUrl({ TICKETZERO_TEST_DATABASE_URL: 'postgres://x@127.0.0.1/test', CI: 'true' })).toBe(
      'postgres://x@127.0.0.1/test',
    );
  });

  it('may be missing on a workstation, where the PostgreSQL specs are skipped', () => {
    expect(testDatabaseUrl({})).toBeUndefined();
  });

  it('fails the run when missing under CI, instead of skipping quietly', () => {
    expect(() => testDatabaseUrl({ CI: 'true' })).toThrow(/TICKETZERO_TEST_DATABASE_URL is not set under CI/);
  });
});
