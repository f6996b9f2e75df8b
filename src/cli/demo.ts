/**
 * `npm run demo [-- --json] [--persona scripted|plain-prose] [--log-level L]`: one whole scripted scenario,
 * headless. The Atera, Graph and model sandboxes run beside TicketZero, and the connector sandbox plays Teams and
 * the end user, over real HTTP. Prints the chat as the user saw it and the comments that reached the Atera sandbox;
 * with --json the last stdout line is a summary.
 *
 * The model sandbox is a scripted stand-in for a language model: its answers show the plumbing, not AI quality.
 * `--persona plain-prose` makes it a model that ignores the reply format (never a control line); the demo then
 * shows what the engine does with only the user's words, and exits 1 if the ticket is not resolved.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createTicketZero } from '../app.js';
import { htmlToText } from '../adapters/atera/comment-html.js';
import { loadConfig } from '../config/load-config.js';
import type { ConnectorSandbox, RecordedActivity } from '../sandboxes/connector/connector-sandbox.js';
import { startLocalStack, TEAMS_USERS } from '../sandboxes/local-stack.js';
import {
  SANDBOX_MODEL_IDS,
  SANDBOX_PERSONAS,
  type SandboxPersona,
} from '../sandboxes/model/sandbox-models.js';

const json = process.argv.includes('--json');

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const out = (line = '') => {
  if (!json) process.stdout.write(`${line}\n`);
};

const persona = (argValue('--persona') ?? 'scripted') as SandboxPersona;
if (!SANDBOX_PERSONAS.includes(persona)) {
  process.stderr.write(`demo: --persona must be one of ${SANDBOX_PERSONAS.join(', ')}\n`);
  process.exit(2);
}
const model = SANDBOX_MODEL_IDS[persona];

const PERSONA_LINES: Record<SandboxPersona, string> = {
  scripted: `(The model is the model sandbox's scripted persona, model ${SANDBOX_MODEL_IDS.scripted}: it follows the reply format. Not an AI.)`,
  'plain-prose': `(The model is the model sandbox's plain-prose persona, model ${SANDBOX_MODEL_IDS['plain-prose']}: it ignores the reply format and never writes a control line. Not an AI.)`,
};

const USER_REPLIES = [
  'The status bar at the bottom says "Disconnected".',
  'I clicked Send/Receive, it still says Disconnected.',
  'I restarted Outlook and now it says Connected — my meetings show up, it works now!',
];

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ticketzero-demo-'));
  const stack = await startLocalStack({
    dataDir,
    connector: 'sandbox',
    technicians: true,
    authenticated: true,
  });
  const connector = stack.connector!;
  const config = loadConfig({ ...stack.env, PORT: '0', LOG_LEVEL: 'silent', LOCAL_AI_MODEL: model });
  const app = await createTicketZero(config, {
    log: pino({ level: argValue('--log-level') ?? 'silent' }),
    tickMs: 200,
    outboxIntervalMs: 100,
  });
  const listening = await app.start();
  connector.botEndpoint = `${listening.url}/api/messages`;
  const megan = TEAMS_USERS.megan;

  try {
    out('TicketZero demo — everything below happened over real HTTP between TicketZero and local sandboxes.');
    out(`Persona: ${persona}`);
    out(`${PERSONA_LINES[persona]}\n`);
    const ticket = stack.atera.createTicket({
      title: 'Outlook calendar does not update',
      description: 'Meetings I accept on my phone do not show up in Outlook on my laptop since this morning.',
      endUserEmail: megan.email,
      endUserFirstName: 'Megan',
      endUserLastName: 'Bowen',
      customerId: 101,
      priority: 'Medium',
    });
    const ticketId = ticket.TicketID;
    out(`▶ A new ticket #${ticketId} appears in Atera for ${megan.name} <${megan.email}>.`);

    const first = await connector.waitFor((a) => isPersonalWith(connector, a, megan.aadObjectId), 15_000);
    const chat = first.conversationId;
    await waitForBotMessages(connector, chat, 2);

    let seqBeforeLastReply = 0;
    for (const reply of USER_REPLIES) {
      const before = botMessages(connector, chat).length;
      seqBeforeLastReply = botMessages(connector, chat).at(-1)?.seq ?? 0;
      await connector.userSays(megan, reply, { conversationId: chat });
      await waitForBotMessages(connector, chat, before + 1);
      const state = (await app.store.getConversation(ticketId))?.state;
      if (state === 'awaiting_confirmation' || (state && !['active'].includes(state))) break;
    }

    // The confirmation question: a card with the "It's fixed" button, sent after Megan's last message.
    const confirm = await poll(
      () =>
        botMessages(connector, chat).find(
          (a) => a.seq > seqBeforeLastReply && JSON.stringify(a.attachments ?? []).includes('confirm_fixed'),
        ) ?? null,
      10_000,
    );
    if (confirm) {
      await connector.clickAction(
        megan,
        chat,
        { verb: 'confirm_fixed', ticketId },
        { replyToId: confirm.activityId },
      );
      await until(async () => stack.atera.getTicket(ticketId)?.TicketStatus === 'Resolved', 15_000);
    }
    await until(async () => (await app.store.outboxStats()).depth === 0, 15_000);

    const record = await app.store.getConversation(ticketId);
    const view = connector.conversation(chat)?.messages ?? [];
    out('\n── Teams chat, as Megan saw it ───────────────────────────────────────────');
    const userIds = new Set([megan.id]);
    let userMessages = 0;
    let botMessagesCount = 0;
    for (const turn of transcript(connector, chat)) {
      if (userIds.has(turn.from)) userMessages += 1;
      else botMessagesCount += 1;
      out(`${turn.from === megan.id ? 'Megan' : 'TicketZero'}: ${turn.text}`);
    }
    const comments = stack.atera.comments(ticketId).map((c) => htmlToText(String(c.Comment ?? '')));
    out('\n── Comments on the Atera ticket ─────────────────────────────────────────');
    for (const c of comments) out(`• ${c.replace(/\n/g, '\n  ')}`);
    const status = String(stack.atera.getTicket(ticketId)?.TicketStatus ?? 'unknown');
    out(
      `\nOutcome: ${record?.outcome?.kind ?? record?.state} after ${record?.rounds ?? 0} round(s); Atera status: ${status}. Persona: ${persona}.`,
    );
    if (!confirm) {
      out(
        `Not resolved: no confirmation question reached Megan after she said it works, so the ticket stays open (state: ${record?.state ?? 'unknown'}).`,
      );
    }
    out(`(${view.length} messages in the chat, ${comments.length} comments in Atera.)`);
    if (json) {
      process.stdout.write(
        `${JSON.stringify({
          ticket_id: ticketId,
          persona,
          model,
          confirmation_asked: confirm !== null,
          outcome: record?.outcome?.kind ?? record?.state ?? 'unknown',
          rounds: record?.rounds ?? 0,
          user_messages: userMessages,
          bot_messages: botMessagesCount,
          atera_comments: comments.length,
          atera_status: status,
        })}\n`,
      );
    }
    if (record?.outcome?.kind !== 'resolved') process.exitCode = 1;
  } finally {
    await app.stop();
    await stack.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function isPersonalWith(connector: ConnectorSandbox, a: RecordedActivity, aadObjectId: string): boolean {
  const view = connector.conversation(a.conversationId);
  return view?.kind === 'personal' && view.members.some((m) => m.aadObjectId === aadObjectId);
}

function botMessages(connector: ConnectorSandbox, conversationId: string): RecordedActivity[] {
  return connector.conversation(conversationId)?.messages ?? [];
}

async function waitForBotMessages(connector: ConnectorSandbox, conversationId: string, count: number) {
  await until(async () => botMessages(connector, conversationId).length >= count, 15_000);
}

/** The chat in order: what the user said (delivered to the bot) and what the bot showed. */
function transcript(
  connector: ConnectorSandbox,
  conversationId: string,
): { from: string; text: string; at: string }[] {
  const said = connector.delivered
    .map((d) => d.activity as unknown as SaidActivity)
    .filter((a) => a.conversation?.id === conversationId && a.type === 'message')
    .map((a) => ({
      from: String(a.from?.id ?? ''),
      text: String(a.text ?? ''),
      at: String(a.timestamp ?? ''),
    }));
  const shown = botMessages(connector, conversationId).map((a) => ({
    from: 'bot',
    text: a.text ?? cardText(a),
    at: a.receivedAt,
  }));
  return [...said, ...shown].sort((x, y) => x.at.localeCompare(y.at));
}

interface SaidActivity {
  type?: string;
  text?: string;
  timestamp?: string;
  from?: { id?: string };
  conversation?: { id?: string };
}

function cardText(a: RecordedActivity): string {
  const content = a.attachments?.[0]?.content as { body?: unknown } | undefined;
  const texts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const n = node as Record<string, unknown>;
      if (typeof n.text === 'string') texts.push(n.text);
      if (typeof n.title === 'string' && typeof n.value === 'string') texts.push(`${n.title} ${n.value}`);
      Object.values(n).forEach(walk);
    }
  };
  walk(content?.body);
  return `[card] ${texts.join(' · ').slice(0, 400)}`;
}

/** The first non-null result of `find`, checked every 50 ms; null when none comes within `timeoutMs`. */
async function poll<T>(find: () => T | null, timeoutMs: number): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== null || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`demo: timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
