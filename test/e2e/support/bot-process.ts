/**
 * TicketZero as a real operating-system process (`node --import tsx src/main.ts`), for the tests that kill it
 * with SIGKILL: the production entry point, its own event loop and file handles, nothing shared with the test.
 * The child reads only the environment it is given (plus `.env` in its working directory, which is a fresh
 * temporary directory, so a developer's `.env` never leaks in).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { spawnGroup, stopGroup } from '../../support/process-group.js';
import { until } from '../../support/waiting.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = join(REPO, 'src/main.ts');
/** tsx's loader by URL: the child runs in a temporary working directory, where a bare `tsx` would not resolve. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface BotProcess {
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `<url>/api/messages`, for the connector sandbox's botEndpoint. */
  readonly messagesUrl: string;
  /** Resolves when the process has exited (by itself or killed). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What the process wrote to stderr and stdout (the last 64 KiB), for failure messages. */
  output(): string;
  /** SIGKILL (its whole process group): no shutdown hook runs, in-flight writes and requests are cut where they are. */
  kill(): Promise<void>;
  /** SIGTERM and wait (a clean stop); SIGKILL if it has not stopped after 30 s. */
  stop(): Promise<void>;
}

export interface SpawnBotOptions {
  /** The settings (the local stack's env plus the test's own); PORT, HOST and LOG_LEVEL are set here. */
  env: Record<string, string>;
  /** Keep the same port across restarts (as a host would); a free one is picked when omitted. */
  port?: number;
  /** How long to wait for /healthz (ms). */
  startTimeoutMs?: number;
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export async function spawnBot(options: SpawnBotOptions): Promise<BotProcess> {
  const port = options.port ?? (await freePort());
  const cwd = mkdtempSync(join(tmpdir(), 'ticketzero-proc-'));
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? cwd,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    ...options.env,
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  const child: ChildProcess = spawnGroup(process.execPath, ['--import', TSX_LOADER, MAIN], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-65_536);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => {
      rmSync(cwd, { recursive: true, force: true });
      resolveExit({ code, signal });
    });
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });

  const url = `http://127.0.0.1:${port}`;
  const answered = await until(
    '/healthz',
    async () => {
      if (gone) return 'exited';
      // A refused connection (not listening yet) counts as not yet.
      const response = await fetch(`${url}/healthz`).catch(() => undefined);
      return response?.ok && 'healthy';
    },
    { timeoutMs: options.startTimeoutMs ?? 30_000 },
  ).catch(() => 'timed out');
  if (answered !== 'healthy') {
    await stopGroup(child, { graceMs: 0 });
    throw new Error(
      answered === 'exited'
        ? `TicketZero exited during start-up:\n${output}`
        : `TicketZero did not answer /healthz within the start timeout:\n${output}`,
    );
  }

  return {
    pid: child.pid ?? -1,
    port,
    url,
    messagesUrl: `${url}/api/messages`,
    exited,
    output: () => output,
    async kill() {
      await stopGroup(child, { graceMs: 0 });
      await exited;
    },
    async stop() {
      await stopGroup(child, { graceMs: 30_000 });
      await exited;
    },
  };
}
