import { z } from 'zod';
import { int, secret, setting } from '../setting.js';

export const securitySection = {
  /**
   * Transcript encryption keys, newest first: "id1:base64key,id2:base64key" (32-byte keys, AES-256-GCM).
   * The first encrypts; all decrypt (rotation).
   */
  transcriptKeys: secret('TRANSCRIPT_KEYS', z.string().optional()),
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
};
