/**
 * `npm start` with your own settings, started as a person starts it (a process, its terminal, its `.env`): wrong values
 * are refused with production's report, a taken port is one clear line, and a model server named in `.env` is the
 * one that answers, in a real browser on the Agents Playground.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startModelSandbox } from '../../src/sandboxes/model/model-sandbox.js';
import { spawnGroup, stopGroup } from '../support/process-group.js';
import { until } from '../support/waiting.js';
import { freePort } from './support/bot-process.js';
import { CHROMIUM, hasChromium, launchChromium, openPlayground } from './support/playground-browser.js';
const REPO = resolve(import.meta.dirname, '../..');
const TSX = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;

const folders: string[] = [];
afterAll(() => folders.forEach((f) => rmSync(f, { recursive: true, force: true })));
function folder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  folders.push(dir);
  return dir;
}

async function listenOnFreePort(): Promise<Server> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done(server));
  });
}
const portOf = (server: Server) => (server.address() as { port: number }).port;

/** Runs a TicketZero entry point in `cwd` (where its `.env` is read) until it exits or `until` matches its output. */
function runProcess(
  script: string,
  options: { cwd: string; args?: string[]; env?: Record<string, string>; until?: RegExp; timeoutMs?: number },
) {
  const child = spawnGroup(process.execPath, ['--import', TSX, join(REPO, script), ...(options.args ?? [])], {
    cwd: options.cwd,
    stdio: 'pipe',
    // Only what a person's shell would hold, not this test run's settings.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', FORCE_COLOR: '0', ...options.env },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const stop = () => stopGroup(child);
  const waitFor = async (pattern: RegExp, timeoutMs = options.timeoutMs ?? 60_000) => {
    const seen = await until(
      `the local run to print ${pattern}`,
      () => output.match(pattern) ?? (child.exitCode !== null && ('exited' as const)),
      { timeoutMs, intervalMs: 100 },
    ).catch(() => 'timed out' as const);
    if (typeof seen === 'string') throw new Error(`never printed ${pattern}; output:\n${output}`);
    return seen;
  };
  return {
    child,
    exited,
    stop,
    waitFor,
    output: () => output,
    type: (l: string) => child.stdin.write(`${l}\n`),
  };
}

describe('npm start with wrong settings', () => {
  it('refuses them with the report production gives, every problem at once, whether in .env or the environment', async () => {
    const cwd = folder('ticketzero-wrong-settings-');
    writeFileSync(join(cwd, '.env'), 'CONVERSATION_MAX_ROUNDS=abc\n');
    const local = runProcess('src/cli/local-run.ts', {
      cwd,
      args: ['--data-dir', join(cwd, 'data'), '--port', String(await freePort()), '--no-playground'],
      env: { STORE: 'postgres' },
    });
    expect(await local.exited).toBe(1);
    const production = runProcess('src/main.ts', { cwd, env: { STORE: 'postgres', PORT: '0' } });
    expect(await production.exited).toBe(1);

    const problems = (text: string) =>
      text.split('\n').filter((l) => /^\s+- (CONVERSATION_MAX_ROUNDS|DATABASE_URL):/.test(l));
    expect(problems(local.output())).toHaveLength(2);
    expect(problems(local.output())).toEqual(problems(production.output()));
    expect(local.output()).toMatch(/TicketZero cannot start, its settings have 2 problem\(s\)/);
    expect(local.output()).not.toMatch(/\n\s+at /);
  }, 60_000);
});

describe('npm start on a taken port', () => {
  it('says which port, whose, and the flag that changes it, in one line without a stack trace', async () => {
    const taken = await listenOnFreePort();
    try {
      const cwd = folder('ticketzero-taken-port-');
      const bot = runProcess('src/cli/local-run.ts', {
        cwd,
        args: ['--data-dir', join(cwd, 'a'), '--port', String(portOf(taken)), '--no-playground'],
      });
      expect(await bot.exited).toBe(1);
      expect(bot.output().trim()).toBe(
        `TicketZero local run cannot start: port ${portOf(taken)} (TicketZero) is in use by another program; stop it or choose another: npm start -- --port <n>`,
      );

      const playground = runProcess('src/cli/local-run.ts', {
        cwd,
        args: [
          '--data-dir',
          join(cwd, 'b'),
          '--port',
          String(await freePort()),
          '--playground-port',
          String(portOf(taken)),
        ],
      });
      expect(await playground.exited).toBe(1);
      expect(playground.output().trim()).toBe(
        `TicketZero local run cannot start: port ${portOf(taken)} (Agents Playground) is in use by another program; stop it or choose another: npm start -- --playground-port <n>`,
      );
    } finally {
      await new Promise((r) => taken.close(r));
    }
  }, 60_000);
});

describe.skipIf(!hasChromium)('npm start with a model server named in .env (browser)', () => {
  it('uses that server, says so, and the Playground (on loopback only) shows its answer', async () => {
    // Any OpenAI-compatible server started by hand; here the model sandbox under a model name of its own.
    const yourModel = await startModelSandbox({ host: '127.0.0.1', port: 0 });
    const cwd = folder('ticketzero-your-model-');
    writeFileSync(join(cwd, '.env'), `LOCAL_AI_BASE_URL=${yourModel.baseUrl}\nLOCAL_AI_MODEL=plain-prose\n`);
    const playgroundPort = await freePort();
    const local = runProcess('src/cli/local-run.ts', {
      cwd,
      args: [
        '--data-dir',
        join(cwd, 'data'),
        '--port',
        String(await freePort()),
        '--playground-port',
        String(playgroundPort),
      ],
    });
    const browser = await launchChromium();
    try {
      await local.waitFor(/TicketZero is running locally/);
      expect(local.output()).toContain(
        `AI model            YOURS    ${yourModel.baseUrl} (plain-prose)   (from .env)`,
      );
      expect(local.output()).toMatch(/Atera\s+sandbox /);
      expect(local.output()).toContain(`Teams (Playground)  http://127.0.0.1:${playgroundPort}`);
      // Loopback only: the Playground cannot be reached on this machine's other addresses.
      for (const address of Object.values(networkInterfaces())
        .flat()
        .filter((a) => a && a.family === 'IPv4' && !a.internal)) {
        const reached = await fetch(`http://${address!.address}:${playgroundPort}/`).then(
          () => true,
          () => false,
        );
        expect(reached, `the Playground answered on ${address!.address}`).toBe(false);
      }

      const page = await openPlayground(browser, `http://127.0.0.1:${playgroundPort}/`, 900);
      local.type('ticket Outlook does not show new mail');
      const created = await local.waitFor(/Atera ticket #(\d+) "Outlook does not show new mail" created/);
      await page
        .getByText(`Ticket #${created[1]}: Outlook does not show new mail`)
        .first()
        .waitFor({ timeout: 20_000 });
      await expect.poll(() => yourModel.requests.length, { timeout: 20_000 }).toBeGreaterThan(0);
      expect(yourModel.requests[0]?.body).toMatchObject({ model: 'plain-prose' });
    } finally {
      await browser.close();
      await local.stop();
      await yourModel.close();
    }
  }, 120_000);
});

describe.runIf(!hasChromium)('npm start with a model server named in .env (browser)', () => {
  // Skipped only where Debian's Chromium is missing: .ci/run installs it, so CI drives the real browser.
  // Skipped on purpose: a visible placeholder where Chromium is missing, so the report says why the real specs did not run.
  it.skip(`needs Chromium at ${CHROMIUM} (apt-get install chromium); .ci/run installs it`, () => {});
});
