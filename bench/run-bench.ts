/**
 * `npm run bench` — what TicketZero adds around the model's answer, side by side with the floor, in one run.
 *
 *   npm run bench                       # full run (several minutes)
 *   npm run bench -- --quick --json     # under a minute; one JSON object on the last line of stdout
 *   npm run bench -- --store postgres   # DATABASE_URL (or TICKETZERO_TEST_DATABASE_URL) names the database;
 *                                       # the run works in a schema of its own (DATABASE_SCHEMA), dropped after
 *   options: --model-delay-ms 300 (the model's fixed answer time, subtracted), --no-auth (unsigned activities)
 *
 * Everything is real HTTP on loopback. This process is the load generator and hosts the Atera and Graph sandboxes,
 * a lean recording connector (bench-connector.ts) and a fixed-delay model (bench-model.ts); TicketZero
 * (`src/main.ts`, the production entry) and the echo floor (`createEchoBot`) each run in a process of their own, so
 * a bot never measures itself and both get the same treatment. User replies arrive open-loop: at a fixed rate,
 * whatever the bot's speed. A turn is timed from the moment the generator POSTs the activity to /api/messages to
 * the moment the answer reaches the connector, minus the model's fixed delay (TicketZero) or nothing (echo).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createConversationStoreFromConfig } from '../src/adapters/store/create-store.js';
import type { ConversationRecord, ConversationStore } from '../src/ports/conversation-store.js';
import { silentLog } from '../src/ports/log.js';
import {
  ateraSandboxEnv,
  CONTOSO_BOT,
  CONTOSO_TENANT,
  SANDBOX_ATERA_KEY,
  startLocalStack,
  TEAMS_USERS,
  type LocalStack,
} from '../src/sandboxes/local-stack.js';
import { startAteraSandbox, type AteraSandbox } from '../src/sandboxes/atera/atera-sandbox.js';
import { makeEndedRecord } from '../test/contract/fixtures.js';
import { startBenchConnector, type ArrivedActivity, type BenchConnector } from './bench-connector.js';
import { startBenchModel, type BenchModel } from './bench-model.js';
import {
  geometricLevels,
  ratio,
  reportJson,
  reportTable,
  round,
  stepUp,
  stepVerdict,
  lagReason,
  pairAnswers,
  matchDeliveries,
  maxInWindow,
  percentile,
  type StepLag,
  summarise,
  finiteOrNull,
  type BenchReport,
  type LatencySummary,
} from './bench-stats.js';
import { measureStoreWriteCost } from './store-write-cost.js';
import {
  GENERATOR_FLAG,
  monotonicMs,
  watchEventLoop,
  type GeneratorCommand,
  type GeneratorMessage,
  type GeneratorReport,
  type GeneratorUser,
} from './load-generator.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const P99_LIMIT_MS = 50;
const WEBHOOK_SECRET = 'bench-webhook-secret-0001';

interface Plan {
  quick: boolean;
  /** Seconds each load step runs. */
  stepSeconds: number;
  /** Seconds of the 100-conversation overhead measure. */
  overheadSeconds: number;
  /** Each of the 100 conversations replies every … s in the overhead measure. */
  overheadPeriodS: number;
  /** Live conversations a step may use (seeded). */
  maxConversations: number;
  conversationLevels: number[];
  /** Conversations reply every … s while stepping up conversations. */
  conversationPeriodS: number;
  rateLevels: number[];
  echoRateLevels: number[];
  /** Conversations reply every … s while stepping up the rate (pool = rate × period). */
  ratePeriodS: number;
  historyTickets: number;
  storeTurns: number;
  /** The budget scenario: live conversations, each replying once a minute, for … s. */
  budgetConversations: number;
  budgetSeconds: number;
  /** The longest it waits, after the load, for every turn to reach Atera. */
  budgetDrainCapSeconds: number;
}

function planFor(quick: boolean): Plan {
  return quick
    ? {
        quick,
        stepSeconds: 2,
        overheadSeconds: 3,
        overheadPeriodS: 2,
        maxConversations: 1000,
        conversationLevels: [250, 1000],
        conversationPeriodS: 5,
        rateLevels: [100, 400],
        echoRateLevels: [100, 400],
        ratePeriodS: 2,
        historyTickets: 10_000,
        storeTurns: 200,
        budgetConversations: 200,
        budgetSeconds: 60,
        budgetDrainCapSeconds: 120,
      }
    : {
        quick,
        stepSeconds: 10,
        overheadSeconds: 20,
        overheadPeriodS: 2,
        maxConversations: 4000,
        conversationLevels: [250, 500, 1000, 2000, 4000],
        conversationPeriodS: 5,
        rateLevels: geometricLevels(100, 1.5, 2000),
        echoRateLevels: geometricLevels(100, 1.5, 4000),
        ratePeriodS: 2,
        historyTickets: 10_000,
        storeTurns: 300,
        budgetConversations: 1000,
        budgetSeconds: 300,
        budgetDrainCapSeconds: 600,
      };
}

// --------------------------------------------------------------------------------------------------------------
// Processes

