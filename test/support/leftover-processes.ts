/**
 * Processes a test run left behind. The run puts a marker of its own in the environment before any test starts;
 * every process a test starts inherits it (spawnGroup adds it even to an environment built from scratch), so
 * whatever still carries the marker when the run ends was started by a test and never stopped.
 */
import {
  commandLine,
  environmentHas,
  listeningPorts,
  readProcessTable,
  type ProcessEntry,
} from './process-table.js';

/** The environment variable whose value marks one test run's processes. */
export const TEST_RUN_VARIABLE = 'TICKETZERO_TEST_RUN';

export interface LeftoverProcess {
  readonly pid: number;
  readonly ppid: number;
  readonly command: string;
  /** TCP ports it still listens on. */
  readonly ports: readonly number[];
}

/**
 * Every live process (zombies have exited) started with `name=value` in its environment, except those `spared`
 * (the runner's own processes, which carry the marker too).
 */
export function findLeftoverProcesses(
  name: string,
  value: string,
  spared: (entry: ProcessEntry, command: string) => boolean = () => false,
): LeftoverProcess[] {
  return readProcessTable()
    .filter((p) => p.state !== 'Z' && environmentHas(p.pid, name, value))
    .map((p) => ({ entry: p, command: commandLine(p.pid) }))
    .filter(({ entry, command }) => !spared(entry, command))
    .map(({ entry, command }) => ({
      pid: entry.pid,
      ppid: entry.ppid,
      command,
      ports: listeningPorts(entry.pid),
    }));
}

/** One line per process: pid, the ports it listens on, its command line. */
export function describeLeftovers(leftovers: readonly LeftoverProcess[]): string {
  return leftovers
    .map((p) => {
      const ports = p.ports.length > 0 ? ` listening on ${p.ports.join(', ')}` : '';
      return `  pid ${p.pid} (parent ${p.ppid})${ports}: ${p.command}`;
    })
    .join('\n');
}
