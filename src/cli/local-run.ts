/**
 * `npm start`: TicketZero on your machine, with Microsoft 365 Agents Playground as Teams.
 *
 * Reads your settings as production does (`.env`, then the environment; the same report for wrong values). Atera,
 * Microsoft Graph and the AI model are yours where your settings configure them and local sandboxes where they do
 * not (the banner says which). The data folder holds TicketZero's store and the Atera sandbox's tickets together: both
 * start fresh on every run unless `--keep`. Everything listens on 127.0.0.1. `npm start -- --help` lists the flags.
 */
// Before anything loads restify (see the module).
import './local-run/quiet-deprecations.js';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createTicketZero } from '../app.js';
import { loadConfig, type Config } from '../config/load-config.js';
import { readYourSettings, type YourSettings } from '../config/your-settings.js';
import { ConfigError, PortInUseError } from '../errors.js';
import { startAteraSandbox, type AteraSandbox } from '../sandboxes/atera/atera-sandbox.js';
import { startGraphSandbox, type GraphSandbox } from '../sandboxes/graph/graph-sandbox.js';
import {
  ateraSandboxEnv,
  graphSandboxEnv,
  modelSandboxEnv,
  SANDBOX_ATERA_KEY,
} from '../sandboxes/local-stack.js';
import { startModelSandbox, type ModelSandbox } from '../sandboxes/model/model-sandbox.js';
import { PLAYGROUND_TECH_TEAM, setUpPlaygroundTechnicians } from '../sandboxes/playground-technicians.js';
import { NotALocalRunFolderError, prepareDataFolder, type DataFolderState } from './local-run/data-folder.js';
import { LOCAL_RUN_HELP, LocalRunFlagsError, parseLocalRunFlags } from './local-run/flags.js';
import { startPlayground, type RunningPlayground } from './local-run/playground.js';
import { isPortFree } from './local-run/ports.js';
import {
  chooseServices,
  localRunEnv,
  NOT_FOR_THE_PLAYGROUND,
  type ServiceChoice,
} from './local-run/services.js';
import { runTerminalLine, TERMINAL_HELP } from './local-run/terminal-commands.js';
import { terminalLog } from './local-run/terminal-log.js';

const HOST = '127.0.0.1';
const POLL_SECONDS = 2;

/** The one line for a port another program holds: whose port it is, and the flag that changes it. */
function portTaken(port: number, whose: string, flag: string): string {
  return `port ${port} (${whose}) is in use by another program; stop it or choose another: npm start -- ${flag} <n>`;
}

/** A reason the local run cannot start, printed as it is (no stack trace). */
class CannotStart extends Error {}

interface Sandboxes {
  atera: AteraSandbox | null;
  graph: GraphSandbox | null;
  model: ModelSandbox | null;
}

