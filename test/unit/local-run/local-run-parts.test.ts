/** The parts of `npm start` a person meets: its flags, its choice of sandboxes, its data folder, its terminal. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { NotALocalRunFolderError, prepareDataFolder } from '../../../src/cli/local-run/data-folder.js';
import { LOCAL_RUN_HELP, LocalRunFlagsError, parseLocalRunFlags } from '../../../src/cli/local-run/flags.js';
import { chooseServices, localRunEnv } from '../../../src/cli/local-run/services.js';
import { runTerminalLine } from '../../../src/cli/local-run/terminal-commands.js';
import { terminalLog } from '../../../src/cli/local-run/terminal-log.js';
import { readYourSettings } from '../../../src/config/your-settings.js';
import { startAteraSandbox } from '../../../src/sandboxes/atera/atera-sandbox.js';

const folders: string[] = [];
afterAll(() => folders.forEach((f) => rmSync(f, { recursive: true, force: true })));
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-run-parts-'));
  folders.push(dir);
  return dir;
};

describe('npm start -- <flags>', () => {
  it('documents every flag in --help, and the README lists the same flags', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8');
    for (const flag of [
      '--port',
      '--playground-port',
      '--data-dir',
      '--keep',
      '--log-level',
      '--no-playground',
      '--help',
    ]) {
      expect(LOCAL_RUN_HELP).toContain(flag);
      expect(readme).toContain(flag);
    }
    expect(parseLocalRunFlags(['--help']).help).toBe(true);
  });

  it('reads the defaults and the values given', () => {
    expect(parseLocalRunFlags([])).toEqual({
      help: false,
      port: undefined,
      playgroundPort: 56150,
      dataDir: './data/local',
      logLevel: undefined,
      keep: false,
      playground: true,
    });
    expect(
      parseLocalRunFlags(['--port', '4000', '--keep', '--no-playground', '--log-level', 'debug']),
    ).toMatchObject({
      port: 4000,
      keep: true,
      playground: false,
      logLevel: 'debug',
    });
  });

  it('refuses wrong values all at once, and unknown flags, pointing at --help', () => {
    const problems = (argv: string[]) => {
      try {
        parseLocalRunFlags(argv);
      } catch (error) {
        expect(error).toBeInstanceOf(LocalRunFlagsError);
        expect((error as Error).message).toMatch(/npm start -- --help/);
        return (error as LocalRunFlagsError).problems;
      }
      throw new Error('accepted');
    };
    expect(problems(['--port', 'abc', '--playground-port', '70000', '--log-level', 'loud'])).toEqual([
      '--port must be a port number from 1 to 65535, got "abc"',
      '--playground-port must be a port number from 1 to 65535, got "70000"',
      '--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ]);
    expect(problems(['--prot', '1'])[0]).toMatch(/--prot/);
  });
});

describe('your settings', () => {
  it('are .env, then the environment, which wins, each with where it came from', () => {
    const cwd = scratch();
    writeFileSync(join(cwd, '.env'), 'LOCAL_AI_BASE_URL=http://127.0.0.1:1234/v1\nLOG_LEVEL=debug\n');
    const yours = readYourSettings({ cwd, env: { LOG_LEVEL: 'warn', PATH: '/bin' } });
    expect(yours.values).toMatchObject({ LOCAL_AI_BASE_URL: 'http://127.0.0.1:1234/v1', LOG_LEVEL: 'warn' });
    expect(yours.sourceOf('LOCAL_AI_BASE_URL')).toBe('.env');
    expect(yours.sourceOf('LOG_LEVEL')).toBe('environment');
    expect(yours.envFile).toBe(join(cwd, '.env'));
    expect(readYourSettings({ cwd: scratch(), env: {} }).envFile).toBeNull();
  });

  it('make Atera, Graph or the AI yours when they configure it, and leave the rest to sandboxes', () => {
    expect(chooseServices({})).toEqual({
      atera: { yours: false, by: [] },
      graph: { yours: false, by: [] },
      ai: { yours: false, by: [] },
    });
    const choice = chooseServices({
      OPENAI_API_KEY: 'sk-…',
      ATERA_API_KEY: ' ',
      TENANTS_FILE: 'tenants.json',
    });
    expect(choice.ai).toEqual({ yours: true, by: ['OPENAI_API_KEY'] });
    expect(choice.atera.yours).toBe(false);
    expect(choice.graph).toEqual({ yours: true, by: ['TENANTS_FILE'] });
  });

  it('win over nothing of a sandboxed system: its sandbox settings replace a half-set of yours; the bot registration is left out', () => {
    const env = localRunEnv({
      yours: {
        ATERA_TECHNICIAN_ID: '5',
        LOCAL_AI_BASE_URL: 'http://127.0.0.1:1234/v1',
        MICROSOFT_APP_ID: 'prod-app',
        MICROSOFT_APP_PASSWORD: 'prod-secret',
        CONVERSATION_MAX_ROUNDS: '6',
      },
      sandboxes: { atera: { ATERA_BASE_URL: 'http://127.0.0.1:9/api/v3', ATERA_TECHNICIAN_ID: '9' } },
      fixed: { HOST: '127.0.0.1', PORT: '3978' },
    });
    expect(env).toMatchObject({
      ATERA_TECHNICIAN_ID: '9',
      LOCAL_AI_BASE_URL: 'http://127.0.0.1:1234/v1',
      CONVERSATION_MAX_ROUNDS: '6',
      HOST: '127.0.0.1',
    });
    expect(env).not.toHaveProperty('MICROSOFT_APP_ID');
    expect(env).not.toHaveProperty('MICROSOFT_APP_PASSWORD');
  });
});

describe('the data folder', () => {
  it('is made on the first run, emptied on the next (store and Atera sandbox together), kept with --keep', () => {
    const dir = join(scratch(), 'local');
    expect(prepareDataFolder(dir, { keep: false })).toBe('new');
    writeFileSync(join(dir, 'ticketzero.json'), '{}');
    writeFileSync(join(dir, 'atera-sandbox.json'), '{}');
    expect(prepareDataFolder(dir, { keep: true })).toBe('kept');
    expect(readdirSync(dir).sort()).toEqual([
      '.ticketzero-local-run',
      'atera-sandbox.json',
      'ticketzero.json',
    ]);
    expect(prepareDataFolder(dir, { keep: false })).toBe('fresh');
    expect(readdirSync(dir)).toEqual(['.ticketzero-local-run']);
  });

  it('is recognised from an earlier version’s local run (its Graph sandbox certificate)', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'graph-sandbox-ca.pem'), 'cert');
    writeFileSync(join(dir, 'ticketzero.json'), '{}');
    expect(prepareDataFolder(dir, { keep: false })).toBe('fresh');
  });

  it('is never emptied when the local run did not make it', () => {
    const dir = scratch();
    mkdirSync(join(dir, 'archive'));
    writeFileSync(join(dir, 'ticketzero.json'), '{"production":true}');
    expect(() => prepareDataFolder(dir, { keep: false })).toThrow(NotALocalRunFolderError);
    expect(existsSync(join(dir, 'ticketzero.json'))).toBe(true);
  });
});

describe('the terminal', () => {
  const lines = (write: (log: NodeJS.WritableStream) => void, verbose = false) => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const log = terminalLog({ verbose, out });
    write(log);
    return text;
  };
  const entry = (fields: Record<string, unknown>) =>
    `${JSON.stringify({ level: 30, time: '2026-12-03T12:00:00.000Z', service: 'ticketzero', ...fields })}\n`;

  it('shows one line per event, the ticket first, and no access log for answered requests', () => {
    const text = lines((log) => {
      log.write(entry({ msg: 'request answered', method: 'POST', path: '/api/messages', status: 200 }));
      log.write(
        entry({ msg: 'conversation opened', ticketId: 1011, conversationId: 'a:1', component: 'engine' }),
      );
      log.write(entry({ level: 40, msg: 'request answered', status: 503 }));
    });
    const shown = text.trim().split('\n');
    expect(shown).toHaveLength(2);
    expect(shown[0]).toMatch(/INFO.*ticket #1011 · conversation opened$/);
    expect(shown[1]).toMatch(/WARN.*request answered.*503/);
  });

  it('shows an error as its type and message; the stack is for --log-level debug', () => {
    const err = {
      type: 'TeamsConnectorError',
      message: 'connector call failed with 500',
      stack: 'Error\n    at x (y.ts:1:1)',
    };
    expect(
      lines((log) => log.write(entry({ level: 40, msg: 'ticket intake failed', ticketId: 7, err }))),
    ).toMatch(/ticket #7 · ticket intake failed.*"TeamsConnectorError: connector call failed with 500"/);
    expect(lines((log) => log.write(entry({ level: 40, msg: 'x', err })), true)).toContain('at x (y.ts:1:1)');
  });

  it('prints a ticket’s Atera comments as text, entities decoded', async () => {
    const atera = await startAteraSandbox({ seed: false });
    try {
      const printed: string[] = [];
      const actions = { atera, pollSeconds: 2, print: (t: string) => printed.push(t), quit: () => {} };
      runTerminalLine('ticket Outlook does not show new mail', actions);
      const id = Number(printed[0]?.match(/#(\d+)/)?.[1]);
      runTerminalLine(`reply ${id} Let's restart Outlook & see <what> happens`, actions);
      runTerminalLine(`comments ${id}`, actions);
      expect(printed.at(-1)).toMatch(/: Let's restart Outlook & see <what> happens$/);
      runTerminalLine('comments 999999', actions);
      expect(printed.at(-1)).toBe('✗ There is no Atera ticket #999999.');
    } finally {
      await atera.close();
    }
  });

  it('says where to work instead when Atera is your own account', () => {
    const printed: string[] = [];
    runTerminalLine('ticket VPN', {
      atera: null,
      pollSeconds: 2,
      print: (t) => printed.push(t),
      quit: () => {},
    });
    expect(printed).toEqual([
      'Atera is your own account in this run: create and answer tickets in Atera itself.',
    ]);
  });
});
