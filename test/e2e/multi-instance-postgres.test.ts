/**
 * Several TicketZero instances on one PostgreSQL database, polling the same Atera sandbox, behind a round-robin
 * balancer: every ticket gets exactly one conversation and every turn exactly one Atera comment, a user's reply
 * lands in the right conversation whichever instance receives it, and when the instance that took a ticket is
 * killed (SIGKILL, real processes) another one finishes the conversation.
 *
 * Needs TICKETZERO_TEST_DATABASE_URL (CI: postgres://postgres@127.0.0.1:5432/test); each test uses a fresh schema.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createTicketZero, type TicketZero } from '../../src/app.js';
import { createPostgresConversationStore } from '../../src/adapters/store/postgres-store.js';
import { loadConfig } from '../../src/config/load-config.js';
import { startLocalStack, TEAMS_USERS, type LocalStack } from '../../src/sandboxes/local-stack.js';
import { spawnBot, type BotProcess } from './support/bot-process.js';
import { addContosoUsers } from './support/many-users.js';
import { startRoundRobinProxy, type RoundRobinProxy } from './support/round-robin-proxy.js';
import { deliverUntilAccepted, userMessageActivity } from './support/teams-delivery.js';
import { testDatabaseUrl } from '../support/test-database.js';
import { until as pollUntil } from '../support/waiting.js';

const databaseUrl = testDatabaseUrl();
const TICKETS = 50;

function ticketFor(stack: LocalStack, email: string, first: string, last: string, title: string): number {
  return stack.atera.createTicket({
    title,
    description: `${title}. It started this morning.`,
    endUserEmail: email,
    endUserFirstName: first,
    endUserLastName: last,
    customerId: 101,
    priority: 'Medium',
  }).TicketID;
}

async function until<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 40_000,
) {
  return pollUntil(what, check, { timeoutMs, intervalMs: 100 });
}

/** Every comment's marker on a ticket, in Atera's order. */
function markersOf(stack: LocalStack, ticketId: number): string[] {
  return stack.atera
    .comments(ticketId)
    .flatMap((c) =>
      [...String(c.Comment ?? '').matchAll(/\[TicketZero ref (tz-[\w-]+)\]/g)].map((m) => m[1]!),
    );
}

function turnSeqsInAtera(stack: LocalStack, ticketId: number): number[] {
  return markersOf(stack, ticketId)
    .filter((m) => m.startsWith(`tz-${ticketId}-`))
    .map((m) => Number(m.slice(`tz-${ticketId}-`.length)));
}

