/**
 * TicketZero as it runs in production, pointed at the sandboxes: the Atera, Graph and model sandboxes, the
 * Bot Framework connector sandbox playing Teams, the bot's real HTTP endpoint on a free port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createTicketZero, type TicketZero } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/load-config.js';
import type { Clock } from '../../../src/ports/clock.js';
import type {
  ConnectorSandbox,
  RecordedActivity,
} from '../../../src/sandboxes/connector/connector-sandbox.js';
import { startLocalStack, type LocalStack } from '../../../src/sandboxes/local-stack.js';

/** Real time plus an offset the test moves forward (the 30-minute window is never waited for). */
export class OffsetClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advanceMinutes(minutes: number): void {
    this.offsetMs += minutes * 60_000;
  }
}

export interface RunningTicketZero {
  stack: LocalStack;
  connector: ConnectorSandbox;
  app: TicketZero;
  clock: OffsetClock;
  dataDir: string;
  url: string;
  /**
   * Stops the bot (not the sandboxes) and starts a new one on the same data, as after a crash and restart;
   * `whileDown` runs in between.
   */
  restart(whileDown?: () => void | Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  technicians?: boolean;
  authenticated?: boolean;
  modelAnswerDelayMs?: number;
  /** One MSP, many tenants: TENANTS_FILE and a bot registration per customer tenant (see local-stack.ts). */
  multiTenant?: boolean;
  /** How far the Atera sandbox's clock runs from this host's (ms; positive: Atera is ahead). */
  ateraClockOffsetMs?: number;
  /** Runs once the sandboxes are up, just before the bot starts for the first time. */
  beforeStart?: (stack: LocalStack) => void | Promise<void>;
}

export async function startTicketZero(options: StartOptions = {}): Promise<RunningTicketZero> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ticketzero-e2e-'));
  const stack = await startLocalStack({
    dataDir,
    connector: 'sandbox',
    technicians: options.technicians ?? true,
    authenticated: options.authenticated ?? true,
    ...(options.modelAnswerDelayMs !== undefined ? { modelAnswerDelayMs: options.modelAnswerDelayMs } : {}),
    ...(options.multiTenant ? { multiTenant: true } : {}),
  });
  const connector = stack.connector!;
  if (options.ateraClockOffsetMs !== undefined) stack.atera.setClockOffsetMs(options.ateraClockOffsetMs);
  await options.beforeStart?.(stack);
  const clock = new OffsetClock();
  const env = { ...stack.env, PORT: '0', LOG_LEVEL: 'silent', ...options.env };
  const log = pino({ level: process.env.TICKETZERO_TEST_LOG ?? 'silent' });

  const boot = async (): Promise<{ app: TicketZero; url: string }> => {
    const app = await createTicketZero(loadConfig(env), {
      clock,
      log,
      tickMs: 100,
      outboxIntervalMs: 100,
      env,
    });
    const listening = await app.start();
    connector.botEndpoint = `${listening.url}/api/messages`;
    return { app, url: listening.url };
  };

  let current = await boot();
  const running: RunningTicketZero = {
    stack,
    connector,
    get app() {
      return current.app;
    },
    get url() {
      return current.url;
    },
    clock,
    dataDir,
    async restart(whileDown) {
      await current.app.stop();
      await whileDown?.();
      current = await boot();
    },
    async close() {
      await current.app.stop().catch(() => undefined);
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  } as RunningTicketZero;
  return running;
}

export { eventually } from '../../support/waiting.js';

/** The messages a user sees in their 1:1 chat, as text (cards shown by their kind). */
export function chatView(connector: ConnectorSandbox, conversationId: string): string[] {
  const view = connector.conversation(conversationId);
  return (view?.messages ?? []).map(describeActivity);
}

export function describeActivity(a: RecordedActivity): string {
  if (a.text) return a.text;
  const card = a.attachments?.[0] as { content?: { body?: unknown[] } } | undefined;
  return card ? `[card] ${JSON.stringify(card.content?.body ?? []).slice(0, 200)}` : `[${a.type}]`;
}
