import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npm run demo -- --json', () => {
  it('plays a whole ticket headless and ends with a one-line JSON summary of what reached Atera', async () => {
    const { stdout } = await run('npx', ['tsx', 'src/cli/demo.ts', '--json'], { timeout: 60_000 });
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(summary).toMatchObject({ outcome: 'resolved', atera_status: 'Resolved' });
    expect(summary.rounds).toBeGreaterThanOrEqual(1);
    expect(summary.user_messages).toBeGreaterThanOrEqual(1);
    expect(summary.bot_messages).toBeGreaterThan(summary.user_messages as number);
    // Every user message and every answer is a comment, plus the opening note and the resolution summary.
    expect(summary.atera_comments).toBeGreaterThanOrEqual((summary.rounds as number) * 2 + 3);
  }, 90_000);
});
