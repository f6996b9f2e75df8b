/** Something the bot did that Teams does not allow or would not wait for; recorded by the connector sandbox. */
export interface ProtocolViolation {
  kind:
    /** The bot gave no HTTP answer to an inbound activity within Teams' limit (15 s). */
    | 'inbound_timeout'
    /** Two updates of one stream (informative, streaming or final) further apart than Teams allows (45 s). */
    | 'stream_gap'
    /** A stream still open, with no update for longer than Teams allows between updates: never finished. */
    | 'stream_unfinished'
    /** An update posted to a stream that already had its final message (refused with 403). */
    | 'stream_update_after_final'
    /** An update posted after the stream's total time limit (two minutes) ran out (refused with 403). */
    | 'stream_too_long';
  /** When it was seen (ISO 8601). */
  at: string;
  conversationId: string;
  /** The inbound activity (`inbound_timeout`). */
  activityId?: string;
  /** Which delivery attempt timed out (`inbound_timeout`). */
  attempt?: number;
  /** The stream (`stream_*`). */
  streamId?: string;
  /** The time over the limit is measured on: the wait for an answer, the gap, the stream's age. */
  elapsedMs?: number;
  /** The limit it broke. */
  limitMs?: number;
  /** One line saying what happened, for test failure messages. */
  detail: string;
}
