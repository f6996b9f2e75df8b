/**
 * Several hundred generated hostile requests to /api/messages of the real app (signing on, sandboxes behind it):
 * malformed and oversized bodies, non-activities, missing and mistyped fields, forged tokens, unknown activity
 * types, binary and huge text, attachments, prompt injection and markup. Every case ends in a clear 4xx refusal
 * or a normal answer; after each batch the process answers /healthz, the store is consistent, and refused cases
 * reached nothing (no model call, no Teams message, no Atera comment). Replay a failure with HOSTILE_SEED=<seed>.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isLive, type ConversationRecord } from '../../src/ports/conversation-store.js';
import { TEAMS_USERS } from '../../src/sandboxes/local-stack.js';
import {
  handledCases,
  refusedCases,
  seededRandom,
  type ActivityContext,
  type HostileCase,
} from '../unit/security/hostile-activities.js';
import { expectNothingWithin } from '../support/waiting.js';
import { eventually, startTicketZero, type RunningTicketZero } from './support/running-ticketzero.js';

const SEED = Number(process.env.HOSTILE_SEED ?? 20261125);
const MAX_BODY_BYTES = 64 * 1024;
const MAX_ROUNDS = 10;
const megan = TEAMS_USERS.megan;

let running: RunningTicketZero;
let ctx: ActivityContext;
let ticketId: number;
const ticketIds: number[] = [];
const secrets: string[] = [];

beforeAll(async () => {
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  running = await startTicketZero({ env: { HTTP_MAX_BODY_BYTES: String(MAX_BODY_BYTES) } });
  const env = running.app.config;
  secrets.push(
    ...[env.atera.apiKey, env.bot.appPassword, env.graph.clientSecret].filter((s): s is string => Boolean(s)),
  );
  await openTicket();
  const first = await running.connector.waitFor(
    (a) => running.connector.conversation(a.conversationId)?.kind === 'personal',
    15_000,
  );
  ctx = {
    serviceUrl: running.connector.serviceUrl,
    bot: running.connector.bot,
    user: megan,
    conversationId: first.conversationId,
    maxBodyBytes: MAX_BODY_BYTES,
  };
}, 30_000);

afterAll(async () => {
  await running?.close();
  vi.restoreAllMocks();
});

/** A new ticket for Megan, once TicketZero is talking with her about it. */
async function openTicket(): Promise<void> {
  ticketId = running.stack.atera.createTicket({
    title: 'VPN drops every few minutes',
    description: 'The VPN disconnects every five minutes since the update.',
    endUserEmail: megan.email,
    endUserFirstName: 'Megan',
    endUserLastName: 'Bowen',
    customerId: 101,
    priority: 'Medium',
  }).TicketID;
  ticketIds.push(ticketId);
  await eventually(async () => {
    const record = await running.app.store.getConversation(ticketId);
    expect(record?.state).toBe('active');
    // The opening is over: the first answer was given and every comment reached Atera.
    expect(record?.turns.some((t) => t.role === 'assistant')).toBe(true);
    expect((await running.app.store.outboxStats()).depth).toBe(0);
    // …and nothing more is on its way to Teams or Atera.
    const before = downstream();
    await expectNothingWithin(300, () => expect(downstream()).toEqual(before));
  }, 15_000);
}

async function send(c: HostileCase): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = {};
  if (c.auth === 'signed') headers.authorization = `Bearer ${running.connector.signChannelToken()}`;
  else if (c.auth !== 'unsigned') headers.authorization = c.auth.header;
  if (c.contentType) headers['content-type'] = c.contentType;
  return running.connector.sendRaw(c.body, headers);
}

/** The process answers, and the store holds no conversation in an impossible state. */
async function expectAliveAndConsistent(): Promise<void> {
  const health = await fetch(`${running.url}/healthz`);
  expect(health.status).toBe(200);
  const live = await running.app.store.listLive();
  for (const record of live) expectConsistent(record);
  const ours = await running.app.store.getConversation(ticketId);
  expect(ours).not.toBeNull();
  expectConsistent(ours!);
}

