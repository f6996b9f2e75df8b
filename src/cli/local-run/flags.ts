/** `npm start -- <flags>`: the local run's command line, parsed once; every problem is reported together. */
import { parseArgs } from 'node:util';

export interface LocalRunFlags {
  help: boolean;
  /** TicketZero's port; undefined: PORT from your settings, else 3978. */
  port: number | undefined;
  playgroundPort: number;
  dataDir: string;
  /** undefined: LOG_LEVEL from your settings, else info. */
  logLevel: string | undefined;
  /** Keep the previous run's data (TicketZero's store and the Atera sandbox's tickets) instead of starting fresh. */
  keep: boolean;
  playground: boolean;
}

export const LOCAL_RUN_HELP = `Usage: npm start [-- <flags>]

Runs TicketZero on this machine with the Microsoft 365 Agents Playground as Teams. Atera, Microsoft Graph and the AI
model are your own where your settings (.env, then the environment, read as in production) configure them, and local
sandboxes where they do not; the start banner says which is which.

Flags:
  --port <n>             TicketZero's port (default: PORT from your settings, else 3978)
  --playground-port <n>  the Agents Playground's port (default 56150)
  --data-dir <folder>    where this run keeps its data (default ./data/local)
  --keep                 keep the previous run's data: TicketZero's conversations and the Atera sandbox's tickets
                         (default: both start fresh on every run)
  --log-level <level>    fatal, error, warn, info, debug or trace (default: LOG_LEVEL from your settings, else info)
  --no-playground        do not start the Playground (drive the bot with your own client)
  -h, --help             show this help

Everything listens on 127.0.0.1 only.`;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Thrown with every problem in the command line, one per line. */
export class LocalRunFlagsError extends Error {
  constructor(readonly problems: string[]) {
    super(`npm start: ${problems.join('; ')}\nRun \`npm start -- --help\` for the flags.`);
  }
}

export function parseLocalRunFlags(argv: string[]): LocalRunFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        port: { type: 'string' },
        'playground-port': { type: 'string' },
        'data-dir': { type: 'string' },
        'log-level': { type: 'string' },
        keep: { type: 'boolean' },
        'no-playground': { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new LocalRunFlagsError([error instanceof Error ? error.message : String(error)]);
  }
  const problems: string[] = [];
  const port = (flag: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || n > 65535) {
      problems.push(`${flag} must be a port number from 1 to 65535, got "${raw}"`);
      return undefined;
    }
    return n;
  };
  const flags: LocalRunFlags = {
    help: values.help === true,
    port: port('--port', values.port),
    playgroundPort: port('--playground-port', values['playground-port']) ?? 56150,
    dataDir: values['data-dir'] ?? './data/local',
    logLevel: values['log-level'],
    keep: values.keep === true,
    playground: values['no-playground'] !== true,
  };
  if (flags.logLevel !== undefined && !LEVELS.includes(flags.logLevel)) {
    problems.push(`--log-level must be one of ${LEVELS.join(', ')}, got "${flags.logLevel}"`);
  }
  if (values['data-dir'] === '') problems.push('--data-dir must name a folder');
  if (problems.length > 0) throw new LocalRunFlagsError(problems);
  return flags;
}