interface BotProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
  /** SIGKILL. */
  kill(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, NODE_ENV: 'production', ...extra };
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function waitHealthy(url: string, child: ChildProcess, what: string, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `${what} exited with ${child.exitCode}:\n${readFileSync(logFile, 'utf8').slice(-3000)}`,
      );
    }
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${what} did not become healthy within 60 s`);
}

async function startTicketZero(
  env: Record<string, string>,
  logFile: string,
  cpuProf: boolean,
): Promise<BotProcess> {
  const port = await freePort();
  const fd = openSync(logFile, 'a');
  const args = [
    '--import',
    'tsx',
    ...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(ROOT, 'bench', 'profiles')] : []),
    'src/main.ts',
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: childEnv({ ...env, PORT: String(port) }),
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url, child, 'TicketZero', logFile);
  // A profiled bot must exit by itself (the profile is written at exit): give its stop time to drain the outbox.
  return {
    url,
    pid: child.pid!,
    stop: () => stopProcess(child, cpuProf ? 300_000 : 3_000),
    kill: () => stopProcess(child, 0),
  };
}

/**
 * SIGTERM, then SIGKILL after `graceMs`: TicketZero's graceful stop drains the comment outbox, which after a load
 * step holds minutes of comments at Atera's rate limit. The store is crash-safe, so a kill loses nothing
 * acknowledged, and the next phase opens it as a restart would.
 */
async function stopProcess(child: ChildProcess, graceMs = 3_000): Promise<void> {
  child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  const exited = waitForExit(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

async function startEcho(bot: Record<string, unknown>, logFile: string): Promise<BotProcess> {
  const port = await freePort();
  const fd = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/echo-main.ts', JSON.stringify(bot), String(port)],
    {
      cwd: ROOT,
      env: childEnv({}),
      stdio: ['ignore', fd, fd],
    },
  );
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  // The echo bot has no /healthz: wait until it answers at all (405/404 on GET).
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`echo bot exited:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    try {
      await fetch(`${url}/api/messages`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('echo bot did not start');
      await sleep(100);
    }
  }
  return { url, pid: child.pid!, stop: () => stopProcess(child), kill: () => stopProcess(child, 0) };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

// --------------------------------------------------------------------------------------------------------------
// Open-loop load: the generator (load-generator.ts) sends from a process of its own; this process records answers.

interface BenchUser extends GeneratorUser {
  /** The Atera ticket of the user's live conversation. */
  ticketId: number;
}

interface LoadTarget {
  endpoint: string;
  authorization: string | undefined;
  /** Subtracted from every measured turn. */
  subtractMs: number;
}

interface LoadGenerator {
  /** Runs one open-loop step; resolves with the generator's report (every send, its own lag). */
  run(
    target: LoadTarget,
    users: readonly BenchUser[],
    rate: number,
    seconds: number,
    markers: boolean,
  ): Promise<GeneratorReport>;
  close(): Promise<void>;
}

