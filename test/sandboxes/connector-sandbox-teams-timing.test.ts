/**
 * The connector sandbox playing Teams' timing, over real HTTP: a tiny bot server that answers late, fails or drops
 * the connection when told to, and the sandbox's v3 API receiving streamed replies. Limits are shortened (hundreds of
 * ms instead of 15 s / 45 s / 2 min) so the suite stays fast; the defaults are checked as values.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  startConnectorSandbox,
  TEAMS_STREAM_LIMITS,
  TEAMS_TIMING,
  type ConnectorSandbox,
  type TeamsUser,
} from '../../src/sandboxes/connector/connector-sandbox.js';
import { runFor } from '../support/waiting.js';

const TENANT = '0b6a3f1e-0000-4000-8000-00000000beef';
const APP_ID = 'app-teams-timing-e2e';
const SECRET = 'teams-timing-secret';
const ada: TeamsUser = { id: '29:1ada', aadObjectId: 'aad-ada', name: 'Ada Lovelace', tenantId: TENANT };

/** Short enough for CI, long enough that an immediate answer on a busy 2-core machine is in time. */
const TIMEOUT_MS = 400;
/** A "late" answer: far beyond the timeout, so an attempt that ends near TIMEOUT_MS was abandoned, not answered. */
const LATE_MS = 3_000;

/** What the tiny bot does with one POST. */
type Behaviour =
  | { answer: number; afterMs?: number; body?: unknown }
  /** Reads the request and never answers. */
  | { hang: true }
  /** Reads the request and destroys the connection. */
  | { drop: true };

interface ReceivedPost {
  id: string;
  type: string;
  text?: string;
  /** The raw body, to compare redeliveries byte for byte. */
  raw: string;
  authorization?: string;
  /** Which POST of this activity id it was, from 1. */
  nth: number;
  /** The sandbox closed the connection before the bot answered. */
  abandoned: boolean;
}

