/** Something the bot did that Teams does not allow or would not wait for; recorded by the connector sandbox. */
export interface ProtocolViolation {
  /** `inbound_timeout`: the bot gave no HTTP answer to an inbound activity within Teams' limit (15 s). */
  kind: 'inbound_timeout';
  /** When it was seen (ISO 8601). */
  at: string;
  conversationId: string;
  /** The inbound activity (`inbound_timeout`). */
  activityId?: string;
  /** Which delivery attempt timed out (`inbound_timeout`). */
  attempt?: number;
  /** How long the bot took (or the sandbox waited) on the attempt. */
  elapsedMs?: number;
  /** The limit it broke. */
  limitMs?: number;
  /** One line saying what happened, for test failure messages. */
  detail: string;
}
