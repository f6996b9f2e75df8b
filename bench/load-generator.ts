/**
 * The benchmark's load generator, in a process of its own (`run-bench.ts` forks it; they talk over the IPC channel).
 * It sends signed user replies open-loop — at a fixed rate, whatever the bot's speed — and does nothing else, so the
 * Atera and Graph sandboxes, the recording connector and the model in the parent process cannot delay a send.
 * It reports its own lag for every step: how late each send was against its schedule, and its event-loop delay
 * (perf_hooks.monitorEventLoopDelay); the parent decides from that whether the step measured the bot.
 *
 * Times it reports are on the system's monotonic clock (process.hrtime, shared by every process on the machine), so
 * the parent can set them against the moment an answer reached its connector; `wallAt` (Date.now()) is for what is
 * compared with Atera's comment dates.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { percentile, turnMarker } from './bench-stats.js';

export interface GeneratorUser {
  id: string;
  aadObjectId: string;
  name: string;
  tenantId: string;
  conversationId: string;
}

export type GeneratorCommand =
  | {
      /** Users later runs send as (added to those already known, by id). */
      type: 'users';
      users: GeneratorUser[];
    }
  | {
      type: 'run';
      id: number;
      endpoint: string;
      authorization: string | undefined;
      serviceUrl: string;
      botAppId: string;
      /** The users (known from `users` commands) who reply, round-robin. */
      userIds: string[];
      /** Sends per second, for `seconds`. */
      rate: number;
      seconds: number;
      /** Give each reply's text a unique turn marker (`bench-turn-N`), to find it again in Atera. */
      markers: boolean;
    }
  | { type: 'close' };

/** One reply sent: its conversation, when (monotonic ms / wall ms), its HTTP status (0: no answer), its marker. */
export interface GeneratorSend {
  conversation: string;
  at: number;
  wallAt: number;
  status: number;
  marker: string | null;
}

export interface GeneratorReport {
  type: 'done';
  id: number;
  planned: number;
  sends: GeneratorSend[];
  sendLatenessP99Ms: number;
  sendLatenessMaxMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export type GeneratorMessage = { type: 'ready' } | GeneratorReport | { type: 'error'; message: string };

const LOOP_RESOLUTION_MS = 5;

/**
 * Watches this process's event loop until `stop()`: the p99 and the max of how late its timer ran (ms, the sampling
 * period itself taken off: monitorEventLoopDelay records whole intervals).
 */
export function watchEventLoop(): { stop(): { p99Ms: number; maxMs: number } } {
  const histogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      if (histogram.count === 0) return { p99Ms: 0, maxMs: 0 };
      const late = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
      return { p99Ms: late(histogram.percentile(99)), maxMs: late(histogram.max) };
    },
  };
}

/** Milliseconds on the system's monotonic clock (the same in every process). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

let agentInstance: Agent | undefined;
const agent = () =>
  (agentInstance ??= new Agent({ connections: null, keepAliveTimeout: 30_000, pipelining: 1 }));
const runId = randomBytes(3).toString('hex');
const known = new Map<string, GeneratorUser>();
let activityCounter = 0;
let markerCounter = 0;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function userActivity(user: GeneratorUser, serviceUrl: string, botAppId: string, text: string): string {
  activityCounter += 1;
  const now = new Date().toISOString();
  return JSON.stringify({
    type: 'message',
    id: `bench-${runId}-${activityCounter}`,
    timestamp: now,
    localTimestamp: now,
    channelId: 'msteams',
    serviceUrl,
    from: { id: user.id, name: user.name, aadObjectId: user.aadObjectId },
    recipient: { id: `28:${botAppId}`, name: 'TicketZero' },
    conversation: { id: user.conversationId, conversationType: 'personal', tenantId: user.tenantId },
    channelData: { tenant: { id: user.tenantId } },
    locale: 'en-US',
    text,
    textFormat: 'plain',
    attachments: [],
  });
}

async function run(command: Extract<GeneratorCommand, { type: 'run' }>): Promise<GeneratorReport> {
  const users = command.userIds.map((id) => {
    const user = known.get(id);
    if (!user) throw new Error(`unknown user ${id}`);
    return user;
  });
  if (users.length === 0) throw new Error('no users to send as');
  const total = Math.round(command.rate * command.seconds);
  const sends: GeneratorSend[] = [];
  const lateness: number[] = [];
  const inFlight: Promise<void>[] = [];
  const loop = watchEventLoop();
  const start = monotonicMs();
  let sent = 0;
  while (sent < total) {
    const now = monotonicMs();
    const due = Math.min(total, Math.floor(((now - start) * command.rate) / 1000) + 1);
    while (sent < due) {
      const user = users[sent % users.length]!;
      const marker = command.markers ? turnMarker((markerCounter += 1)) : null;
      const text = `It still does not work after the restart, the window stays blank (${marker ?? sent}).`;
      const body = userActivity(user, command.serviceUrl, command.botAppId, text);
      const at = monotonicMs();
      lateness.push(Math.max(0, at - (start + (sent * 1000) / command.rate)));
      const record: GeneratorSend = {
        conversation: user.conversationId,
        at,
        wallAt: Date.now(),
        status: 0,
        marker,
      };
      sends.push(record);
      sent += 1;
      inFlight.push(
        request(command.endpoint, {
          method: 'POST',
          dispatcher: agent(),
          headers: {
            'content-type': 'application/json',
            ...(command.authorization ? { authorization: command.authorization } : {}),
          },
          body,
        })
          .then(async (response) => {
            await response.body.dump();
            record.status = response.statusCode;
          })
          .catch(() => {
            record.status = 0;
          }),
      );
    }
    await sleep(1);
  }
  const loopDelay = loop.stop();
  await Promise.all(inFlight);
  return {
    type: 'done',
    id: command.id,
    planned: total,
    sends,
    sendLatenessP99Ms: percentile(lateness, 99),
    sendLatenessMaxMs: lateness.length ? Math.max(...lateness) : Number.NaN,
    loopDelayP99Ms: loopDelay.p99Ms,
    loopDelayMaxMs: loopDelay.maxMs,
  };
}

function reply(message: GeneratorMessage): void {
  process.send?.(message);
}

/** The argument `run-bench.ts` forks this module with (importing it for its types and helpers starts nothing). */
export const GENERATOR_FLAG = '--bench-load-generator';

if (process.argv.includes(GENERATOR_FLAG) && process.send) {
  // One command at a time, in order: the parent waits for each run's report before the next.
  let queue = Promise.resolve();
  process.on('message', (command: GeneratorCommand) => {
    queue = queue.then(async () => {
      try {
        if (command.type === 'users') {
          for (const user of command.users) known.set(user.id, user);
        } else if (command.type === 'run') {
          reply(await run(command));
        } else {
          await agentInstance?.close();
          process.disconnect();
        }
      } catch (error) {
        reply({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      }
    });
  });
  reply({ type: 'ready' });
}
