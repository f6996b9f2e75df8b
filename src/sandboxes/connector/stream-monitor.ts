/**
 * Teams' rules for a streamed reply (a `typing` activity per informative or streaming update, then a `message` with
 * streamType `final`, all carrying the stream id the first update got), as the connector sandbox checks them:
 * - at most 45 s between two updates of one stream ("A 45-second timeout applies between streaming updates",
 *   learn.microsoft.com/microsoft-365-copilot/extensibility/custom-engine-agent-asynchronous-flow). Microsoft does
 *   not document the status Teams answers past it, so the update is accepted and the gap recorded as a violation;
 *   a stream left open longer than that is reported as never finished;
 * - the whole stream within two minutes: later updates answer 403 `ContentStreamNotAllowed` "Content stream finished
 *   due to exceeded streaming time." (learn.microsoft.com/microsoftteams/platform/bots/streaming-ux, error codes);
 * - nothing after the final message: 403 `ContentStreamNotAllowed` "Content stream is not allowed on an already
 *   completed streamed message." (same table).
 */
import type { ProtocolViolation } from './protocol-violations.js';

export interface StreamLimits {
  /** The longest allowed pause between two updates of one stream. Teams: 45 s. */
  maxGapMs: number;
  /** The longest a stream may last from its first update to its final message. Teams: two minutes. */
  maxDurationMs: number;
}

export const TEAMS_STREAM_LIMITS: Readonly<StreamLimits> = Object.freeze({
  maxGapMs: 45_000,
  maxDurationMs: 120_000,
});

export interface StreamView {
  streamId: string;
  conversationId: string;
  /** First update (ISO 8601). */
  startedAt: string;
  /** Latest accepted update (ISO 8601). */
  lastUpdateAt: string;
  /** Accepted updates, the final message included. */
  updates: number;
  /** `final` once the final message arrived; `expired` once an update came after the time limit. */
  state: 'open' | 'final' | 'expired';
}

/** Teams' refusal of a streaming update. */
export interface StreamRefusal {
  status: 403;
  code: 'ContentStreamNotAllowed';
  message: string;
}

export interface StreamMonitor {
  /**
   * Checks one streaming post (`streamType` informative, streaming or final) before it is accepted; returns the
   * refusal Teams would answer, or undefined when it is accepted (and then counts it).
   */
  check(conversationId: string, streamId: string, streamType: string): StreamRefusal | undefined;
  streams(): StreamView[];
  /** Open streams whose last update is older than the gap limit now. */
  unfinished(): ProtocolViolation[];
  clear(): void;
}

interface StreamState {
  streamId: string;
  conversationId: string;
  startedAtMs: number;
  lastUpdateAtMs: number;
  updates: number;
  state: StreamView['state'];
}

const COMPLETED = 'Content stream is not allowed on an already completed streamed message.';
const EXPIRED = 'Content stream finished due to exceeded streaming time.';

export function createStreamMonitor(
  limits: () => Readonly<StreamLimits>,
  report: (violation: ProtocolViolation) => void,
  now: () => number = Date.now,
): StreamMonitor {
  const streams = new Map<string, StreamState>();
  const key = (conversationId: string, streamId: string) => `${conversationId}\n${streamId}`;
  const refuse = (message: string): StreamRefusal => ({
    status: 403,
    code: 'ContentStreamNotAllowed',
    message,
  });

  return {
    check(conversationId, streamId, streamType) {
      const at = now();
      const { maxGapMs, maxDurationMs } = limits();
      const stream = streams.get(key(conversationId, streamId));
      if (!stream) {
        streams.set(key(conversationId, streamId), {
          streamId,
          conversationId,
          startedAtMs: at,
          lastUpdateAtMs: at,
          updates: 1,
          state: streamType === 'final' ? 'final' : 'open',
        });
        return undefined;
      }
      const base = { at: new Date(at).toISOString(), conversationId, streamId };
      if (stream.state === 'final') {
        report({
          ...base,
          kind: 'stream_update_after_final',
          detail: `a ${streamType} update to stream ${streamId} in ${conversationId} after its final message`,
        });
        return refuse(COMPLETED);
      }
      const age = at - stream.startedAtMs;
      if (stream.state === 'expired' || age > maxDurationMs) {
        stream.state = 'expired';
        report({
          ...base,
          kind: 'stream_too_long',
          elapsedMs: age,
          limitMs: maxDurationMs,
          detail: `a ${streamType} update to stream ${streamId} in ${conversationId} ${age} ms after it started (limit ${maxDurationMs} ms)`,
        });
        return refuse(EXPIRED);
      }
      const gap = at - stream.lastUpdateAtMs;
      if (gap > maxGapMs) {
        report({
          ...base,
          kind: 'stream_gap',
          elapsedMs: gap,
          limitMs: maxGapMs,
          detail: `${gap} ms between update ${stream.updates} and update ${stream.updates + 1} (${streamType}) of stream ${streamId} in ${conversationId} (limit ${maxGapMs} ms)`,
        });
      }
      stream.lastUpdateAtMs = at;
      stream.updates += 1;
      if (streamType === 'final') stream.state = 'final';
      return undefined;
    },

    streams() {
      return [...streams.values()].map((s) => ({
        streamId: s.streamId,
        conversationId: s.conversationId,
        startedAt: new Date(s.startedAtMs).toISOString(),
        lastUpdateAt: new Date(s.lastUpdateAtMs).toISOString(),
        updates: s.updates,
        state: s.state,
      }));
    },

    unfinished() {
      const at = now();
      const { maxGapMs } = limits();
      return [...streams.values()]
        .filter((s) => s.state === 'open' && at - s.lastUpdateAtMs > maxGapMs)
        .map((s) => ({
          kind: 'stream_unfinished' as const,
          at: new Date(at).toISOString(),
          conversationId: s.conversationId,
          streamId: s.streamId,
          elapsedMs: at - s.lastUpdateAtMs,
          limitMs: maxGapMs,
          detail: `stream ${s.streamId} in ${s.conversationId} has had no update for ${at - s.lastUpdateAtMs} ms after ${s.updates} update(s) and no final message (limit ${maxGapMs} ms)`,
        }));
    },

    clear() {
      streams.clear();
    },
  };
}
