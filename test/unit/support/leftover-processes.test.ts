/**
 * The test run's own hygiene: what a test starts, it stops with everything that process started, and a process it
 * leaves behind is found by the run's marker, with the port it still listens on.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { findLeftoverProcesses, TEST_RUN_VARIABLE } from '../../support/leftover-processes.js';
import { spawnGroup, stopGroup } from '../../support/process-group.js';
import { hasProcfs, readProcessTable } from '../../support/process-table.js';
import type { ChildProcess } from 'node:child_process';

const MARKER = 'TICKETZERO_LEFTOVER_SPEC';

/** A node process that listens on a free port, prints it, and stays. */
const LISTENER = `require('node:net').createServer().listen(0, '127.0.0.1', function () {
  console.log(this.address().port);
});`;

const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => stopGroup(child, { graceMs: 0 })));
});

function live(pids: readonly number[]): number[] {
  const alive = new Set(
    readProcessTable()
      .filter((p) => p.state !== 'Z')
      .map((p) => p.pid),
  );
  return pids.filter((pid) => alive.has(pid));
}

describe.skipIf(!hasProcfs)('processes a test leaves behind', () => {
  it('are found by the run’s marker, with the port they listen on; unmarked processes are not', async () => {
    const value = randomUUID();
    const marked = spawnGroup(process.execPath, ['-e', LISTENER], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [MARKER]: value },
    });
    const unmarked = spawnGroup('sleep', ['60'], { stdio: 'ignore' });
    children.push(marked, unmarked);
    const [chunk] = (await once(marked.stdout, 'data')) as [Buffer];
    const port = Number(chunk.toString().trim());

    const found = findLeftoverProcesses(MARKER, value);
    expect(found).toEqual([
      { pid: marked.pid, ppid: process.pid, command: `${process.execPath} -e ${LISTENER}`, ports: [port] },
    ]);
    expect(findLeftoverProcesses(MARKER, randomUUID())).toEqual([]);

    await stopGroup(marked);
    expect(findLeftoverProcesses(MARKER, value)).toEqual([]);
  });

  it('carry the run’s marker even when the test gives them an environment of its own', async () => {
    const run = process.env[TEST_RUN_VARIABLE];
    expect(run, 'the global setup sets the marker').toBeTruthy();
    const child = spawnGroup('sleep', ['60'], { stdio: 'ignore', env: { PATH: process.env.PATH } });
    children.push(child);
    await once(child, 'spawn');
    expect(findLeftoverProcesses(TEST_RUN_VARIABLE, run!).map((p) => p.pid)).toContain(child.pid);
  });
});

describe.skipIf(!hasProcfs)('stopping what a test started', () => {
  it('stops the whole group, grandchildren included, not only the direct child', async () => {
    // sh → sh → sleep, the shape of `npx tsx …`; the shell prints the pids of the two below it.
    const child = spawnGroup('sh', ['-c', "sh -c 'sleep 60 & echo $$ $!; wait' & wait"], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
    const below = chunk.toString().trim().split(' ').map(Number);
    expect(live([child.pid!, ...below])).toHaveLength(3);

    await stopGroup(child);
    expect(live([child.pid!, ...below])).toEqual([]);
  });

  it('stops a descendant that moved to a group of its own, and one that ignores SIGTERM', async () => {
    // The local run starts the Agents Playground detached; a stuck process only yields to SIGKILL.
    const script = `
      const { spawn } = require('node:child_process');
      const inner = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
      process.on('SIGTERM', () => {});
      console.log(inner.pid);
      setInterval(() => {}, 1000);`;
    const child = spawnGroup(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
    const inner = Number(chunk.toString().trim());
    expect(live([child.pid!, inner])).toHaveLength(2);

    const started = Date.now();
    await stopGroup(child, { graceMs: 300 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(live([child.pid!, inner])).toEqual([]);
    expect(child.signalCode).toBe('SIGKILL');
  });
});
