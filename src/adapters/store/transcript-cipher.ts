/**
 * AES-256-GCM for transcripts at rest. Keys come from TRANSCRIPT_KEYS: "id1:base64key,id2:base64key", newest
 * first; the first encrypts, every one decrypts, so records written under an old key stay readable after a
 * rotation. Each value gets a random 12-byte IV and a 16-byte tag:
 * `enc:v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64url parts).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { TranscriptDecryptError, TranscriptKeyError } from './store-errors.js';

export interface TranscriptCipher {
  /** The id of the key that encrypts. */
  readonly keyId: string;
  encrypt(plain: string): string;
  /** Decrypts a value this cipher (or an older key of it) wrote; text that is not encrypted is returned as is. */
  decrypt(value: string): string;
  isEncrypted(value: string): boolean;
}

const PREFIX = 'enc:v1:';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export function createTranscriptCipher(keys: string): TranscriptCipher {
  const parsed = parseKeys(keys);
  const [first] = parsed;
  if (!first) throw new TranscriptKeyError('TRANSCRIPT_KEYS: no key given (expected "id:base64key,…")');
  const byId = new Map(parsed.map((k) => [k.id, k.key]));

  return {
    keyId: first.id,
    isEncrypted: (value) => value.startsWith(PREFIX),
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', first.key, iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return `${PREFIX}${first.id}:${iv.toString('base64url')}:${tag.toString('base64url')}:${data.toString('base64url')}`;
    },
    decrypt(value) {
      if (!value.startsWith(PREFIX)) return value;
      const parts = value.slice(PREFIX.length).split(':');
      if (parts.length !== 4) throw new TranscriptDecryptError('an encrypted transcript value is malformed');
      const [keyId, iv, tag, data] = parts as [string, string, string, string];
      const key = byId.get(keyId);
      if (!key) {
        throw new TranscriptDecryptError(
          `a transcript was encrypted with key "${keyId}", which TRANSCRIPT_KEYS no longer holds`,
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
          'utf8',
        );
      } catch (error) {
        throw new TranscriptDecryptError(`a transcript encrypted with key "${keyId}" failed authentication`, {
          cause: error,
        });
      }
    },
  };
}

function parseKeys(setting: string): Array<{ id: string; key: Buffer }> {
  const problems: string[] = [];
  const keys: Array<{ id: string; key: Buffer }> = [];
  const entries = setting
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const position = `entry ${index + 1}`;
    if (colon <= 0) {
      problems.push(`${position} is not "id:base64key"`);
      return;
    }
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID.test(id)) problems.push(`${position}: key id must be 1-32 letters, digits, "-" or "_"`);
    if (keys.some((k) => k.id === id)) problems.push(`${position}: key id "${id}" is repeated`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
      problems.push(`${position} (key "${id}"): the key is not base64`);
      return;
    }
    const key = Buffer.from(encoded, encoded.includes('-') || encoded.includes('_') ? 'base64url' : 'base64');
    if (key.length !== 32) {
      problems.push(`${position} (key "${id}"): the key is ${key.length} bytes, AES-256 needs 32`);
      return;
    }
    keys.push({ id, key });
  });
  if (problems.length > 0) {
    // Never echo the setting itself: it is a secret.
    throw new TranscriptKeyError(`TRANSCRIPT_KEYS is malformed: ${problems.join('; ')}`);
  }
  return keys;
}