async function main(): Promise<void> {
  const flags = parseLocalRunFlags(process.argv.slice(2));
  if (flags.help) {
    console.log(LOCAL_RUN_HELP);
    return;
  }
  const yours = readYourSettings();
  const choice = chooseServices(yours.values);
  const dataDir = resolve(flags.dataDir);
  const postgres = yours.values.STORE?.trim() === 'postgres';

  // Ports first: a taken port is one clear line, before anything starts.
  const botPort = flags.port ?? (/^\d+$/.test(yours.values.PORT ?? '') ? Number(yours.values.PORT) : 3978);
  const taken: string[] = [];
  if (!(await isPortFree(botPort, HOST))) taken.push(portTaken(botPort, 'TicketZero', '--port'));
  if (flags.playground && !(await isPortFree(flags.playgroundPort, HOST))) {
    taken.push(portTaken(flags.playgroundPort, 'Agents Playground', '--playground-port'));
  }
  if (taken.length > 0) throw new CannotStart(taken.join('\n'));

  // TicketZero's data and the Atera sandbox's account live and go together; PostgreSQL keeps TicketZero's data, so
  // the sandbox keeps its tickets too.
  let folder: DataFolderState;
  try {
    folder = prepareDataFolder(dataDir, { keep: flags.keep || postgres });
  } catch (error) {
    if (error instanceof NotALocalRunFolderError) throw new CannotStart(error.message);
    throw error;
  }

  // Alex Wilber is also a technician: the Playground's "Tickets" channel gets a thread per ticket.
  const technicians = setUpPlaygroundTechnicians(dataDir);

  const sandboxes: Sandboxes = {
    atera: choice.atera.yours
      ? null
      : await startAteraSandbox({
          apiKey: SANDBOX_ATERA_KEY,
          host: HOST,
          stateFile: join(dataDir, 'atera-sandbox.json'),
        }),
    graph: choice.graph.yours ? null : await startGraphSandbox({ host: HOST, port: 0 }),
    model: choice.ai.yours ? null : await startModelSandbox({ host: HOST, port: 0 }),
  };
  const closeSandboxes = () =>
    Promise.allSettled([sandboxes.atera?.close(), sandboxes.graph?.close(), sandboxes.model?.close()]);

  const env = localRunEnv({
    yours: yours.values,
    sandboxes: {
      ...(sandboxes.atera
        ? { atera: { ...ateraSandboxEnv(sandboxes.atera), ATERA_POLL_SECONDS: String(POLL_SECONDS) } }
        : {}),
      ...(sandboxes.graph ? { graph: graphSandboxEnv(sandboxes.graph, dataDir, 'playground') } : {}),
      ...(sandboxes.model ? { ai: modelSandboxEnv(sandboxes.model) } : {}),
    },
    fixed: {
      ...technicians.env,
      PORT: String(botPort),
      HOST,
      BOT_SERVICE_URL: `http://localhost:${flags.playgroundPort}/_connector`,
      DATA_DIR: dataDir,
      LOG_LEVEL: flags.logLevel ?? yours.values.LOG_LEVEL ?? 'info',
      LOG_PRETTY: 'false',
    },
  });

  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    await closeSandboxes();
    if (error instanceof ConfigError) throw new CannotStart(error.message);
    throw error;
  }

  const verbose = config.ops.logLevel === 'debug' || config.ops.logLevel === 'trace';
  const app = await createTicketZero(config, { env, logTo: terminalLog({ verbose }) });
  const botEndpoint = `http://${HOST}:${botPort}/api/messages`;

  // The Playground first: it is the connector, and TicketZero's start sends what a kept conversation still owes.
  let playground: RunningPlayground | null = null;
  /** Stops what this run started, in reverse order. */
  const shutDown = async () => {
    playground?.stop();
    await app.stop();
    await closeSandboxes();
  };
  if (flags.playground) {
    try {
      playground = await startPlayground({
        dataDir,
        botEndpoint,
        port: flags.playgroundPort,
        env: technicians.playgroundEnv,
        print: (line) => console.log(`[playground] ${line}`),
      });
    } catch (error) {
      await shutDown();
      throw new CannotStart(error instanceof Error ? error.message : String(error));
    }
    if (!playground.url.endsWith(`:${flags.playgroundPort}`)) {
      await shutDown();
      throw new CannotStart(
        `port ${flags.playgroundPort} (Agents Playground) was taken while starting; choose another: npm start -- --playground-port <n>`,
      );
    }
    playground.child.once('exit', (code) => console.log(`[playground] exited (${code ?? 'signal'})`));
  }

  let listening;
  try {
    listening = await app.start();
  } catch (error) {
    await shutDown();
    if (error instanceof PortInUseError) throw new CannotStart(portTaken(error.port, 'TicketZero', '--port'));
    throw error;
  }

  console.log(
    banner({ listening: listening.url, playground, sandboxes, choice, config, yours, folder, dataDir }),
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await shutDown();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  const input = createInterface({ input: process.stdin });
  input.on('line', (line) =>
    runTerminalLine(line, {
      atera: sandboxes.atera,
      pollSeconds: POLL_SECONDS,
      print: (text) => console.log(`\n${text}\n`),
      quit: () => void stop(),
    }),
  );
}