async function startLoadGenerator(connector: BenchConnector, botAppId: string): Promise<LoadGenerator> {
  const child = fork(fileURLToPath(new URL('./load-generator.ts', import.meta.url)), [GENERATOR_FLAG], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let waiting: { resolve: (m: GeneratorMessage) => void; reject: (e: Error) => void } | null = null;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (message: GeneratorMessage) => {
    const w = waiting;
    waiting = null;
    w?.resolve(message);
  });
  child.once('exit', (code) => {
    const w = waiting;
    waiting = null;
    w?.reject(new Error(`the load generator exited (${code})`));
  });
  const next = () =>
    new Promise<GeneratorMessage>((resolve, reject) => {
      waiting = { resolve, reject };
    });
  const ready = await next();
  if (ready.type !== 'ready') throw new Error('the load generator did not start');
  const known = new Set<string>();
  return {
    async run(target, users, rate, seconds, markers) {
      const fresh = users.filter((u) => !known.has(u.id));
      if (fresh.length > 0) {
        child.send({ type: 'users', users: fresh } satisfies GeneratorCommand);
        for (const u of fresh) known.add(u.id);
      }
      const answer = next();
      child.send({
        type: 'run',
        id: 0,
        endpoint: target.endpoint,
        authorization: target.authorization,
        serviceUrl: connector.serviceUrl,
        botAppId,
        userIds: users.map((u) => u.id),
        rate,
        seconds,
        markers,
      } satisfies GeneratorCommand);
      const message = await answer;
      if (message.type === 'error') throw new Error(`load generator: ${message.message}`);
      if (message.type !== 'done') throw new Error(`load generator: unexpected ${message.type}`);
      return message;
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.send({ type: 'close' } satisfies GeneratorCommand);
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

let generator: LoadGenerator | null = null;
/** performance.now() in this process + this = the system's monotonic clock, on which the generator reports. */
const monotonicOffset = monotonicMs() - performance.now();

type LoopResult = LatencySummary & {
  rate: number;
  conversations: number;
  lag: StepLag;
  /** Why the step cannot be counted (the bench lagged), or null. */
  invalid: string | null;
  /** The generator's report, for the budget scenario (not printed). */
  report: GeneratorReport;
};

/**
 * Sends `rate` user replies per second for `seconds`, round-robin over `users` (from the generator's process); times
 * each until answered at the connector, and reports the generator's and this process's lag beside the latencies.
 */
async function openLoop(
  target: LoadTarget,
  connector: BenchConnector,
  users: readonly BenchUser[],
  rate: number,
  seconds: number,
  markers = false,
): Promise<LoopResult> {
  if (!generator) throw new Error('the load generator is not running');
  const answers: { conversation: string; at: number }[] = [];
  connector.onActivity = (activity: ArrivedActivity) => {
    if (activity.type !== 'message' || (activity.streamType !== null && activity.streamType !== 'final'))
      return;
    answers.push({ conversation: activity.conversationId, at: activity.at + monotonicOffset });
  };
  const recorder = watchEventLoop();
  const report = await generator.run(target, users, rate, seconds, markers);
  const accepted = report.sends.filter((s) => s.status >= 200 && s.status < 300);
  // Answers still on their way after every request returned (a bot may answer after its HTTP response).
  const deadline = performance.now() + 5000 + target.subtractMs;
  while (answers.length < accepted.length && performance.now() < deadline) await sleep(20);
  const recorderLoop = recorder.stop();
  connector.onActivity = null;
  const { latencies, unanswered } = pairAnswers(accepted, answers, target.subtractMs);
  const lag: StepLag = {
    planned: report.planned,
    sent: report.sends.length,
    sendLatenessP99Ms: round(report.sendLatenessP99Ms),
    sendLatenessMaxMs: round(report.sendLatenessMaxMs),
    generatorLoopP99Ms: round(report.loopDelayP99Ms),
    recorderLoopP99Ms: round(recorderLoop.p99Ms),
  };
  const result = {
    ...summarise(latencies, report.sends.length - accepted.length + unanswered),
    rate,
    conversations: users.length,
    lag,
    invalid: lagReason(lag),
    report,
  };
  // The per-send report stays out of the printed details.
  Object.defineProperty(result, 'report', { enumerable: false });
  return result;
}

/**
 * A measure the bench must not spoil: run again (up to 3 tries) while the generator or the recorder lagged; the last
 * try is kept, its `invalid` saying why it still cannot be trusted.
 */
async function trusted(what: string, log: (line: string) => void, measure: () => Promise<LoopResult>) {
  let result = await measure();
  for (let attempt = 2; attempt <= 3 && result.invalid; attempt += 1) {
    log(`  ${what}: ${result.invalid} — measuring again (attempt ${attempt})`);
    await sleep(500);
    result = await measure();
  }
  if (result.invalid) log(`  ${what}: still ${result.invalid} — reported, marked invalid in the details`);
  return result;
}

/** What a step's progress line adds: its attempt, and why it cannot be counted when the bench lagged. */
function stepNote(result: LoopResult, attempt: number): string {
  const lag = `; generator sends p99 late ${result.lag.sendLatenessP99Ms} ms, loops p99 ${result.lag.generatorLoopP99Ms}/${result.lag.recorderLoopP99Ms} ms`;
  return `${attempt > 1 ? ` (attempt ${attempt})` : ''}${lag}${result.invalid ? ` — INVALID: ${result.invalid}` : ''}`;
}

// --------------------------------------------------------------------------------------------------------------
// Seeding the store (the bot is stopped): live conversations cloned from one made by the real intake path, and
// ended tickets as history.

interface StoreSettings {
  kind: 'lowdb' | 'postgres';
  dataDir: string;
  databaseUrl?: string;
  databaseSchema?: string;
}

async function withStore<T>(
  settings: StoreSettings,
  use: (store: ConversationStore) => Promise<T>,
): Promise<T> {
  const store = await createConversationStoreFromConfig(
    {
      kind: settings.kind,
      dataDir: settings.dataDir,
      ...(settings.databaseUrl ? { databaseUrl: settings.databaseUrl } : {}),
      ...(settings.databaseSchema ? { databaseSchema: settings.databaseSchema } : {}),
    },
    { log: silentLog },
  );
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

interface Template {
  record: ConversationRecord;
  chat: { reference: Record<string, unknown>; tenantId: string; userId: string };
}

async function readTemplate(settings: StoreSettings, userId: string): Promise<Template> {
  return withStore(settings, async (store) => {
    const record = (await store.findLiveByUser(userId))[0];
    const chat = await store.getValue<Template['chat']>('teams.user-chat', userId);
    if (!record || !chat) throw new Error('the template conversation was not stored');
    return { record, chat };
  });
}

async function seedLive(
  settings: StoreSettings,
  atera: AteraSandbox,
  template: Template,
  from: number,
  to: number,
): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  await withStore(settings, async (store) => {
    const now = new Date();
    const iso = now.toISOString();
    for (let start = from; start < to; start += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, to - start) }, async (_, k) => {
          const i = start + k;
          const ticket = atera.createTicket({
            title: template.record.ticket.title,
            description: template.record.ticket.description,
            endUserEmail: 'megan.bowen@contoso.example',
          });
          const ticketId = ticket.TicketID;
          const userId = `b0000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
          const user: BenchUser = {
            id: `29:bench-${i}`,
            aadObjectId: userId,
            name: `Bench User ${i}`,
            tenantId: CONTOSO_TENANT.tenantId,
            conversationId: `a:bench-${i}`,
            ticketId,
          };
          users.push(user);
          await store.claimTicket(ticketId, {
            by: 'bench',
            at: iso,
            decision: 'taken',
            ticketCreatedAt: iso,
          });
          const t = template.record;
          const record: ConversationRecord = {
            ...structuredClone(t),
            ticketId,
            ticket: { ...structuredClone(t.ticket), id: ticketId, number: String(ticketId) },
            user: { ...structuredClone(t.user!), id: userId, displayName: user.name },
            chatConversationId: user.conversationId,
            thread: null,
            createdAt: iso,
            startedAt: iso,
            deadlineAt: new Date(now.getTime() + 24 * 3600_000).toISOString(),
            updatedAt: iso,
          };
          await store.update(ticketId, () => ({ conversation: record, comments: [], result: undefined }));
          const reference = template.chat.reference as {
            conversation?: Record<string, unknown>;
            user?: Record<string, unknown>;
          };
          const chat = {
            ...template.chat,
            userId,
            reference: {
              ...reference,
              conversation: { ...reference.conversation, id: user.conversationId },
              user: { ...reference.user, id: user.id, aadObjectId: userId, name: user.name },
            },
          };
          await store.setValue('teams.user-chat', userId, chat);
          await store.setValue('teams.conversation', user.conversationId, chat);
        }),
      );
    }
  });
  return users.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

async function seedHistory(settings: StoreSettings, count: number): Promise<void> {
  await withStore(settings, async (store) => {
    const now = Date.now();
    for (let start = 0; start < count; start += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, count - start) }, async (_, k) => {
          const ticketId = 1_000_000 + start + k;
          const createdAt = new Date(now - ((ticketId % 60) + 1) * 86_400_000).toISOString();
          await store.update(ticketId, () => ({
            conversation: makeEndedRecord(ticketId, createdAt, { createdAt }),
            comments: [],
            result: undefined,
          }));
        }),
      );
    }
  });
}

// --------------------------------------------------------------------------------------------------------------
// Atera

function isPoll(r: { method: string; path: string }): boolean {
  return r.method === 'GET' && (r.path === '/tickets' || r.path === '/tickets/lastmodified');
}

/** Watches the Atera sandbox's request log while idle; bursts separated by quiet gaps are polls. */
async function ateraCallsPerIdlePoll(stack: LocalStack, seconds: number): Promise<number> {
  stack.atera.resetRequests();
  const bursts: number[] = [];
  let seen = 0;
  let lastChange = performance.now();
  let current = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const n = stack.atera.requests.length;
    if (n > seen) {
      current += n - seen;
      seen = n;
      lastChange = performance.now();
    } else if (current > 0 && performance.now() - lastChange > 300) {
      bursts.push(current);
      current = 0;
    }
    await sleep(10);
  }
  if (bursts.length === 0) return Number.NaN;
  return round(bursts.reduce((a, b) => a + b, 0) / bursts.length);
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * From a technician's reply written on the ticket in Atera to that reply in the user's chat (through the poll, or
 * at once after a webhook nudge when `webhookUrl`).
 */
async function ateraCommentToChat(
  stack: LocalStack,
  connector: BenchConnector,
  ticketId: number,
  webhookUrl?: string,
): Promise<number> {
  const text = `I reset your mailbox on the server (${ticketId}), please try again.`;
  let arrivedAt: number | null = null;
  connector.onActivity = (a) => {
    if (arrivedAt === null && a.type === 'message' && (a.text ?? '').includes(text)) arrivedAt = a.at;
  };
  const t0 = performance.now();
  stack.atera.addTechnicianReply(ticketId, { text });
  if (webhookUrl) {
    await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ TicketID: ticketId }),
    });
  }
  const arrived = await waitFor(() => arrivedAt !== null, 15_000);
  connector.onActivity = null;
  return arrived && arrivedAt !== null ? round((arrivedAt as number) - t0) : Number.NaN;
}

/** Atera calls a minute while nobody writes, counted over `seconds`. */
async function ateraCallsPerMinute(stack: LocalStack, seconds: number): Promise<number> {
  stack.atera.resetRequests();
  await sleep(seconds * 1000);
  return round((stack.atera.requests.length * 60) / seconds);
}

/** The tickets `ticketToFirstMessage` created, in order (their conversations then stay live). */
const firstMessageTickets: number[] = [];

/** From a ticket appearing in Atera (poll, or webhook when `webhookUrl`) to the first message at the connector. */
async function ticketToFirstMessage(
  stack: LocalStack,
  connector: BenchConnector,
  model: BenchModel,
  user: { email: string; first: string; last: string },
  webhookUrl?: string,
): Promise<number> {
  let firstAt: number | null = null;
  connector.onActivity = (a) => {
    if (firstAt === null && a.type === 'message') firstAt = a.at;
  };
  const t0 = performance.now();
  const ticket = stack.atera.createTicket({
    title: 'Outlook keeps asking for my password',
    description: 'Since this morning Outlook asks for my password every few minutes.',
    endUserEmail: user.email,
    endUserFirstName: user.first,
    endUserLastName: user.last,
  });
  firstMessageTickets.push(ticket.TicketID);
  if (webhookUrl) {
    await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ TicketID: ticket.TicketID }),
    });
  }
  const arrived = await waitFor(() => firstAt !== null, 30_000);
  connector.onActivity = null;
  if (!arrived || firstAt === null) return Number.NaN;
  // The model's fixed time counts only if it was asked for this ticket before the first message went out.
  const first = firstAt as number;
  const modelAsked = model.startedAt.some((at) => at >= t0 && at + model.delayMs <= first);
  return round(first - t0 - (modelAsked ? model.delayMs : 0));
}

// --------------------------------------------------------------------------------------------------------------
// The budget scenario: live conversations each replying about once a minute, an Atera account that refuses beyond
// its limit, every turn looked for in Atera's comments.

/** Atera's per-account limit the sandbox enforces in this scenario (429 + Retry-After beyond it). */
const ATERA_ACCOUNT_LIMIT = 700;
/** TicketZero's configured budget (ATERA_REQUESTS_PER_MINUTE, its default). */
const ATERA_BUDGET = 600;

interface BudgetResult {
  conversations: number;
  turns: number;
  accepted: number;
  callsPerMinuteMax: number;
  callsPerMinuteMean: number;
  refused429: number;
  lagP50S: number;
  lagP99S: number;
  lost: number;
  doubled: number;
  /** Turns not found when the drain ended, whose lag counts as (drain end − send): p99 is then a lower bound. */
  censored: number;
  drainEnded: 'all-delivered' | 'stalled' | 'cap';
  connectorCallsPerTurn: number;
  /** Atera requests by kind (method and path, ticket ids as :id), 429s included. */
  callsByKind: Record<string, number>;
  answer: LatencySummary;
  lag: StepLag;
  invalid: string | null;
}

/**
 * Notes when each comment first shows on the users' tickets in Atera (every `everyMs`; Atera keeps the caller's
 * timestamp on a comment, so its date says when the turn happened, not when it reached Atera). Comments are only
 * ever appended, so each scan reads what is new.
 */
function watchComments(
  atera: AteraSandbox,
  ticketIds: readonly number[],
  everyMs: number,
): { seen: { text: string; at: number }[]; scan(): void; stop(): void } {
  const read = new Map<number, number>();
  const seen: { text: string; at: number }[] = [];
  const scan = () => {
    const at = Date.now();
    for (const id of ticketIds) {
      const comments = atera.comments(id);
      for (let i = read.get(id) ?? 0; i < comments.length; i += 1) {
        seen.push({ text: String(comments[i]!['Comment'] ?? ''), at });
      }
      read.set(id, comments.length);
    }
  };
  const timer = setInterval(scan, everyMs);
  return { seen, scan, stop: () => clearInterval(timer) };
}

async function budgetScenario(input: {
  plan: Plan;
  storeSettings: StoreSettings;
  template: Template;
  env: Record<string, string>;
  connector: BenchConnector;
  authorization: string | undefined;
  modelDelayMs: number;
  work: string;
  logFile: string;
  log: (line: string) => void;
}): Promise<BudgetResult> {
  const { plan, connector, log } = input;
  // A fresh Atera account and a fresh store: no backlog from the earlier phases, no other tickets to read.
  const atera = await startAteraSandbox({
    apiKey: SANDBOX_ATERA_KEY,
    seed: false,
    requestsPerMinute: ATERA_ACCOUNT_LIMIT,
  });
  const settings: StoreSettings = {
    ...input.storeSettings,
    dataDir: join(input.work, 'budget-data'),
    ...(input.storeSettings.databaseSchema
      ? { databaseSchema: `${input.storeSettings.databaseSchema}_budget` }
      : {}),
  };
  let bot: BotProcess | null = null;
  let watcher: ReturnType<typeof watchComments> | null = null;
  try {
    const users = await seedLive(settings, atera, input.template, 0, plan.budgetConversations);
    log(`budget scenario: ${users.length} live conversations seeded in a fresh store and Atera account`);
    bot = await startTicketZero(
      {
        ...input.env,
        ...ateraSandboxEnv(atera),
        ATERA_POLL_SECONDS: '15',
        ATERA_REQUESTS_PER_MINUTE: String(ATERA_BUDGET),
        DATA_DIR: settings.dataDir,
        ...(settings.databaseSchema ? { DATABASE_SCHEMA: settings.databaseSchema } : {}),
      },
      input.logFile,
      false,
    );
    await sleep(2000);
    // Atera's requests from here on, by the time each arrived at the sandbox.
    const seen = atera.requests.length;
    const connectorBefore = connector.calls;
    const startedAt = Date.now();
    watcher = watchComments(
      atera,
      users.map((u) => u.ticketId),
      1000,
    );
    const rate = users.length / 60;
    log(
      `budget scenario: ${users.length} conversations, each replying once a minute (${round(rate)}/s) for ${plan.budgetSeconds} s; Atera refuses beyond ${ATERA_ACCOUNT_LIMIT}/min, budget ${ATERA_BUDGET}/min`,
    );
    const load = await openLoop(
      {
        endpoint: `${bot.url}/api/messages`,
        authorization: input.authorization,
        subtractMs: input.modelDelayMs,
      },
      connector,
      users,
      rate,
      plan.budgetSeconds,
      true,
    );
    const accepted = load.report.sends.filter((s) => s.status >= 200 && s.status < 300 && s.marker !== null);
    const sent = accepted.map((s) => ({ marker: s.marker!, at: s.wallAt }));
    log(
      `budget scenario: ${load.report.sends.length} turns sent, ${accepted.length} accepted; answers p50 ${load.p50} p99 ${load.p99} ms; waiting for Atera …`,
    );
    // Every accepted turn must reach Atera; wait while comments keep arriving.
    let match = matchDeliveries(sent, watcher.seen);
    let lastProgress = Date.now();
    let delivered = match.delivered;
    let drainEnded: BudgetResult['drainEnded'] = 'all-delivered';
    const cap = Date.now() + plan.budgetDrainCapSeconds * 1000;
    while (match.lost.length > 0) {
      if (Date.now() > cap) {
        drainEnded = 'cap';
        break;
      }
      // Longer than any Retry-After the sandbox gives (60 s) and the outbox's backoff between them.
      if (Date.now() - lastProgress > 75_000) {
        drainEnded = 'stalled';
        break;
      }
      await sleep(2000);
      match = matchDeliveries(sent, watcher.seen);
      if (match.delivered > delivered) {
        delivered = match.delivered;
        lastProgress = Date.now();
      }
    }
    const endedAt = Date.now();
    watcher.stop();
    watcher.scan();
    match = matchDeliveries(sent, watcher.seen);
    const during = atera.requests.slice(seen);
    const times = during.map((r) => r.at);
    const callsByKind: Record<string, number> = {};
    for (const r of during) {
      const kind = `${r.method} ${r.path.replace(/\/\d+/g, '/:id')}`;
      callsByKind[kind] = (callsByKind[kind] ?? 0) + 1;
    }
    const connectorCalls = connector.calls - connectorBefore;
    const missing = new Set(match.lost);
    const lags = [...match.lagsMs, ...sent.filter((s) => missing.has(s.marker)).map((s) => endedAt - s.at)];
    const minutes = Math.max(1 / 60, (endedAt - startedAt) / 60_000);
    const result: BudgetResult = {
      conversations: users.length,
      turns: load.report.sends.length,
      accepted: accepted.length,
      callsPerMinuteMax: maxInWindow(times, 60_000),
      callsPerMinuteMean: round(times.length / minutes),
      refused429: atera.requests.filter((r) => r.status === 429).length,
      lagP50S: round(percentile(lags, 50) / 1000),
      lagP99S: round(percentile(lags, 99) / 1000),
      lost: match.lost.length,
      doubled: match.doubled.length,
      censored: missing.size,
      drainEnded,
      connectorCallsPerTurn: round(connectorCalls / Math.max(1, accepted.length)),
      callsByKind,
      answer: { count: load.count, errors: load.errors, p50: load.p50, p99: load.p99, max: load.max },
      lag: load.lag,
      // Seconds-scale measures: the generator only needs to keep its schedule to within a second.
      invalid: lagReason(load.lag, { p99Ms: 1000 }),
    };
    log(
      `budget scenario: Atera calls in any minute ${result.callsPerMinuteMax} (mean ${result.callsPerMinuteMean}/min, ${result.refused429} refused 429), outbox lag p50 ${result.lagP50S} s p99 ${result.lagP99S} s, lost ${result.lost}, doubled ${result.doubled} (drain: ${drainEnded} after ${round((endedAt - startedAt) / 1000, 0)} s), connector calls per turn ${result.connectorCallsPerTurn}`,
    );
    return result;
  } finally {
    watcher?.stop();
    await bot?.kill();
    await atera.close();
    if (settings.databaseUrl && settings.databaseSchema)
      await dropSchema(settings.databaseUrl, settings.databaseSchema);
  }
}

// --------------------------------------------------------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const benchStart = performance.now();

function say(json: boolean, line: string): void {
  // With --json the table goes to stderr, so the JSON object is the last line of stdout.
  (json ? process.stderr : process.stdout).write(`${line}\n`);
}

/** A progress line, with the seconds since the run started. */
function progress(json: boolean, line: string): void {
  say(json, `[${((performance.now() - benchStart) / 1000).toFixed(1).padStart(5)} s] ${line}`);
}

export async function runBench(options: {
  quick: boolean;
  json: boolean;
  store: 'lowdb' | 'postgres';
  databaseUrl?: string;
  /** PostgreSQL: the schema this run works in (created by the store, dropped at the end). */
  databaseSchema?: string;
  modelDelayMs: number;
  auth: boolean;
  cpuProf: boolean;
  /** The budget scenario's live conversations instead of the plan's. */
  budgetConversations?: number;
  /** Only the budget scenario (after the first intake, which gives the live conversations their template). */
  budgetOnly?: (budget: BudgetResult) => void;
}): Promise<BenchReport | null> {
  const plan = {
    ...planFor(options.quick),
    ...(options.budgetConversations ? { budgetConversations: options.budgetConversations } : {}),
  };
  const log = (line: string) => progress(options.json, line);
  const work = mkdtempSync(join(tmpdir(), 'tz-bench-'));
  const dataDir = join(work, 'data');
  const logFile = join(work, 'ticketzero.log');
  const details: Record<string, unknown> = { work };
  const connector = await startBenchConnector(
    options.auth ? { appId: CONTOSO_BOT.appId, appPassword: CONTOSO_BOT.password } : {},
  );
  const model = await startBenchModel({ delayMs: options.modelDelayMs });
  generator = await startLoadGenerator(connector, CONTOSO_BOT.appId);
  const stack = await startLocalStack({
    dataDir: join(work, 'stack'),
    connector: { serviceUrl: connector.serviceUrl },
  });
  const storeSettings: StoreSettings = {
    kind: options.store,
    dataDir,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.databaseSchema ? { databaseSchema: options.databaseSchema } : {}),
  };
  const botSettings = {
    appId: options.auth ? CONTOSO_BOT.appId : undefined,
    appPassword: options.auth ? CONTOSO_BOT.password : undefined,
    appTenantId: options.auth ? CONTOSO_TENANT.tenantId : undefined,
    appType: 'SingleTenant',
    teamsAppId: undefined,
    serviceUrl: connector.serviceUrl,
    openIdMetadataUrl: options.auth ? connector.openIdMetadataUrl : undefined,
    tokenIssuer: options.auth ? connector.issuer : undefined,
    loginUrl: options.auth ? connector.loginUrl(CONTOSO_TENANT.tenantId) : undefined,
  };
  const env: Record<string, string> = {
    ...stack.env,
    LOCAL_AI_BASE_URL: model.baseUrl,
    BOT_SERVICE_URL: connector.serviceUrl,
    ...(options.auth
      ? {
          MICROSOFT_APP_ID: CONTOSO_BOT.appId,
          MICROSOFT_APP_PASSWORD: CONTOSO_BOT.password,
          MICROSOFT_APP_TENANT_ID: CONTOSO_TENANT.tenantId,
          BOT_OPENID_METADATA_URL: connector.openIdMetadataUrl,
          BOT_TOKEN_ISSUER: connector.issuer,
          BOT_LOGIN_URL: connector.loginUrl(CONTOSO_TENANT.tenantId),
        }
      : {}),
    DATA_DIR: dataDir,
    STORE: options.store,
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...(options.databaseSchema ? { DATABASE_SCHEMA: options.databaseSchema } : {}),
    ATERA_POLL_SECONDS: '1',
    ATERA_WEBHOOK_SECRET: WEBHOOK_SECRET,
    CONVERSATION_MAX_ROUNDS: '100',
    CONVERSATION_MAX_MINUTES: '1440',
    USER_MESSAGES_PER_MINUTE: '1000',
    LOG_LEVEL: 'info',
  };

  /** The budget scenario (a fresh store and Atera account) with this run's settings. */
  const runBudgetScenario = (template: Template) =>
    budgetScenario({
      plan,
      storeSettings,
      template,
      env,
      connector,
      authorization: connector.channelAuthorization(),
      modelDelayMs: options.modelDelayMs,
      work,
      logFile,
      log,
    });
  let bot: BotProcess | null = null;
  let echo: BotProcess | null = null;
  try {
    echo = await startEcho(botSettings, join(work, 'echo.log'));
    const echoTarget: LoadTarget = {
      endpoint: `${echo.url}/api/messages`,
      authorization: connector.channelAuthorization(),
      subtractMs: 0,
    };

    // 1. A fresh bot: ticket → first message (poll, then webhook), Atera calls per idle poll.
    log('starting TicketZero …');
    bot = await startTicketZero(env, logFile, false);
    await sleep(plan.quick ? 300 : 1500);
    const megan = TEAMS_USERS.megan;
    const pollMs = await ticketToFirstMessage(stack, connector, model, {
      email: megan.email,
      first: 'Megan',
      last: 'Bowen',
    });
    const webhookMs = await ticketToFirstMessage(
      stack,
      connector,
      model,
      { email: TEAMS_USERS.lukas.email, first: 'Lukas', last: 'Schmidt' },
      `${bot.url}/api/atera/webhook?secret=${WEBHOOK_SECRET}`,
    );
    log(`ticket → first message: poll ${pollMs} ms, webhook ${webhookMs} ms`);
    if (options.budgetOnly) {
      await bot.stop();
      bot = null;
      options.budgetOnly(await runBudgetScenario(await readTemplate(storeSettings, megan.aadObjectId)));
      return null;
    }
    await sleep(plan.quick ? 800 : 1500); // the intakes' comments reach Atera
    const idlePoll = await ateraCallsPerIdlePoll(stack, plan.quick ? 2.5 : 6.5);
    log(`Atera calls per idle poll: ${idlePoll}`);
    // Two-way: a technician's reply in Atera reaches each user's chat (Megan's through the poll, Lukas's by webhook).
    // Lukas's ticket (Megan's conversation is the template of the live ones below and must stay untouched).
    const lukasTicket = firstMessageTickets[1];
    const commentPollMs =
      lukasTicket === undefined ? Number.NaN : await ateraCommentToChat(stack, connector, lukasTicket);
    const commentWebhookMs =
      lukasTicket === undefined
        ? Number.NaN
        : await ateraCommentToChat(
            stack,
            connector,
            lukasTicket,
            `${bot.url}/api/atera/webhook?secret=${WEBHOOK_SECRET}`,
          );
    log(`Atera comment → chat: poll ${commentPollMs} ms, webhook ${commentWebhookMs} ms`);
    const rssIdle = rssMb(bot.pid);
    await bot.stop();
    bot = null;

    // 2. 100 live conversations (cloned from Megan's, made by the real intake path), 100 stored tickets.
    const template = await readTemplate(storeSettings, megan.aadObjectId);
    const live100 = await seedLive(storeSettings, stack.atera, template, 0, 98);
    log('100 live conversations seeded');
    bot = await startTicketZero(env, logFile, false);
    await sleep(plan.quick ? 1500 : 2500); // the first poll after a restart reads the tickets created while it was stopped
    const idleCallsPerMinute = await ateraCallsPerMinute(stack, plan.quick ? 3 : 10);
    log(
      `Atera calls per minute, ${live100.length + 2} live conversations, nobody writing: ${idleCallsPerMinute}`,
    );
    const target: LoadTarget = {
      endpoint: `${bot.url}/api/messages`,
      authorization: connector.channelAuthorization(),
      subtractMs: options.modelDelayMs,
    };
    const overheadRate = live100.length / plan.overheadPeriodS;
    // Warm up both (JIT, connections, tokens), then measure each the same way.
    await openLoop(target, connector, live100, overheadRate, 1);
    await openLoop(echoTarget, connector, live100, overheadRate, 1);
    await sleep(1000);
    stack.atera.resetRequests();
    const tz100 = await trusted('TicketZero, 100 conversations', log, () =>
      openLoop(target, connector, live100, overheadRate, plan.overheadSeconds),
    );
    const echo100 = await trusted('echo, 100 conversations', log, () =>
      openLoop(echoTarget, connector, live100, overheadRate, plan.overheadSeconds),
    );
    log(
      `100 conversations, ${overheadRate}/s: TicketZero p50 ${tz100.p50} p99 ${tz100.p99} ms; echo p50 ${echo100.p50} p99 ${echo100.p99} ms`,
    );
    // Atera calls per turn: what the turns caused once the outbox delivered (polls excluded).
    await sleep(3000);
    const turnCalls = stack.atera.requests.filter((r) => !isPoll(r)).length;
    const ateraPerTurn = round(turnCalls / Math.max(1, tz100.count + tz100.errors));
    await sleep(1000);
    const rss100 = rssMb(bot.pid);
    await bot.stop();
    bot = null;

    // 3. The same with 10,000 stored tickets (history of ended conversations). The quick run takes the time
    // ratio from the store-level measure instead of restarting the bot once more.
    log('seeding the history …');
    await seedHistory(storeSettings, plan.historyTickets - live100.length - 2);
    log('history seeded');
    let tz10k: Awaited<ReturnType<typeof openLoop>> | null = null;
    if (!plan.quick) {
      bot = await startTicketZero(env, logFile, false);
      await sleep(2000);
      const target10k = { ...target, endpoint: `${bot.url}/api/messages` };
      await openLoop(target10k, connector, live100, overheadRate, 1);
      tz10k = await trusted('TicketZero, 10,000 stored tickets', log, () =>
        openLoop(target10k, connector, live100, overheadRate, plan.overheadSeconds),
      );
      log(`10,000 stored tickets: TicketZero p50 ${tz10k.p50} p99 ${tz10k.p99} ms`);
      await bot.stop();
      bot = null;
    }
    const bytes100 = await measureStoreWriteCost({
      store: options.store,
      storedTickets: 100,
      sequentialTurns: plan.storeTurns,
      concurrentTurns: plan.storeTurns,
      ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    });
    const bytes10k = await measureStoreWriteCost({
      store: options.store,
      storedTickets: 10_000,
      sequentialTurns: plan.storeTurns,
      concurrentTurns: plan.storeTurns,
      ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    });
    log(`store write cost: ${bytes100.msPerTurn} ms/turn at 100, ${bytes10k.msPerTurn} at 10,000`);
    const timeRatio = tz10k ? ratio(tz10k.p50, tz100.p50) : ratio(bytes10k.msPerTurn, bytes100.msPerTurn);
    const bytesRatio = ratio(bytes10k.bytesPerTurn, bytes100.bytesPerTurn);

    // 4. More live conversations; step up.
    const many = [
      ...live100,
      ...(await seedLive(storeSettings, stack.atera, template, 98, plan.maxConversations)),
    ];
    log(`${many.length} live conversations seeded`);
    bot = await startTicketZero(env, logFile, options.cpuProf);
    await sleep(plan.quick ? 1500 : 3000);
    const targetMany = { ...target, endpoint: `${bot.url}/api/messages` };
    // Same warm-up as before the 100-conversation figure, then RSS; every live conversation is in the store.
    await openLoop(targetMany, connector, many.slice(0, 100), overheadRate, 1);
    await openLoop(targetMany, connector, many.slice(0, 100), overheadRate, plan.overheadSeconds);
    await sleep(1000);
    const rssMany = rssMb(bot.pid);

    const conversations = await stepUp(plan.conversationLevels, async (n, attempt) => {
      const result = await openLoop(
        targetMany,
        connector,
        many.slice(0, n),
        n / plan.conversationPeriodS,
        plan.stepSeconds,
      );
      log(
        `  ${n} conversations (${n / plan.conversationPeriodS}/s): p50 ${result.p50} p99 ${result.p99} ms, errors ${result.errors}${stepNote(result, attempt)}`,
      );
      await sleep(500);
      return { verdict: stepVerdict(result, result.lag, P99_LIMIT_MS), detail: result };
    });
    const rates = await stepUp(
      plan.rateLevels.filter((r) => r * plan.ratePeriodS <= many.length),
      async (rate, attempt) => {
        const pool = many.slice(0, Math.max(100, rate * plan.ratePeriodS));
        const result = await openLoop(targetMany, connector, pool, rate, plan.stepSeconds);
        log(
          `  TicketZero ${rate}/s over ${pool.length} conversations: p50 ${result.p50} p99 ${result.p99} ms, errors ${result.errors}${stepNote(result, attempt)}`,
        );
        await sleep(500);
        return { verdict: stepVerdict(result, result.lag, P99_LIMIT_MS), detail: result };
      },
    );
    // Nothing after this needs the bot's store: stop it at once instead of letting it drain the outbox (a profiled
    // bot must exit by itself to write its profile).
    if (options.cpuProf) await bot.stop();
    else await bot.kill();
    bot = null;
    const echoRates = await stepUp(plan.echoRateLevels, async (rate, attempt) => {
      const pool = many.slice(0, Math.max(100, Math.min(many.length, rate * plan.ratePeriodS)));
      const result = await openLoop(echoTarget, connector, pool, rate, plan.stepSeconds);
      log(
        `  echo ${rate}/s: p50 ${result.p50} p99 ${result.p99} ms, errors ${result.errors}${stepNote(result, attempt)}`,
      );
      await sleep(500);
      return { verdict: stepVerdict(result, result.lag, P99_LIMIT_MS), detail: result };
    });

    // 5. The budget scenario (a fresh store and Atera account; the bots above are stopped).
    const budget = await runBudgetScenario(template);

    const rssPer1000 = round(((rssMany - rss100) / (many.length - live100.length)) * 1000);
    Object.assign(details, {
      overhead: { ticketzero: tz100, echo: echo100, ticketzero_10k: tz10k },
      store_write_cost: { at100: bytes100, at10k: bytes10k },
      conversation_steps: conversations.steps,
      rate_steps: rates.steps,
      echo_rate_steps: echoRates.steps,
      /** Why each series stopped: the bot failed a level, a level stayed invalid (the bench lagged), or the end. */
      steps_stopped_by: {
        conversations: conversations.stoppedBy,
        rates: rates.stoppedBy,
        echo_rates: echoRates.stoppedBy,
      },
      budget,
      rss_mb: { idle: round(rssIdle), live100: round(rss100), [`live${many.length}`]: round(rssMany) },
      unauthorized_connector_calls: connector.unauthorized,
    });
    const cpu = cpus();
    return {
      store: options.store,
      machine: {
        cores: cpu.length,
        cpu: cpu[0]?.model ?? 'unknown',
        node: process.version,
        platform: process.platform,
      },
      quick: options.quick,
      auth: options.auth,
      model_delay_ms: options.modelDelayMs,
      turn_overhead_p50_ms: finiteOrNull(tz100.p50),
      turn_overhead_p99_ms: finiteOrNull(tz100.p99),
      echo_p50_ms: finiteOrNull(echo100.p50),
      echo_p99_ms: finiteOrNull(echo100.p99),
      overhead_ratio_p50: finiteOrNull(ratio(tz100.p50, echo100.p50)),
      turn_cost_ratio_10k_vs_100: finiteOrNull(round(Math.max(timeRatio, bytesRatio))),
      turn_time_ratio_10k_vs_100: finiteOrNull(timeRatio),
      turn_bytes_ratio_10k_vs_100: finiteOrNull(bytesRatio),
      max_concurrent_conversations: conversations.best,
      max_turns_per_s: rates.best,
      echo_max_turns_per_s: echoRates.best,
      turns_per_s_ratio: finiteOrNull(ratio(rates.best, echoRates.best)),
      rss_mb_per_1000_conversations: finiteOrNull(rssPer1000),
      atera_calls_per_idle_poll: finiteOrNull(idlePoll),
      atera_calls_per_turn: finiteOrNull(ateraPerTurn),
      ticket_to_first_message_ms: finiteOrNull(pollMs),
      ticket_to_first_message_webhook_ms: finiteOrNull(webhookMs),
      atera_comment_to_chat_ms: finiteOrNull(commentPollMs),
      atera_comment_to_chat_webhook_ms: finiteOrNull(commentWebhookMs),
      atera_calls_per_minute_idle_live: finiteOrNull(idleCallsPerMinute),
      atera_calls_per_minute: budget.callsPerMinuteMax,
      atera_budget_per_minute: ATERA_BUDGET,
      outbox_lag_p50_s: finiteOrNull(budget.lagP50S),
      outbox_lag_p99_s: finiteOrNull(budget.lagP99S),
      turns_lost: budget.lost,
      turns_doubled: budget.doubled,
      connector_calls_per_turn: finiteOrNull(budget.connectorCallsPerTurn),
      details,
    };
  } catch (error) {
    // What the bot said last is the first thing to read when a run fails.
    say(true, `TicketZero's log, last lines:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
    throw error;
  } finally {
    await bot?.stop();
    await echo?.stop();
    await stack.close();
    await model.close();
    await connector.close();
    await generator?.close();
    generator = null;
    rmSync(work, { recursive: true, force: true });
    if (options.databaseUrl && options.databaseSchema)
      await dropSchema(options.databaseUrl, options.databaseSchema);
  }
}

/** PostgreSQL runs work in a schema of their own (DATABASE_SCHEMA), dropped when the run ends. */
async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      store: { type: 'string', default: 'lowdb' },
      'model-delay-ms': { type: 'string', default: '300' },
      'no-auth': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'budget-only': { type: 'boolean', default: false },
      /** Live conversations in the budget scenario (default 1,000; quick 200). */
      'budget-conversations': { type: 'string' },
    },
  });
  const store = values.store === 'postgres' ? 'postgres' : 'lowdb';
  const databaseUrl = process.env['DATABASE_URL'] ?? process.env['TICKETZERO_TEST_DATABASE_URL'];
  if (store === 'postgres' && !databaseUrl) {
    process.stderr.write('--store postgres needs DATABASE_URL or TICKETZERO_TEST_DATABASE_URL\n');
    process.exit(2);
  }
  const report = await runBench({
    quick: values.quick,
    json: values.json,
    store,
    ...(store === 'postgres' && databaseUrl
      ? { databaseUrl, databaseSchema: `tz_bench_${randomBytes(4).toString('hex')}` }
      : {}),
    modelDelayMs: Number(values['model-delay-ms']),
    auth: !values['no-auth'],
    cpuProf: values['cpu-prof'],
    ...(values['budget-conversations']
      ? { budgetConversations: Number(values['budget-conversations']) }
      : {}),
    ...(values['budget-only']
      ? { budgetOnly: (budget: BudgetResult) => process.stdout.write(`${JSON.stringify(budget, null, 2)}\n`) }
      : {}),
  });
  if (!report) return;
  say(values.json, '');
  say(values.json, reportTable(report));
  if (values.json) process.stdout.write(`${reportJson(report)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
