/**
 * The machine's processes as Linux's /proc shows them, for the tests that must stop what they started and for the
 * run's check that nothing was left behind. Off Linux (no /proc) the table is empty.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** Its process group. */
  readonly pgid: number;
  /** One letter: R running, S sleeping, Z zombie (exited, not yet reaped), … */
  readonly state: string;
}

export const hasProcfs = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

/** /proc/<pid>/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses, so parse after the last ')'. */
function readEntry(pid: number): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(ppid), pgid: Number(pgid), state: state ?? '?' };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** Every process now running (zombies included: they still hold their pid until their parent reaps them). */
export function readProcessTable(): ProcessEntry[] {
  if (!hasProcfs) return [];
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readEntry(Number(name)))
    .filter((entry): entry is ProcessEntry => entry !== undefined);
}

/** This process's own group, which must never be signalled. */
export function ownProcessGroup(): number | undefined {
  return readEntry(process.pid)?.pgid;
}

/** Its command line, space-separated ('' when it is gone or not ours to read). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Whether its environment (as it was started) holds `name=value`; false when unreadable (another user's, a zombie). */
export function environmentHas(pid: number, name: string, value: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${name}=${value}`);
  } catch {
    return false;
  }
}

/** The TCP ports it listens on (IPv4 and IPv6), from its socket descriptors matched against the kernel's tables. */
export function listeningPorts(pid: number): number[] {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
          } catch {
            return undefined;
          }
        })
        .filter((inode): inode is string => inode !== undefined),
    );
  } catch {
    return [];
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    // "sl local_address rem_address st … uid timeout inode"; st 0A is LISTEN, the port is local_address's hex tail.
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A' && inodes.has(fields[9] ?? '')) {
        ports.add(parseInt(fields[1]?.split(':')[1] ?? '', 16));
      }
    }
  }
  return [...ports].sort((a, b) => a - b);
}
