/**
 * TicketZero as a real operating-system process, for the tests that kill it with SIGKILL: the production entry point
 * run the way the production image runs it (`node main.js` over the JavaScript build of src/), its own event loop and
 * file handles, nothing shared with the test. The child reads only the environment it is given (plus `.env` in its
 * working directory, which is a fresh temporary directory, so a developer's `.env` never leaks in).
 *
 * The build is made once per test file, as `npm run build` makes dist/ (the same files: src/ without the sandboxes
 * and the local-run tools; type checking is `npm run typecheck`'s job). Under tsx every start of the process paid
 * for tsx's module hooks on each of the ~1,500 modules it loads, a third of its start-up CPU time; the crash
 * harness starts the process a hundred times.
 */
import type { ChildProcess } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnGroup, stopGroup } from '../../support/process-group.js';
import { until } from '../../support/waiting.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SRC = join(REPO, 'src');
/** Folders of src/ that are development tools, not part of the production build (as in tsconfig.build.json). */
const NOT_SHIPPED = ['sandboxes', 'cli'];

let built: Promise<string> | null = null;

/** The production build's entry point, made on first use (one per test file). */
function productionMain(): Promise<string> {
  built ??= buildProduction();
  return built;
}

async function buildProduction(): Promise<string> {
  const { default: ts } = await import('typescript');
  const files = readdirSync(SRC, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !NOT_SHIPPED.includes(f.split(/[\\/]/)[0]!));
  const sources = files.map((file) => ({ file, text: readFileSync(join(SRC, file), 'utf8') }));
  const out = mkdtempSync(join(tmpdir(), 'ticketzero-build-'));
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  for (const { file, text } of sources) {
    const fileName = join(SRC, file);
    const { outputText } = ts.transpileModule(text, {
      fileName,
      compilerOptions: {
        module: ts.ModuleKind.ES2022,
        target: ts.ScriptTarget.ES2022,
        inlineSourceMap: true,
        sourceRoot: dirname(fileName),
      },
    });
    const target = join(out, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  // ESM like the package, and the repository's dependencies (Node resolves them from the build's own folder).
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  symlinkSync(join(REPO, 'node_modules'), join(out, 'node_modules'), 'dir');
  return join(out, 'main.js');
}

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
  const main = await productionMain();
  // Stack traces name the TypeScript source.
  const child: ChildProcess = spawnGroup(process.execPath, ['--enable-source-maps', main], {
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
