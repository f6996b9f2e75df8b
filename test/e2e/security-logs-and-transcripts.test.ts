/**
 * Data at rest and in logs, on the real app over real HTTP: one scripted conversation (with an Atera 500 and a
 * connector 429 on the way, so error paths log too) whose user shares an e-mail address, a phone number and a
 * password. Afterwards: no log line, at any level, holds a configured secret, a token or the user's words (user
 * text appears at debug level only redacted); no file under the data directory holds them either; the store
 * reads them back with the key, after a key rotation too; and retention deletes the conversation once it expired.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTicketZero, type TicketZero } from '../../src/app.js';
import { createLowdbConversationStore } from '../../src/adapters/store/lowdb-store.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/logger.js';
import { startLocalStack, TEAMS_USERS, type LocalStack } from '../../src/sandboxes/local-stack.js';
import { eventually, OffsetClock } from './support/running-ticketzero.js';

const megan = TEAMS_USERS.megan;
const OLD_KEY = randomBytes(32).toString('base64');
const NEW_KEY = randomBytes(32).toString('base64');
const LOCAL_AI_KEY = 'local-model-key-7f3a9c1e';
const USER_SECRETS = {
  password: 'Hunter2-Secret!',
  email: 'megan.private@gmail.example',
  phone: '+49 170 5551234',
  words: 'purple elephant keyboard',
};
const DESCRIPTION_WORDS = 'tangerine lighthouse';

let stack: LocalStack;
let dataDir: string;
let env: Record<string, string>;
const clock = new OffsetClock();
const lines: string[] = [];
let app: TicketZero;
let ticketId: number;

async function boot(keys: string): Promise<TicketZero> {
  const config = loadConfig({ ...env, TRANSCRIPT_KEYS: keys });
  // The production logger at debug level, without the secret scrubber: what reaches it must already be clean.
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = createLogger({ level: 'debug', pretty: false }, destination);
  const next = await createTicketZero(config, { clock, log, tickMs: 100, outboxIntervalMs: 100 });
  const listening = await next.start();
  stack.connector!.botEndpoint = `${listening.url}/api/messages`;
  return next;
}

function filesUnder(dir: string): string {
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .map((path) => (statSync(path).isDirectory() ? filesUnder(path) : readFileSync(path, 'latin1')))
    .join('\n');
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ticketzero-at-rest-'));
  stack = await startLocalStack({ dataDir, connector: 'sandbox', technicians: true, authenticated: true });
  env = {
    ...stack.env,
    PORT: '0',
    LOCAL_AI_API_KEY: LOCAL_AI_KEY,
    TRANSCRIPT_RETENTION_DAYS: '30',
  };
  app = await boot(`k1:${OLD_KEY}`);
  const connector = stack.connector!;

  ticketId = stack.atera.createTicket({
    title: 'Outlook calendar does not update',
    description: `Meetings I accept on my phone do not show up in Outlook (${DESCRIPTION_WORDS}). Call me on ${USER_SECRETS.phone}.`,
    endUserEmail: megan.email,
    endUserFirstName: 'Megan',
    endUserLastName: 'Bowen',
    customerId: 101,
    priority: 'Medium',
  }).TicketID;
  const first = await connector.waitFor(
    (a) => connector.conversation(a.conversationId)?.kind === 'personal',
    15_000,
  );
  const conversationId = first.conversationId;
  await eventually(async () =>
    expect((await app.store.getConversation(ticketId))?.turns.some((t) => t.role === 'assistant')).toBe(true),
  );

  stack.atera.faults.inject({ kind: '500', match: { method: 'POST' }, times: 1 });
  connector.faults.inject({ kind: '429', times: 1, retryAfterSeconds: 1 });
  await connector.userSays(
    megan,
    `My private mail is ${USER_SECRETS.email}, phone ${USER_SECRETS.phone}, my pin ${USER_SECRETS.password} — ${USER_SECRETS.words}`,
    { conversationId },
  );
  await connector.userSays(megan, 'I restarted the laptop and it works now!', { conversationId });
  const card = await connector.waitFor(
    (a) =>
      a.conversationId === conversationId && JSON.stringify(a.attachments ?? []).includes('confirm_fixed'),
  );
  await connector.clickAction(
    megan,
    conversationId,
    { verb: 'confirm_fixed', ticketId },
    { replyToId: card.activityId },
  );
  await eventually(async () => expect((await app.store.getConversation(ticketId))?.state).toBe('resolved'));
  await eventually(async () => expect((await app.store.outboxStats()).depth).toBe(0), 15_000);
}, 60_000);

afterAll(async () => {
  await app?.stop().catch(() => undefined);
  await stack?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('logs of a whole conversation', () => {
  it('were written, at info and at debug level', () => {
    const levels = new Set(lines.map((l) => (JSON.parse(l) as { level: number }).level));
    expect(levels).toContain(20);
    expect(levels).toContain(30);
    expect(lines.length).toBeGreaterThan(20);
  });

  it('never hold a configured secret or a token, at any level', () => {
    const text = lines.join('');
    for (const secret of [
      env.ATERA_API_KEY!,
      env.MICROSOFT_APP_PASSWORD!,
      env.GRAPH_CLIENT_SECRET!,
      LOCAL_AI_KEY,
      OLD_KEY,
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/);
    expect(text).not.toMatch(/Bearer\s+[A-Za-z0-9._-]{16,}/);
  });

  it('never hold the user’s words at info level or above, and at debug level only redacted', () => {
    const info = lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 30).join('');
    const all = lines.join('');
    for (const words of [USER_SECRETS.words, DESCRIPTION_WORDS, 'restarted the laptop']) {
      expect(info).not.toContain(words);
    }
    for (const personal of [USER_SECRETS.password, USER_SECRETS.email, USER_SECRETS.phone, '5551234']) {
      expect(all).not.toContain(personal);
    }
  });
});

describe('transcripts at rest', () => {
  it('are not readable on disk without the key', () => {
    const disk = filesUnder(dataDir);
    expect(disk).toContain(String(ticketId));
    for (const words of [USER_SECRETS.words, USER_SECRETS.password, USER_SECRETS.email, DESCRIPTION_WORDS]) {
      expect(disk).not.toContain(words);
    }
  });

  it('are read back with the key, and after a key rotation still', async () => {
    const user = (await app.store.getConversation(ticketId))!.turns.find((t) =>
      t.text.includes(USER_SECRETS.words),
    );
    expect(user?.role).toBe('user');

    await app.stop();
    app = await boot(`k2:${NEW_KEY},k1:${OLD_KEY}`);
    const again = await app.store.getConversation(ticketId);
    expect(again?.turns.some((t) => t.text.includes(USER_SECRETS.words))).toBe(true);
    expect(again?.ticket.description).toContain(DESCRIPTION_WORDS);
  });

  it('are opaque to a store opened without the key', async () => {
    await app.stop();
    const bare = await createLowdbConversationStore({ dataDir, fsync: false });
    try {
      const record = await bare.getConversation(ticketId);
      expect(record).not.toBeNull();
      expect(JSON.stringify(record)).not.toContain(USER_SECRETS.words);
      expect(record!.ticket.description).not.toContain(DESCRIPTION_WORDS);
    } finally {
      await bare.close();
    }
    app = await boot(`k2:${NEW_KEY},k1:${OLD_KEY}`);
  });

  it('are deleted by retention once the conversation ended longer ago than TRANSCRIPT_RETENTION_DAYS', async () => {
    expect(await app.store.getConversation(ticketId)).not.toBeNull();
    await app.stop();
    clock.advanceMinutes(31 * 24 * 60);
    // The retention job runs at start-up, then hourly.
    app = await boot(`k2:${NEW_KEY},k1:${OLD_KEY}`);
    await eventually(async () => expect(await app.store.getConversation(ticketId)).toBeNull());
  });
});
