/**
 * Delivering one inbound activity to the bot's messaging endpoint, as Teams (the Bot Framework channel service) does.
 *
 * Teams POSTs each activity and waits 15 s for the HTTP answer. Without one, or on a 5xx or a broken connection, it
 * gives up on that request and POSTs the same activity again: the same `id`, the same body (timestamp included),
 * newly authenticated. Microsoft documents the timeout and that a retry happens ("If the bot activity takes more than
 * 15 seconds to process, Teams send a retry request to bot endpoint. Hence, you'll see duplicate requests in your
 * bot.", learn.microsoft.com/microsoftteams/platform/bots/bot-basics) but not how many retries or their spacing.
 * The defaults below follow what was observed and reported to Microsoft:
 * - microsoft/botbuilder-dotnet#5005 (a Bot Framework SDK maintainer, debugging a Teams invoke): the bot "gets 2
 *   invokes with the same exact timestamp & id", the second right after the first timed out at 15 s; then Teams
 *   starts over with a new id and timestamp about 30 s after the first. So: one redelivery of the same id, at once.
 *   The same thread shows 5xx answers (501) redelivered alike. That second layer (a new activity) comes from
 *   the client and is not modelled here.
 * - microsoft/BotFramework-Services#59 and MicrosoftDocs/msteams-docs#4592, #6084: the same message arriving 2 to 4
 *   times for slow bots (the later ones as new activities).
 * A refusal (4xx) is final: Teams does not redeliver it.
 */
import type { InboundActivity } from './teams-activities.js';

/** How the sandbox treats the bot's answer to an inbound activity when it plays Teams' timing. */
export interface TeamsTiming {
  /** How long one POST may take (answer headers and body) before it is abandoned. Teams: 15 s. */
  inboundTimeoutMs: number;
  /** How many times the same activity is POSTed again after a timeout, 5xx or broken connection. */
  redeliveries: number;
  /** The pause between giving up on one attempt and starting the next. */
  redeliveryDelayMs: number;
}

/** Teams' first-response limit for an inbound activity (also the limit the sandbox checks when not enforcing it). */
export const TEAMS_INBOUND_TIMEOUT_MS = 15_000;

/** Teams' timing as observed (see the module comment): 15 s per attempt, one immediate redelivery of the same id. */
export const TEAMS_TIMING: Readonly<TeamsTiming> = Object.freeze({
  inboundTimeoutMs: TEAMS_INBOUND_TIMEOUT_MS,
  redeliveries: 1,
  redeliveryDelayMs: 0,
});

/** One POST of an inbound activity to the bot. */
export interface DeliveryAttempt {
  activityId: string;
  activityType: string;
  conversationId: string;
  /** 1 for the first delivery, 2 for the first redelivery, … */
  attempt: number;
  /** When the POST started (ISO 8601). */
  startedAt: string;
  /** From the start of the POST to the end of the bot's answer, or to the moment the sandbox gave up. */
  durationMs: number;
  /**
   * The HTTP status the bot answered; `timed_out` when the sandbox abandoned the request (Teams timing only);
   * `connection_error` when the connection failed or was closed without an answer.
   */
  status: number | 'timed_out' | 'connection_error';
  /** Whether the POST carried a signed `Authorization` header. */
  signed: boolean;
  /** The app the delivery was addressed to. */
  appId: string | undefined;
  /** What failed, for `connection_error`. */
  error?: string;
}

export interface InboundDeliveryRequest {
  endpoint: string;
  activity: InboundActivity;
  /** Headers for one attempt; called once per attempt so each carries a newly signed token. */
  headers: () => Record<string, string>;
  signed: boolean;
  appId: string | undefined;
  /** Teams' timing, or undefined to wait for the answer however long it takes and never redeliver. */
  timing: Readonly<TeamsTiming> | undefined;
  /** Called as each attempt ends, before the next starts. */
  onAttempt: (attempt: DeliveryAttempt) => void;
}

export interface InboundDeliveryOutcome {
  attempts: DeliveryAttempt[];
  /** The HTTP status the bot answered to the last attempt; 0 when that attempt got no answer. */
  status: number;
  /** The body of that answer ('' when none). */
  text: string;
}

/**
 * POSTs the activity, and with Teams timing abandons and redelivers it as Teams does. Without Teams timing a broken
 * connection is rethrown (after its attempt is recorded), as a plain fetch would; with it, it is redelivered and the
 * outcome reports it.
 */
export async function deliverInbound(request: InboundDeliveryRequest): Promise<InboundDeliveryOutcome> {
  const { timing } = request;
  const body = JSON.stringify(request.activity);
  const maxAttempts = timing ? timing.redeliveries + 1 : 1;
  const attempts: DeliveryAttempt[] = [];
  let last: PostResult | undefined;

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1 && timing && timing.redeliveryDelayMs > 0) await sleep(timing.redeliveryDelayMs);
    const result = await postOnce(request, body, timing?.inboundTimeoutMs);
    const record: DeliveryAttempt = {
      activityId: request.activity.id,
      activityType: request.activity.type,
      conversationId: conversationIdOf(request.activity),
      attempt,
      startedAt: result.startedAt,
      durationMs: result.durationMs,
      status: result.kind === 'answered' ? result.status : result.kind,
      signed: request.signed,
      appId: request.appId,
      ...(result.kind === 'connection_error' ? { error: describeError(result.error) } : {}),
    };
    attempts.push(record);
    request.onAttempt(record);
    last = result;
    if (!timing && result.kind === 'connection_error') throw result.error;
    if (result.kind === 'answered' && result.status < 500) break;
  }
  return last?.kind === 'answered'
    ? { attempts, status: last.status, text: last.text }
    : { attempts, status: 0, text: '' };
}

type PostResult = { startedAt: string; durationMs: number } & (
  | { kind: 'answered'; status: number; text: string }
  | { kind: 'timed_out' }
  | { kind: 'connection_error'; error: Error }
);

async function postOnce(
  request: InboundDeliveryRequest,
  body: string,
  timeoutMs: number | undefined,
): Promise<PostResult> {
  const startedAt = new Date().toISOString();
  const start = performance.now();
  const controller = new AbortController();
  let timedOut = false;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timeoutMs);
  try {
    const response = await fetch(request.endpoint, {
      method: 'POST',
      headers: request.headers(),
      body,
      signal: controller.signal,
    });
    // Teams waits for the whole answer, so the body counts against the timeout too.
    const text = await response.text();
    return {
      startedAt,
      durationMs: performance.now() - start,
      kind: 'answered',
      status: response.status,
      text,
    };
  } catch (error) {
    const durationMs = performance.now() - start;
    if (timedOut) return { startedAt, durationMs, kind: 'timed_out' };
    return {
      startedAt,
      durationMs,
      kind: 'connection_error',
      error: error instanceof Error ? error : new Error(String(error)),
    };
  } finally {
    clearTimeout(timer);
  }
}

function conversationIdOf(activity: InboundActivity): string {
  const conversation = activity['conversation'] as { id?: unknown } | undefined;
  return typeof conversation?.id === 'string' ? conversation.id : '';
}

/** fetch says only "fetch failed"; the reason (ECONNREFUSED, "other side closed"…) is its cause. */
function describeError(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause ? `${error.message}: ${cause}` : error.message;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
