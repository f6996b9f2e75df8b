/**
 * `npm start` as a person runs it (the same CLI, on free ports, in its own process group): the sandboxes,
 * TicketZero and the Agents Playground. Lines typed at its terminal go to its stdin; stop() ends the whole group,
 * the Playground included, so nothing outlives the test.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawnGroup, stopGroup } from '../../support/process-group.js';
import { until } from '../../support/waiting.js';
import { freePort } from './bot-process.js';

export interface LocalRun {
  readonly playgroundPort: number;
  /** `http://127.0.0.1:<playgroundPort>/`, the page a person opens. */
  readonly playgroundUrl: string;
  /** Everything the run printed so far. */
  output(): string;
  /** Waits until the output matches; the error carries the output. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Types a line at the run's terminal. */
  type(line: string): void;
  /** Stops the run and everything it started (SIGTERM, then SIGKILL to whatever is left). */
  stop(): Promise<void>;
}

export async function startLocalRun(options: {
  dataDir: string;
  logLevel?: string;
  /** More flags (e.g. `--keep`). */
  args?: string[];
}): Promise<LocalRun> {
  const playgroundPort = await freePort();
  const botPort = await freePort();
  const child: ChildProcessWithoutNullStreams = spawnGroup(
    'npx',
    [
      'tsx',
      'src/cli/local-run.ts',
      '--data-dir',
      options.dataDir,
      '--port',
      String(botPort),
      '--playground-port',
      String(playgroundPort),
      '--log-level',
      options.logLevel ?? 'warn',
      ...(options.args ?? []),
    ],
    { stdio: 'pipe', env: { ...process.env, FORCE_COLOR: '0' } },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const waitForOutput = (pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> =>
    until(`the local run to print ${pattern}`, () => output.match(pattern), {
      timeoutMs,
      intervalMs: 100,
      describe: () => `output:\n${output}`,
    });

  const run: LocalRun = {
    playgroundPort,
    playgroundUrl: `http://127.0.0.1:${playgroundPort}/`,
    output: () => output,
    waitForOutput,
    type: (line) => child.stdin.write(`${line}\n`),
    stop: () => stopGroup(child),
  };
  try {
    // The banner comes once the Playground listens and TicketZero has started.
    await waitForOutput(/TicketZero is running locally/, 60_000);
  } catch (error) {
    await run.stop();
    throw error;
  }
  return run;
}