/** What runs where, and what you can do now. */
function banner(run: {
  listening: string;
  playground: RunningPlayground | null;
  sandboxes: Sandboxes;
  choice: ServiceChoice;
  config: Config;
  yours: YourSettings;
  folder: DataFolderState;
  dataDir: string;
}): string {
  const { sandboxes, choice, config, yours } = run;
  const from = (names: string[]) =>
    [...new Set(names.map((n) => yours.sourceOf(n) ?? 'settings'))].map((s) => `from ${s}`).join(', ');
  const atera = sandboxes.atera
    ? `sandbox  ${sandboxes.atera.baseUrl}   (key ${sandboxes.atera.apiKey}, ${run.folder === 'kept' ? 'its tickets kept from the last run' : 'a new account'})`
    : `YOURS    ${config.atera.baseUrl}   (${choice.atera.by.join(', ')} ${from(choice.atera.by)})`;
  const graph = sandboxes.graph
    ? `sandbox  ${sandboxes.graph.baseUrl}   (the Playground's user, Alex Wilber, is in its directory)`
    : `YOURS    ${config.graph.tenantsFile ? `tenants in ${config.graph.tenantsFile}` : `tenant ${config.graph.tenantId ?? ''}`}   (${from(choice.graph.by)})`;
  const ai = sandboxes.model
    ? `sandbox  ${sandboxes.model.baseUrl}   (scripted, not an AI: set LOCAL_AI_BASE_URL in .env for a real model)`
    : `YOURS    ${describeProviders(config)}   (${from(choice.ai.by)})`;
  const store =
    config.store.kind === 'postgres'
      ? 'YOURS    PostgreSQL (STORE=postgres); the Atera sandbox keeps its tickets beside it'
      : `lowdb    ${run.dataDir}   (${{ new: 'new', fresh: 'started fresh; --keep keeps the last run', kept: 'kept from the last run (--keep)' }[run.folder]})`;
  const ignored = NOT_FOR_THE_PLAYGROUND.filter((n) => n !== 'BOT_SERVICE_URL' && yours.values[n]);
  const lines = [
    '',
    '━━━ TicketZero is running locally ━━━',
    run.playground
      ? `  Teams (Playground)  ${run.playground.url}   ← open this: you are Alex Wilber, the end user\n                      and a technician: channel "${PLAYGROUND_TECH_TEAM.channelName}" has a thread per ticket (@TicketZero help)`
      : '  Teams (Playground)  not started (--no-playground)',
    `  Bot endpoint        ${run.listening}/api/messages`,
    `  Atera               ${atera}`,
    `  Microsoft Graph     ${graph}`,
    `  AI model            ${ai}`,
    `  Store               ${store}`,
    ...(yours.envFile ? [`  Settings            ${yours.envFile}, then the environment`] : []),
    ...(ignored.length > 0
      ? [`  Not used here       ${ignored.join(', ')} (the Playground neither signs nor checks tokens)`]
      : []),
    '',
    ...(sandboxes.atera
      ? [
          ...TERMINAL_HELP,
          '  Or from another terminal:',
          `    curl -X POST ${sandboxes.atera.baseUrl.replace(/\/api\/v3$/, '')}/_sandbox/tickets -H 'content-type: application/json' \\`,
          `      -d '{"title":"VPN drops every hour","description":"…","endUserEmail":"alexw@example.com","customerId":101}'`,
        ]
      : [
          '  Atera is your account: new tickets there reach their end users in Teams.',
          '  Type quit to stop.',
        ]),
    '',
  ];
  return lines.join('\n');
}

function describeProviders(config: Config): string {
  const parts = config.ai.providerOrder.flatMap((p) => {
    if (p === 'local' && config.ai.localBaseUrl)
      return [`${config.ai.localBaseUrl} (${config.ai.localModel})`];
    if (p === 'azure' && config.ai.azureEndpoint) return [`Azure OpenAI ${config.ai.azureDeployment ?? ''}`];
    if (p === 'openai' && config.ai.openaiApiKey) return [`OpenAI ${config.ai.openaiModel}`];
    return [];
  });
  return parts.join(' → ');
}

main().catch((error: unknown) => {
  if (error instanceof CannotStart || error instanceof LocalRunFlagsError) {
    console.error(`TicketZero local run cannot start: ${error.message}`);
  } else {
    console.error(
      `TicketZero local run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  }
  process.exit(1);
});