describe('the connector sandbox playing Teams’ inbound timing', () => {
  let sandbox: ConnectorSandbox;
  let bot: Server;
  const received: ReceivedPost[] = [];
  const timers = new Set<NodeJS.Timeout>();
  /** How the bot treats the nth POST of an activity; defaults to answering 200 at once. */
  let behave: (post: ReceivedPost) => Behaviour = () => ({ answer: 200 });

  beforeAll(async () => {
    sandbox = await startConnectorSandbox({ appId: APP_ID, appPassword: SECRET });
    bot = createServer((req, res) => void handle(req, res));
    bot.listen(0, '127.0.0.1');
    await once(bot, 'listening');
    sandbox.botEndpoint = `http://127.0.0.1:${(bot.address() as AddressInfo).port}/api/messages`;
  });

  afterAll(async () => {
    bot.closeAllConnections();
    await new Promise((resolve) => bot.close(resolve));
    await sandbox.close();
  });

  beforeEach(() => {
    sandbox.clear();
    sandbox.setTeamsTiming(false);
    received.length = 0;
    behave = () => ({ answer: 200 });
  });

  afterEach(() => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const activity = JSON.parse(raw) as { id: string; type: string; text?: string };
    const post: ReceivedPost = {
      id: activity.id,
      type: activity.type,
      ...(activity.text === undefined ? {} : { text: activity.text }),
      raw,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      nth: received.filter((r) => r.id === activity.id).length + 1,
      abandoned: false,
    };
    received.push(post);
    res.on('close', () => {
      if (!res.writableFinished) post.abandoned = true;
    });
    const behaviour = behave(post);
    if ('hang' in behaviour) return;
    if ('drop' in behaviour) {
      req.socket.destroy();
      return;
    }
    const answer = () => {
      if (res.destroyed) return;
      const text = behaviour.body === undefined ? '' : JSON.stringify(behaviour.body);
      res.writeHead(behaviour.answer, text ? { 'content-type': 'application/json' } : {});
      res.end(text);
    };
    if (!behaviour.afterMs) return answer();
    const timer = setTimeout(answer, behaviour.afterMs);
    timers.add(timer);
    res.on('close', () => clearTimeout(timer));
  }

  const audienceOf = (authorization: string | undefined): unknown =>
    (
      JSON.parse(
        Buffer.from((authorization ?? '').replace(/^Bearer /, '').split('.')[1] ?? '', 'base64url').toString(
          'utf8',
        ) || '{}',
      ) as { aud?: unknown }
    ).aud;

  it('is off by default: a slow answer is waited for and the activity delivered once', async () => {
    expect(sandbox.teamsTiming).toBeUndefined();
    behave = () => ({ answer: 200, afterMs: TIMEOUT_MS + 300 });

    const result = await sandbox.userSays(ada, 'my printer is offline');

    expect(result).toMatchObject({ status: 200, accepted: true });
    expect(received).toHaveLength(1);
    expect(result.attempts).toHaveLength(1);
    expect(result.attempts[0]).toMatchObject({ attempt: 1, status: 200, activityId: result.activityId });
    expect(result.attempts[0]?.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS + 250);
    expect(sandbox.violations()).toEqual([]);
  });

  it('abandons a POST the bot has not answered in time and delivers the same activity again, newly signed', async () => {
    sandbox.setTeamsTiming({ inboundTimeoutMs: TIMEOUT_MS });
    behave = (post) => (post.nth === 1 ? { answer: 200, afterMs: LATE_MS } : { answer: 200 });

    const result = await sandbox.userSays(ada, 'Outlook keeps asking for my password');

    expect(result).toMatchObject({ status: 200, accepted: true });
    expect(result.attempts.map((a) => a.status)).toEqual(['timed_out', 200]);
    // The bot saw the same activity twice, byte for byte, the first request cut off before it answered.
    await vi.waitFor(() =>
      expect(received.map((r) => [r.id, r.nth, r.abandoned])).toEqual([
        [result.activityId, 1, true],
        [result.activityId, 2, false],
      ]),
    );
    expect(received[1]?.raw).toBe(received[0]?.raw);
    expect(received.map((r) => audienceOf(r.authorization))).toEqual([APP_ID, APP_ID]);
    // Given up at the timeout, not when the late answer would have come.
    const [first, second] = result.attempts;
    expect(first?.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(first?.durationMs).toBeLessThan(LATE_MS / 2);
    expect(Date.parse(second?.startedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(first?.startedAt ?? '') + TIMEOUT_MS - 5,
    );
    expect(sandbox.deliveriesOf(result.activityId)).toEqual(result.attempts);
    expect(sandbox.delivered).toHaveLength(1);
    expect(sandbox.delivered[0]).toMatchObject({ status: 200, attempts: 2, signed: true });
    expect(sandbox.violations()).toEqual([
      expect.objectContaining({
        kind: 'inbound_timeout',
        activityId: result.activityId,
        attempt: 1,
        limitMs: TIMEOUT_MS,
      }),
    ]);
  });

  it('delivers an activity the bot answers in time exactly once', async () => {
    sandbox.setTeamsTiming({ inboundTimeoutMs: TIMEOUT_MS });

    const result = await sandbox.userSays(ada, 'thanks, that fixed it');

    expect(received.map((r) => r.id)).toEqual([result.activityId]);
    expect(sandbox.deliveriesOf(result.activityId).map((a) => [a.attempt, a.status])).toEqual([[1, 200]]);
    expect(sandbox.deliveries()).toHaveLength(1);
    expect(sandbox.violations()).toEqual([]);
  });

  it('gives up after the configured redeliveries, spaced as configured, and reports every attempt', async () => {
    const delayMs = 250;
    sandbox.setTeamsTiming({ inboundTimeoutMs: TIMEOUT_MS, redeliveries: 2, redeliveryDelayMs: delayMs });
    behave = () => ({ hang: true });

    const result = await sandbox.userSays(ada, 'is anyone there?');

    expect(result).toMatchObject({ status: 0, accepted: false });
    expect(result.attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'timed_out'],
      [2, 'timed_out'],
      [3, 'timed_out'],
    ]);
    // The bot sees the last connection close a moment after the sandbox gave up on it.
    await vi.waitFor(() =>
      expect(received.map((r) => [r.id, r.abandoned])).toEqual([
        [result.activityId, true],
        [result.activityId, true],
        [result.activityId, true],
      ]),
    );
    const starts = result.attempts.map((a) => Date.parse(a.startedAt));
    for (let i = 1; i < starts.length; i++) {
      expect((starts[i] ?? 0) - (starts[i - 1] ?? 0)).toBeGreaterThanOrEqual(TIMEOUT_MS + delayMs - 10);
    }
    expect(sandbox.delivered[0]).toMatchObject({ status: 0, attempts: 3 });
    expect(sandbox.violations().map((v) => [v.kind, v.attempt])).toEqual([
      ['inbound_timeout', 1],
      ['inbound_timeout', 2],
      ['inbound_timeout', 3],
    ]);
  });

  it('redelivers after a 5xx or a broken connection, but takes a 4xx as the bot’s final word', async () => {
    sandbox.setTeamsTiming({ inboundTimeoutMs: TIMEOUT_MS });
    behave = (post) => {
      if (post.nth > 1) return { answer: 200 };
      if (post.text === 'fail once') return { answer: 503 };
      if (post.text === 'drop once') return { drop: true };
      return { answer: 403 };
    };

    const failed = await sandbox.userSays(ada, 'fail once');
    const dropped = await sandbox.userSays(ada, 'drop once');
    const refused = await sandbox.userSays(ada, 'refuse');

    expect(failed.attempts.map((a) => a.status)).toEqual([503, 200]);
    expect(dropped.attempts.map((a) => a.status)).toEqual(['connection_error', 200]);
    expect(dropped.attempts[0]?.error).toMatch(/^fetch failed: ./);
    expect(refused).toMatchObject({ status: 403, accepted: false });
    expect(refused.attempts.map((a) => a.status)).toEqual([403]);
    expect(received.map((r) => r.text)).toEqual([
      'fail once',
      'fail once',
      'drop once',
      'drop once',
      'refuse',
    ]);
    expect(sandbox.violations()).toEqual([]);
  });

  it('redelivers installs and card actions too; a card action returns the answer that came in time', async () => {
    sandbox.setTeamsTiming({ inboundTimeoutMs: TIMEOUT_MS });
    const card = {
      statusCode: 200,
      type: 'application/vnd.microsoft.card.adaptive',
      value: { type: 'AdaptiveCard' },
    };
    behave = (post) =>
      post.nth === 1
        ? { answer: 200, afterMs: LATE_MS }
        : { answer: 200, body: post.type === 'invoke' ? card : undefined };

    const conversationId = await sandbox.installFor(ada);
    const body = await sandbox.clickAction(ada, conversationId, { verb: 'confirmFixed', ticketId: 4711 });

    expect(body).toEqual(card);
    expect(sandbox.deliveries().map((a) => [a.activityType, a.attempt, a.status])).toEqual([
      ['conversationUpdate', 1, 'timed_out'],
      ['conversationUpdate', 2, 200],
      ['invoke', 1, 'timed_out'],
      ['invoke', 2, 200],
    ]);
  });

  it('throws from a card action when no attempt was answered, naming the attempts', async () => {
    sandbox.setTeamsTiming({ inboundTimeoutMs: TIMEOUT_MS });
    const conversationId = await sandbox.installFor(ada);
    behave = () => ({ hang: true });

    await expect(sandbox.clickAction(ada, conversationId, { verb: 'escalate' })).rejects.toThrow(
      'timed_out, timed_out',
    );
  });

  it('uses Teams’ own values when switched on plainly, and refuses nonsense', () => {
    sandbox.setTeamsTiming(true);
    expect(sandbox.teamsTiming).toEqual({ inboundTimeoutMs: 15_000, redeliveries: 1, redeliveryDelayMs: 0 });
    expect(TEAMS_TIMING).toEqual(sandbox.teamsTiming);
    sandbox.setTeamsTiming({ redeliveries: 3 });
    expect(sandbox.teamsTiming).toEqual({ inboundTimeoutMs: 15_000, redeliveries: 3, redeliveryDelayMs: 0 });
    expect(() => sandbox.setTeamsTiming({ inboundTimeoutMs: 0 })).toThrow('inboundTimeoutMs');
    expect(() => sandbox.setTeamsTiming({ redeliveries: 1.5 })).toThrow('redeliveries');
    sandbox.setTeamsTiming(false);
    expect(sandbox.teamsTiming).toBeUndefined();
  });

  it('can be switched on from the start', async () => {
    const other = await startConnectorSandbox({ teamsTiming: { inboundTimeoutMs: TIMEOUT_MS } });
    try {
      expect(other.teamsTiming).toEqual({ ...TEAMS_TIMING, inboundTimeoutMs: TIMEOUT_MS });
      other.botEndpoint = sandbox.botEndpoint;
      behave = (post) => (post.nth === 1 ? { hang: true } : { answer: 200 });
      const result = await other.userSays(ada, 'hello from another sandbox');
      expect(result.attempts.map((a) => a.status)).toEqual(['timed_out', 200]);
      expect(result.attempts.every((a) => !a.signed)).toBe(true);
    } finally {
      await other.close();
    }
  });
});