describe.skipIf(!databaseUrl)('several TicketZero instances on one PostgreSQL database', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  async function environment(options: { modelAnswerDelayMs?: number } = {}) {
    const schema = `tz_multi_${randomBytes(5).toString('hex')}`;
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'ticketzero-multi-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const stack = await startLocalStack({
      dataDir,
      connector: 'sandbox',
      technicians: false,
      ...(options.modelAnswerDelayMs ? { modelAnswerDelayMs: options.modelAnswerDelayMs } : {}),
    });
    cleanups.push(() => stack.close());
    const proxy = await startRoundRobinProxy();
    cleanups.push(() => proxy.close());
    stack.connector!.botEndpoint = `${proxy.url}/api/messages`;
    const env = {
      ...stack.env,
      STORE: 'postgres',
      DATABASE_URL: databaseUrl!,
      DATABASE_SCHEMA: schema,
      LOG_LEVEL: 'silent',
    };
    // The test's own view of the database (reads only).
    const store = await createPostgresConversationStore({ connectionString: databaseUrl!, schema });
    cleanups.push(() => store.close());
    return { stack, proxy, env, store, schema };
  }

  async function startInstances(env: Record<string, string>, proxy: RoundRobinProxy, count: number) {
    const taken: Array<{ instance: string; ticketId: number }> = [];
    const apps: TicketZero[] = [];
    for (let i = 1; i <= count; i += 1) {
      const instance = `instance-${i}`;
      const app = await createTicketZero(loadConfig({ ...env, INSTANCE_ID: instance, PORT: '0' }), {
        log: pino({ level: 'silent' }),
        tickMs: 200,
        outboxIntervalMs: 100,
        observer: { ticketTaken: (ticket) => taken.push({ instance, ticketId: ticket.id }) },
      });
      const listening = await app.start();
      cleanups.push(() => app.stop());
      apps.push(app);
      proxy.upstreams.push(listening.url);
    }
    return { apps, taken };
  }

  it.each([2, 3])(
    'with %i instances and 50 new tickets: one conversation per ticket, one comment per turn, replies land right',
    async (instances) => {
      const { stack, proxy, env, store } = await environment();
      const users = addContosoUsers(stack, TICKETS);
      const { taken } = await startInstances(env, proxy, instances);
      const tickets = users.map((u, i) => ({
        user: u,
        ticketId: ticketFor(stack, u.email, 'Load', u.name, `Outlook problem number ${i + 1}`),
      }));

      // Every ticket opened once and answered once.
      await until('every ticket answered', async () => {
        for (const { ticketId } of tickets) {
          const record = await store.getConversation(ticketId);
          if (!record?.turns.some((t) => t.role === 'assistant')) return false;
        }
        return true;
      });

      // Each user replies once; the balancer hands the replies to the instances in turn.
      const replies = await Promise.all(
        tickets.map(async ({ user, ticketId }) => {
          const record = await store.getConversation(ticketId);
          const text = `Ticket ${ticketId}: the status bar says Disconnected`;
          const delivery = await stack.connector!.userSays(user, text, {
            conversationId: record!.chatConversationId!,
          });
          return { ticketId, text, activityId: delivery.activityId, status: delivery.status };
        }),
      );
      expect(replies.every((r) => r.status < 300)).toBe(true);
      await until('every reply answered and every comment delivered', async () => {
        for (const { ticketId } of tickets) {
          const record = await store.getConversation(ticketId);
          if (record?.turns.length !== 3) return false;
        }
        return (await store.outboxStats()).depth === 0;
      });

      expect(taken.map((t) => t.ticketId).sort()).toEqual(tickets.map((t) => t.ticketId).sort());
      const handledBy = new Set(
        proxy.forwarded.filter((f) => f.path === '/api/messages').map((f) => f.upstream),
      );
      expect(handledBy.size).toBe(instances);

      for (const { ticketId, user } of tickets) {
        const record = (await store.getConversation(ticketId))!;
        const reply = replies.find((r) => r.ticketId === ticketId)!;
        expect(
          record.turns.map((t) => t.role),
          `ticket ${ticketId}`,
        ).toEqual(['assistant', 'user', 'assistant']);
        expect(record.turns[1]?.inboundId, `ticket ${ticketId}`).toBe(reply.activityId);
        expect(record.user?.id, `ticket ${ticketId}`).toBe(user.aadObjectId);
        const markers = markersOf(stack, ticketId);
        expect(new Set(markers).size, `ticket ${ticketId}: ${markers.join(' ')}`).toBe(markers.length);
        expect(turnSeqsInAtera(stack, ticketId), `ticket ${ticketId}`).toEqual([1, 2, 3]);
        const comments = stack.atera.comments(ticketId).map((c) => String(c.Comment ?? ''));
        expect(
          comments.filter((c) => /started a Teams conversation/.test(c)),
          `ticket ${ticketId}`,
        ).toHaveLength(1);
        expect(
          comments.filter((c) => c.includes(reply.text)),
          `ticket ${ticketId}`,
        ).toHaveLength(1);
        const cards = stack.connector!.activities.filter(
          (a) => a.conversationId === record.chatConversationId && (a.attachments?.length ?? 0) > 0,
        );
        expect(cards, `ticket ${ticketId}: ticket cards in the user's chat`).toHaveLength(1);
      }
    },
    90_000,
  );

  it('relay each comment written in Atera to the chat once, though both instances poll and see it', async () => {
    const { stack, proxy, env, store } = await environment();
    for (const instance of ['a', 'b']) {
      const bot = await spawnBot({ env: { ...env, INSTANCE_ID: instance, LOG_LEVEL: 'warn' } });
      cleanups.push(() => bot.kill());
      proxy.upstreams.push(bot.url);
    }
    const megan = TEAMS_USERS.megan;
    const ticketId = ticketFor(stack, megan.email, 'Megan', 'Bowen', 'Outlook calendar does not update');
    const opened = await until('the first answer', async () => {
      const record = await store.getConversation(ticketId);
      return record?.turns.some((t) => t.role === 'assistant') && record;
    });
    const conversationId = opened.chatConversationId!;
    stack.atera.addEndUserReply(ticketId, { text: 'It fails on the web version too.' });
    stack.atera.addTechnicianReply(ticketId, { text: 'I cleared your calendar cache on the server.' });
    await until('both comments in the chat', async () => {
      const texts = stack.connector!.conversation(conversationId)!.messages.map((m) => m.text ?? '');
      return texts.some((t) => t.includes('cleared your calendar cache'));
    });
    // Several more polls by both instances: nothing arrives a second time.
    const lookedAtAtera = () =>
      stack.atera.requests.filter((q) => q.method === 'GET' && q.path === '/tickets/lastmodified').length;
    const polledBefore = lookedAtAtera();
    await until('several more polls of Atera', async () => lookedAtAtera() >= polledBefore + 3);
    const texts = stack.connector!.conversation(conversationId)!.messages.map((m) => m.text ?? '');
    expect(texts.filter((t) => t === 'You wrote by e-mail: It fails on the web version too.')).toHaveLength(
      1,
    );
    expect(texts.filter((t) => t.includes('cleared your calendar cache'))).toHaveLength(1);
    const record = (await store.getConversation(ticketId))!;
    expect(record.turns.filter((t) => t.inboundId?.startsWith('atera:'))).toHaveLength(2);
    expect(record.state).toBe('paused');
  }, 90_000);

  it('finishes a conversation on another instance when the one that took the ticket is killed', async () => {
    const { stack, proxy, env, store } = await environment();
    const bots = new Map<string, BotProcess>();
    for (const instance of ['a', 'b']) {
      const bot = await spawnBot({ env: { ...env, INSTANCE_ID: instance, LOG_LEVEL: 'warn' } });
      cleanups.push(() => bot.kill());
      bots.set(instance, bot);
      proxy.upstreams.push(bot.url);
    }
    const megan = TEAMS_USERS.megan;
    const ticketId = ticketFor(stack, megan.email, 'Megan', 'Bowen', 'Outlook calendar does not update');
    const opened = await until('the first answer', async () => {
      const record = await store.getConversation(ticketId);
      return record?.turns.some((t) => t.role === 'assistant') && record;
    });
    const conversationId = opened.chatConversationId!;
    let sent = 0;
    const say = async (text: string) => {
      sent += 1;
      const activity = userMessageActivity(
        stack.connector!,
        megan,
        conversationId,
        text,
        `multi-${ticketId}-${sent}`,
      );
      await deliverUntilAccepted(stack.connector!, activity);
      return until(`the answer to "${text}"`, async () => {
        const record = await store.getConversation(ticketId);
        const at = record?.turns.findIndex((t) => t.inboundId === activity.id) ?? -1;
        // Answered, or the question "is it fixed?" asked, or the conversation ended.
        const ended = record && record.state !== 'active' && !record.pendingStep;
        return (
          record &&
          at >= 0 &&
          (ended || record.turns.slice(at + 1).some((t) => t.role === 'assistant')) &&
          record
        );
      });
    };
    await say('The status bar says Disconnected');
    await until('the comments so far delivered', async () => (await store.outboxStats()).depth === 0);

    // Kill the instance that took the ticket; the balancer now reaches only the other one.
    const owner = await ownerOf(env, ticketId);
    await bots.get(owner)!.kill();
    const survivor = owner === 'a' ? 'b' : 'a';

    let record = await say('I restarted the laptop and it works now!');
    expect(record.state).toBe('awaiting_confirmation');
    record = await say('Yes, it works, thank you');
    expect(record.state).toBe('resolved');
    await until(
      'the ticket resolved in Atera',
      async () => stack.atera.getTicket(ticketId)?.TicketStatus === 'Resolved',
    );
    await until('every comment delivered', async () => (await store.outboxStats()).depth === 0);

    expect(bots.get(survivor)!.output()).not.toMatch(/"level":50/);
    const markers = markersOf(stack, ticketId);
    expect(new Set(markers).size, markers.join(' ')).toBe(markers.length);
    const final = (await store.getConversation(ticketId))!;
    expect(turnSeqsInAtera(stack, ticketId)).toEqual(final.turns.map((t) => t.seq));
    expect(final.turns.filter((t) => t.role === 'user')).toHaveLength(3);
  }, 90_000);
});

/** The instance whose watcher claimed the ticket (claims are first-writer-wins in PostgreSQL). */
async function ownerOf(env: Record<string, string>, ticketId: number): Promise<string> {
  const client = new pg.Client({ connectionString: env['DATABASE_URL'] });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${env['DATABASE_SCHEMA']}"`);
    const { rows } = await client.query<{ by: string }>(
      "SELECT claim->>'by' AS by FROM claims WHERE ticket_id = $1",
      [ticketId],
    );
    if (!rows[0]) throw new Error(`ticket ${ticketId} has no claim`);
    return rows[0].by;
  } finally {
    await client.end();
  }
}

describe.runIf(!databaseUrl)('several TicketZero instances on one PostgreSQL database', () => {
  // Skipped only without a database and outside CI: under CI=true a missing TICKETZERO_TEST_DATABASE_URL fails the run.
  // Skipped on purpose: a visible placeholder where PostgreSQL is missing, so the report says why the real specs did not run.
  it.skip('run against a real PostgreSQL (TICKETZERO_TEST_DATABASE_URL unset)', () => {});
});
