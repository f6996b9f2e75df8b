import { z } from 'zod';
import { bool, int, secret, setting } from '../setting.js';

export const securitySection = {
  /**
   * Transcript encryption keys, newest first: "id1:base64key,id2:base64key" (32-byte keys, AES-256-GCM).
   * The first encrypts; all decrypt (rotation).
   */
  transcriptKeys: secret('TRANSCRIPT_KEYS', z.string().optional()),
  /** Ended conversations (transcripts included) are deleted this many days after they ended (checked hourly). */
  transcriptRetentionDays: setting('TRANSCRIPT_RETENTION_DAYS', int(90, 1, 3650)),
  /** Comma-separated hosts allowed in links the AI sends (empty: any). */
  linkAllowList: setting(
    'AI_LINK_ALLOWLIST',
    z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim().toLowerCase())
          .filter(Boolean),
      ),
  ),
  userMessagesPerMinute: setting('USER_MESSAGES_PER_MINUTE', int(12, 1)),
  /**
   * Inbound turns (messages, commands, card presses) one Teams conversation may send per minute, whoever sends
   * them; beyond it they are dropped before the engine. Above USER_MESSAGES_PER_MINUTE so a single user meets
   * the polite per-user limit first.
   */
  conversationTurnsPerMinute: setting('CONVERSATION_TURNS_PER_MINUTE', int(30, 1)),
  /** Allow plain http to a local model server on another machine (LOCAL_AI_BASE_URL on the LAN). */
  localAiAllowInsecureHttp: setting('LOCAL_AI_ALLOW_INSECURE_HTTP', bool(false)),
};
