import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** Runs the demo; a non-zero exit is returned, not thrown, with what it printed. */
async function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'src/cli/demo.ts', ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('npm run demo -- --json', () => {
  it('plays a whole ticket headless and ends with a one-line JSON summary of what reached Atera', async () => {
    const { stdout } = await run('npx', ['tsx', 'src/cli/demo.ts', '--json'], { timeout: 60_000 });
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(summary).toMatchObject({
      persona: 'scripted',
      model: 'ticketzero-sandbox',
      outcome: 'resolved',
      atera_status: 'Resolved',
    });
    expect(summary.rounds).toBeGreaterThanOrEqual(1);
    expect(summary.user_messages).toBeGreaterThanOrEqual(1);
    expect(summary.bot_messages).toBeGreaterThan(summary.user_messages as number);
    // Every round (the user's message with its answer, folded into one comment), plus the opening note, the first
    // answer and the resolution summary (which may fold with what was queued beside them).
    expect(summary.atera_comments).toBeGreaterThanOrEqual((summary.rounds as number) + 2);
  }, 90_000);
});

describe('npm run demo -- --persona plain-prose', () => {
  it('says which persona ran, shows no control line, and resolves only if Megan was asked to confirm', async () => {
    const { code, stdout } = await demo(['--persona', 'plain-prose']);
    expect(stdout).toMatch(/^Persona: plain-prose$/m);
    expect(stdout).toMatch(/plain-prose persona, model plain-prose: it ignores the reply format/);
    expect(stdout).not.toMatch(/\[\[ticketzero/i);
    const outcome =
      /^Outcome: (\S+) after \d+ round\(s\); Atera status: (\w+)\. Persona: plain-prose\.$/m.exec(stdout);
    expect(outcome, stdout).not.toBeNull();
    if (outcome![1] === 'resolved') {
      expect(outcome![2]).toBe('Resolved');
      expect(code).toBe(0);
    } else {
      // An honest failure: the demo names why and exits 1, it does not pretend.
      expect(stdout).toMatch(/^Not resolved: no confirmation question reached Megan/m);
      expect(code).toBe(1);
    }
  }, 90_000);

  it('refuses a persona the model sandbox does not have', async () => {
    const { code, stderr } = await demo(['--persona', 'gpt-4o']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--persona must be one of scripted, plain-prose/);
  }, 30_000);
});
