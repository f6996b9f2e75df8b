/**
 * The PostgreSQL the store specs run against: TICKETZERO_TEST_DATABASE_URL (.ci/run sets it; PostgreSQL runs on every
 * machine). Without it a spec run on a workstation skips those specs with a placeholder; under CI (CI=true) the
 * missing URL fails the run instead, so the PostgreSQL store is never skipped quietly where it must be tested.
 */
export function testDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env['TICKETZERO_TEST_DATABASE_URL'];
  if (!url && env['CI'] === 'true') {
    throw new Error(
      'TICKETZERO_TEST_DATABASE_URL is not set under CI: the PostgreSQL specs must run (set it, e.g. postgres://postgres@127.0.0.1:5432/test)',
    );
  }
  return url || undefined;
}