describe('the connector sandbox checking Teams’ streaming rules on what the bot sends', () => {
  let sandbox: ConnectorSandbox;
  let bot: Server;
  let conversationId: string;
  const GAP_MS = 300;

  beforeAll(async () => {
    sandbox = await startConnectorSandbox({ appId: APP_ID, appPassword: SECRET });
    bot = createServer((_req, res) => res.writeHead(200).end());
    bot.listen(0, '127.0.0.1');
    await once(bot, 'listening');
    sandbox.botEndpoint = `http://127.0.0.1:${(bot.address() as AddressInfo).port}/api/messages`;
    conversationId = await sandbox.installFor(ada);
  });

  afterAll(async () => {
    bot.closeAllConnections();
    await new Promise((resolve) => bot.close(resolve));
    await sandbox.close();
  });

  beforeEach(() => {
    sandbox.clear();
    sandbox.setStreamLimits({ maxGapMs: GAP_MS });
  });

  async function accessToken(): Promise<string> {
    const response = await fetch(`${sandbox.loginUrl(TENANT)}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: APP_ID,
        client_secret: SECRET,
        scope: 'https://api.botframework.com/.default',
      }).toString(),
    });
    return ((await response.json()) as { access_token: string }).access_token;
  }

  /** POSTs one streaming activity as the REST streaming protocol describes it; returns the status and body. */
  async function streamPost(
    streamType: 'informative' | 'streaming' | 'final',
    text: string,
    streamId?: string,
    streamSequence?: number,
  ): Promise<{ status: number; body: { id?: string; error?: { code: string; message: string } } }> {
    const response = await fetch(
      `${sandbox.url}/v3/conversations/${encodeURIComponent(conversationId)}/activities`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${await accessToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          type: streamType === 'final' ? 'message' : 'typing',
          text,
          entities: [
            {
              type: 'streaminfo',
              streamType,
              ...(streamId ? { streamId } : {}),
              ...(streamSequence ? { streamSequence } : {}),
            },
          ],
        }),
      },
    );
    return { status: response.status, body: (await response.json()) as { id?: string } };
  }

  it('records two updates of one stream further apart than the limit, and still accepts the update', async () => {
    const started = await streamPost('informative', 'Looking into it…', undefined, 1);
    const streamId = started.body.id ?? '';
    expect(started.status).toBe(201);
    await streamPost('streaming', 'Try', streamId, 2);
    await runFor(GAP_MS + 150);
    const late = await streamPost('streaming', 'Try restarting', streamId, 3);
    await streamPost('final', 'Try restarting the router.', streamId);

    expect(late.status).toBe(201);
    const violations = sandbox.violations();
    expect(violations).toEqual([
      expect.objectContaining({ kind: 'stream_gap', streamId, conversationId, limitMs: GAP_MS }),
    ]);
    expect(violations[0]?.elapsedMs).toBeGreaterThan(GAP_MS);
    expect(violations[0]?.detail).toContain('between update 2 and update 3');
    expect(sandbox.streams()).toEqual([
      expect.objectContaining({ streamId, conversationId, updates: 4, state: 'final' }),
    ]);
    expect(sandbox.conversation(conversationId)?.messages.map((m) => m.text)).toEqual([
      'Try restarting the router.',
    ]);
  });

  it('refuses any update after the final message with 403 ContentStreamNotAllowed, as Teams does', async () => {
    const streamId = (await streamPost('informative', 'Checking your mailbox…', undefined, 1)).body.id ?? '';
    await streamPost('final', 'Your mailbox is full.', streamId);
    const recorded = sandbox.activities.length;

    const after = await streamPost('informative', 'One more thing…', streamId, 2);

    expect(after.status).toBe(403);
    expect(after.body.error).toEqual({
      code: 'ContentStreamNotAllowed',
      message: 'Content stream is not allowed on an already completed streamed message.',
    });
    expect(sandbox.activities).toHaveLength(recorded);
    expect(sandbox.violations()).toEqual([
      expect.objectContaining({ kind: 'stream_update_after_final', streamId }),
    ]);
  });

  it('reports a stream left open past the gap limit as unfinished, until its final message arrives', async () => {
    const streamId = (await streamPost('informative', 'Scanning your device…', undefined, 1)).body.id ?? '';
    expect(sandbox.violations()).toEqual([]);

    await runFor(GAP_MS + 150);
    expect(sandbox.violations()).toEqual([
      expect.objectContaining({ kind: 'stream_unfinished', streamId, conversationId }),
    ]);
    expect(sandbox.streams()).toEqual([expect.objectContaining({ streamId, state: 'open', updates: 1 })]);

    await streamPost('final', 'Your device is compliant.', streamId);
    expect(sandbox.violations().map((v) => v.kind)).toEqual(['stream_gap']);
  });

  it('ends a stream that outlasts the time limit with 403, as Teams does after two minutes', async () => {
    sandbox.setStreamLimits({ maxGapMs: 10_000, maxDurationMs: 400 });
    const streamId = (await streamPost('informative', 'Working on it…', undefined, 1)).body.id ?? '';
    await runFor(550);

    const late = await streamPost('streaming', 'Almost', streamId, 2);

    expect(late.status).toBe(403);
    expect(late.body.error).toEqual({
      code: 'ContentStreamNotAllowed',
      message: 'Content stream finished due to exceeded streaming time.',
    });
    expect(sandbox.streams()).toEqual([expect.objectContaining({ streamId, state: 'expired' })]);
    expect(sandbox.violations()).toEqual([
      expect.objectContaining({ kind: 'stream_too_long', streamId, limitMs: 400 }),
    ]);
  });

  it('checks Teams’ own limits unless told otherwise', async () => {
    const fresh = await startConnectorSandbox();
    try {
      expect(fresh.streamLimits).toEqual({ maxGapMs: 45_000, maxDurationMs: 120_000 });
      expect(TEAMS_STREAM_LIMITS).toEqual(fresh.streamLimits);
      expect(() => fresh.setStreamLimits({ maxGapMs: -1 })).toThrow('maxGapMs');
    } finally {
      await fresh.close();
    }
  });
});
