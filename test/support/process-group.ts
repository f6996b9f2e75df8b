/**
 * Processes a test starts, and stops again with everything they started. A command like `npx tsx cli.ts` is four
 * processes (npx → sh → node tsx → node), and the local run starts the Agents Playground in a group of its own:
 * signalling only the direct child leaves the rest listening. So each process is started as the leader of its own
 * process group, and stopped by signalling that group and every group its descendants made, until none is left.
 */
import {
  spawn,
  type ChildProcess,
  type ChildProcessByStdio,
  type ChildProcessWithoutNullStreams,
  type SpawnOptions,
  type SpawnOptionsWithStdioTuple,
  type SpawnOptionsWithoutStdio,
  type StdioNull,
  type StdioPipe,
} from 'node:child_process';
import type { Readable } from 'node:stream';
import { TEST_RUN_VARIABLE } from './leftover-processes.js';
import { commandLine, hasProcfs, ownProcessGroup, readProcessTable } from './process-table.js';
import { until } from './waiting.js';

/** Groups started here and not stopped yet, so an interrupted run (Ctrl-C) still takes them down. */
const started = new Set<ChildProcess>();
/**
 * Groups known to be empty. A group's number is the leader's pid, which the kernel keeps from reuse only while a
 * member lives: once it is empty, signalling that number could hit another process's group.
 */
const emptied = new WeakSet<ChildProcess>();

/**
 * `spawn`, as the leader of a new process group, with the test run's marker in its environment even when the test
 * gives it an environment of its own (so the run's check finds it if it is left behind).
 */
export function spawnGroup(
  command: string,
  args: readonly string[],
  options: SpawnOptionsWithStdioTuple<StdioNull, StdioPipe, StdioPipe>,
): ChildProcessByStdio<null, Readable, Readable>;
export function spawnGroup(
  command: string,
  args: readonly string[],
  options?: SpawnOptionsWithoutStdio,
): ChildProcessWithoutNullStreams;
export function spawnGroup(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
export function spawnGroup(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  const marker = process.env[TEST_RUN_VARIABLE];
  const env = { ...(options.env ?? process.env), ...(marker ? { [TEST_RUN_VARIABLE]: marker } : {}) };
  const child = spawn(command, args, { ...options, env, detached: true });
  started.add(child);
  child.once('exit', () => {
    if (!groupExists(child.pid!)) {
      emptied.add(child);
      started.delete(child);
    }
  });
  stopOnInterrupt();
  return child;
}

export interface StopOptions {
  /** How long SIGTERM gets before SIGKILL (ms); 0 sends SIGKILL at once. */
  graceMs?: number;
}

/**
 * Stops the group `child` leads, and every process descended from it (in whatever group): SIGTERM, then SIGKILL
 * after `graceMs`. Resolves once none of them is running and `child`'s exit has been seen; safe to call again.
 */
export async function stopGroup(child: ChildProcess, options: StopOptions = {}): Promise<void> {
  const graceMs = options.graceMs ?? 5_000;
  const leader = child.pid;
  if (leader === undefined || emptied.has(child)) return; // never started, or it and its group are gone
  const exited = exitOf(child);
  const tree = new ProcessTree(leader, child.exitCode === null && child.signalCode === null);
  let stopped = false;
  if (graceMs > 0) {
    tree.signal('SIGTERM');
    stopped = await tree.goneWithin(graceMs);
  }
  if (!stopped) {
    tree.signal('SIGKILL');
    if (!(await tree.goneWithin(5_000))) {
      throw new Error(`processes of group ${leader} survived SIGKILL:\n${tree.describeLive()}`);
    }
  }
  await exited;
  emptied.add(child);
  started.delete(child);
}

/** Whether any process (a zombie included) is still in the group. */
function groupExists(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * The leader's group and its descendants, followed as they come and go: a descendant keeps counting after its
 * parent dies (the kernel hands it to init, so it is remembered by pid). Zombies have exited and do not count.
 */
class ProcessTree {
  private readonly known = new Set<number>();
  private readonly own = ownProcessGroup();

  /** `leaderRunning`: the leader has not been reaped, so its pid is still its own. */
  constructor(
    private readonly leader: number,
    leaderRunning: boolean,
  ) {
    if (leaderRunning) this.known.add(leader);
  }

  /** Live members, learning any new descendant or group member first. */
  live() {
    const table = readProcessTable();
    for (let grew = true; grew;) {
      grew = false;
      for (const p of table) {
        if (!this.known.has(p.pid) && (p.pgid === this.leader || this.known.has(p.ppid))) {
          this.known.add(p.pid);
          grew = true;
        }
      }
    }
    const live = table.filter((p) => this.known.has(p.pid) && p.state !== 'Z');
    // Forget the dead: with pids reused, a number once ours may soon be another process's.
    this.known.clear();
    for (const p of live) this.known.add(p.pid);
    return live;
  }

  signal(signal: NodeJS.Signals): void {
    const groups = hasProcfs ? new Set(this.live().map((p) => p.pgid)) : new Set([this.leader]);
    for (const group of groups) {
      if (group === this.own || group <= 1) continue;
      try {
        process.kill(-group, signal);
      } catch {
        // already gone
      }
    }
  }

  async goneWithin(ms: number): Promise<boolean> {
    return until('the group to exit', () => !this.alive(), { timeoutMs: ms, intervalMs: 25 }).catch(
      () => false,
    );
  }

  describeLive(): string {
    return this.live()
      .map((p) => `  ${p.pid} ${commandLine(p.pid)}`)
      .join('\n');
  }

  private alive(): boolean {
    return hasProcfs ? this.live().length > 0 : groupExists(this.leader);
  }
}

let interruptHandled = false;

/**
 * Ctrl-C reaches the terminal's foreground group, which no longer holds these groups: on SIGINT or SIGHUP this
 * worker kills what it started and then dies of the signal as it would have.
 */
function stopOnInterrupt(): void {
  if (interruptHandled) return;
  interruptHandled = true;
  for (const signal of ['SIGINT', 'SIGHUP'] as const) {
    const onSignal = () => {
      for (const child of started) {
        if (child.pid !== undefined) new ProcessTree(child.pid, child.exitCode === null).signal('SIGKILL');
      }
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