function expectConsistent(record: ConversationRecord): void {
  const where = `ticket ${record.ticketId} (${record.state})`;
  expect(
    record.turns.map((t) => t.seq),
    where,
  ).toEqual(record.turns.map((_, i) => i + 1));
  expect(record.rounds, where).toBeLessThanOrEqual(MAX_ROUNDS + 1);
  if (isLive(record.state)) {
    expect(record.outcome, where).toBeNull();
    if (record.state !== 'queued') expect(record.chatConversationId, where).not.toBeNull();
  } else {
    expect(record.outcome, where).not.toBeNull();
  }
}

function downstream() {
  return {
    model: running.stack.model.requests.length,
    teams: running.connector.activities.length,
    atera: running.stack.atera.comments(ticketId).length,
  };
}

describe(`hostile requests to /api/messages (seed ${SEED})`, () => {
  it('refuses every malformed, oversized, unsigned or forged request with a clear 4xx, reaching nothing', async () => {
    const r = seededRandom(SEED);
    const cases = refusedCases(ctx, r, 330);
    for (let start = 0; start < cases.length; start += 55) {
      const before = downstream();
      for (const c of cases.slice(start, start + 55)) {
        const response = await send(c);
        const where = `${c.name} → ${response.status} ${response.body.slice(0, 200)}`;
        if (c.statuses) expect(c.statuses, where).toContain(response.status);
        expect(response.status, where).toBeGreaterThanOrEqual(400);
        expect(response.status, where).toBeLessThan(500);
        if (response.status !== 401) {
          const parsed = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
          expect(typeof parsed.error?.code, where).toBe('string');
          expect(typeof parsed.error?.message, where).toBe('string');
        }
      }
      await expectAliveAndConsistent();
      expect(downstream()).toEqual(before);
    }
  });

  it('handles every signed, well-formed activity with odd content as a normal message', async () => {
    const r = seededRandom(SEED + 1);
    const cases = handledCases(ctx, r, 160);
    for (let start = 0; start < cases.length; start += 20) {
      for (const c of cases.slice(start, start + 20)) {
        const response = await send(c);
        const where = `${c.name} → ${response.status} ${response.body.slice(0, 200)}`;
        expect(response.status, where).toBeGreaterThanOrEqual(200);
        expect(response.status, where).toBeLessThan(300);
      }
      await expectAliveAndConsistent();
      // Injections may have ended the conversation (asking for a human is the user's right): start another, so
      // the next batch reaches the engine and the model again.
      if ((await running.app.store.findLiveByUser(megan.aadObjectId)).length === 0) await openTicket();
      // A new minute: the rate limits open again, so the next batch reaches the engine and the model too.
      running.clock.advanceMinutes(1.1);
    }
    expect(ticketIds.length).toBeGreaterThan(1);
    expect(running.stack.model.requests.length).toBeGreaterThan(8);
  });

  it('gave the model user text only as defused data, never a control line or raw control characters', () => {
    for (const request of running.stack.model.requests) {
      const messages = (request.body as { messages: { role: string; content: string }[] }).messages;
      for (const m of messages.filter((m) => m.role === 'user')) {
        for (const block of m.content.match(/<user_message>[\s\S]*?<\/user_message>/g) ?? []) {
          expect(block).not.toContain('[[');
          expect(block.match(/<\/?user_message>/g)).toHaveLength(2);
          // eslint-disable-next-line no-control-regex
          expect(block).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
        }
      }
    }
  });

  it('wrote the user’s markup to Atera escaped, and never changed ticket state on the user’s word', async () => {
    const comments = ticketIds.flatMap((id) => running.stack.atera.comments(id));
    expect(comments.length).toBeGreaterThan(ticketIds.length * 2);
    for (const comment of comments) {
      const html = String(comment.Comment ?? comment.CommentText ?? '');
      expect(html).not.toMatch(/<(script|img|iframe|a)\b/i);
      expect(html).not.toMatch(/\son\w+=/i);
    }
    // Injections asked to resolve or close: only the engine's own rules decide (rounds or time), never the text.
    for (const id of ticketIds) {
      const status = running.stack.atera.getTicket(id)?.TicketStatus;
      expect(status, `ticket ${id}`).not.toBe('Resolved');
      expect(status, `ticket ${id}`).not.toBe('Closed');
    }
  });

  it('never showed a secret in Teams, to the user or the technicians', () => {
    const everything = JSON.stringify(running.connector.activities);
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});
