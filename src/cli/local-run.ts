/**
 * `npm start`: TicketZero on your machine with no account anywhere.
 *
 * Starts the Atera, Graph and model sandboxes, TicketZero itself (lowdb under ./data/local), and Microsoft 365
 * Agents Playground as the Teams client and connector. You play the end user (Alex Wilber, the Playground's
 * user) in the browser; type `ticket <what is wrong>` here to make a new Atera ticket arrive, and `reply`, `note` or
 * `email` to play a technician or the end user writing in Atera.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { htmlToText } from '../adapters/atera/comment-html.js';
import { createTicketZero } from '../app.js';
import { inheritedEnvironment } from '../config/child-process-env.js';
import { loadConfig } from '../config/load-config.js';
import { ConfigError } from '../errors.js';
import { AteraSandboxError } from '../sandboxes/atera/atera-sandbox.js';
import { PLAYGROUND, startLocalStack } from '../sandboxes/local-stack.js';
import { PLAYGROUND_TECH_TEAM, setUpPlaygroundTechnicians } from '../sandboxes/playground-technicians.js';

const PLAYGROUND_PORT = Number(argValue('--playground-port') ?? 56150);
const BOT_PORT = Number(argValue('--port') ?? 3978);
const headless = process.argv.includes('--no-playground');

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const dataDir = resolve(argValue('--data-dir') ?? './data/local');
  mkdirSync(dataDir, { recursive: true });
  const stack = await startLocalStack({
    dataDir,
    connector: { serviceUrl: `http://localhost:${PLAYGROUND_PORT}/_connector` },
    playground: true,
  });
  // Alex Wilber is also a technician: the Playground's "Tickets" channel gets a thread per ticket.
  const technicians = setUpPlaygroundTechnicians(dataDir);

  let config;
  try {
    config = loadConfig({
      ...stack.env,
      ...technicians.env,
      PORT: String(BOT_PORT),
      HOST: '127.0.0.1',
      ATERA_POLL_SECONDS: '2',
      LOG_LEVEL: argValue('--log-level') ?? 'info',
      LOG_PRETTY: 'true',
    });
  } catch (error) {
    if (error instanceof ConfigError) console.error(error.message);
    await stack.close();
    throw error;
  }
  const app = await createTicketZero(config);
  const listening = await app.start();

  let playground: ChildProcess | null = null;
  if (!headless)
    playground = startPlayground(dataDir, `${listening.url}/api/messages`, technicians.playgroundEnv);

  const createTicket = (title: string) => {
    const ticket = stack.atera.createTicket({
      title,
      description: `${title} (created from the TicketZero local run)`,
      endUserEmail: PLAYGROUND.user.email,
      endUserFirstName: 'Alex',
      endUserLastName: 'Wilber',
      customerId: 101,
      priority: 'Medium',
    });
    console.log(
      `\n→ Atera ticket #${ticket.TicketID} "${title}" created for Alex Wilber; TicketZero picks it up within 2 s.\n`,
    );
  };

  console.log(
    [
      '',
      '━━━ TicketZero is running locally (no account anywhere) ━━━',
      `  Bot endpoint        ${listening.url}/api/messages`,
      `  Agents Playground   http://localhost:${PLAYGROUND_PORT}   ← open this: you are Alex Wilber, the end user`,
      `                      and a technician: channel "${PLAYGROUND_TECH_TEAM.channelName}" has a thread per ticket (@TicketZero help)`,
      `  Atera sandbox       ${stack.atera.baseUrl}   (key ${stack.atera.apiKey})`,
      `  Graph sandbox       ${stack.graph.baseUrl}`,
      `  Model sandbox       ${stack.model.baseUrl}   (scripted, not an AI — point LOCAL_AI_BASE_URL at LM Studio for a real model)`,
      `  Data                ${dataDir}`,
      '',
      '  Type here:  ticket <what is wrong>   e.g. "ticket Outlook does not show new mail"',
      '              reply <id> <text>        a technician answers the user in Atera (public reply)',
      '              note <id> <text>         a technician’s internal note (stays in Atera)',
      '              email <id> <text>        the end user answers by e-mail',
      '              comments <id>            show a ticket’s comments in Atera',
      '              quit',
      '  Or from another terminal:',
      `    curl -X POST ${stack.atera.baseUrl.replace(/\/api\/v3$/, '')}/_sandbox/tickets -H 'content-type: application/json' \\`,
      `      -d '{"title":"VPN drops every hour","description":"…","endUserEmail":"${PLAYGROUND.user.email}","customerId":101}'`,
      '',
    ].join('\n'),
  );

  const stop = async () => {
    playground?.kill('SIGTERM');
    await app.stop();
    await stack.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  /** Someone writes on a ticket in Atera, as the local run's terminal lets you play it. */
  const writeInAtera = (kind: 'reply' | 'note' | 'email', ticketId: number, text: string) => {
    try {
      const c =
        kind === 'email'
          ? stack.atera.addEndUserReply(ticketId, { text, via: 'email' })
          : stack.atera.addTechnicianReply(ticketId, { text, internal: kind === 'note' });
      const who = `${String(c.FirstName ?? '')} ${String(c.LastName ?? '')}`.trim();
      const what = {
        reply: `${who} replied on Atera ticket #${ticketId}; watch the Playground chat.`,
        note: `${who} added an internal note on Atera ticket #${ticketId}; it stays in Atera.`,
        email: `${who} answered Atera ticket #${ticketId} by e-mail; watch the Playground chat.`,
      }[kind];
      console.log(`\n→ ${what}\n`);
    } catch (error) {
      if (!(error instanceof AteraSandboxError)) throw error;
      console.log(`✗ ${error.message}`);
    }
  };

  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    const text = line.trim();
    const write = text.match(/^(reply|note|email)\s+(\d+)\s+(\S[\s\S]*)$/i);
    if (/^ticket\s+/i.test(text)) createTicket(text.replace(/^ticket\s+/i, ''));
    else if (write) {
      writeInAtera(write[1]!.toLowerCase() as 'reply' | 'note' | 'email', Number(write[2]), write[3]!);
    } else if (/^comments\s+\d+/i.test(text)) {
      const id = Number(text.split(/\s+/)[1]);
      const comments = stack.atera.comments(id);
      if (comments.length === 0) console.log(`No comments on Atera ticket #${id}.`);
      for (const c of comments) {
        const who = `${String(c.FirstName ?? '')} ${String(c.LastName ?? '')}`.trim() || 'unknown';
        const tag = c.IsInternal === true ? ' (internal)' : c.EndUserID != null ? ' (end user)' : '';
        console.log(`• ${who}${tag}: ${htmlToText(String(c.Comment ?? '')).replace(/\n/g, '\n  ')}`);
      }
    } else if (/^(quit|exit)$/i.test(text)) void stop();
    else if (text) {
      console.log(
        'Commands: ticket <what is wrong> · reply <id> <text> · note <id> <text> · email <id> <text> · comments <id> · quit',
      );
    }
  });
}

/** Runs the Agents Playground CLI pointed at the bot; a no-op browser opener keeps it alive when headless. */
function startPlayground(dataDir: string, botEndpoint: string, env: Record<string, string>): ChildProcess {
  const require = createRequire(import.meta.url);
  const cli = require.resolve('@microsoft/m365agentsplayground/cli.js');
  const bin = join(dataDir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const opener of ['xdg-open', 'open', 'sensible-browser']) {
    const path = join(bin, opener);
    writeFileSync(path, '#!/bin/sh\nexit 0\n');
    chmodSync(path, 0o755);
  }
  const child = spawn(
    process.execPath,
    [cli, '-e', botEndpoint, '-c', 'msteams', '-p', String(PLAYGROUND_PORT), '--disable-telemetry'],
    {
      env: inheritedEnvironment({ pathFirst: bin, set: { BROWSER: 'none', ...env } }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter((l) => l.trim())
      .forEach((l) => console.log(`[playground] ${l}`));
  child.stdout?.on('data', prefix);
  child.stderr?.on('data', prefix);
  child.on('exit', (code) => console.log(`[playground] exited (${code ?? 'signal'})`));
  return child;
}

main().catch((error: unknown) => {
  console.error(`TicketZero local run failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
