import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTranscriptCipher } from '../../../src/adapters/store/transcript-cipher.js';
import { TranscriptKeyError } from '../../../src/adapters/store/store-errors.js';

const key = (bytes = 32) => randomBytes(bytes).toString('base64');

describe('the transcript cipher', () => {
  it('round-trips text, non-ASCII and empty strings, with a fresh IV each time', () => {
    const cipher = createTranscriptCipher(`k1:${key()}`);
    for (const text of ['Outlook asks again', 'Grüße, 東京 🚀', '']) {
      const sealed = cipher.encrypt(text);
      expect(sealed.startsWith('enc:v1:k1:')).toBe(true);
      expect(sealed).not.toContain(text || '\u0000');
      expect(cipher.decrypt(sealed)).toBe(text);
    }
    expect(cipher.encrypt('same')).not.toBe(cipher.encrypt('same'));
  });

  it('encrypts with the first key and decrypts with any key listed', () => {
    const oldKey = `old:${key()}`;
    const sealedOld = createTranscriptCipher(oldKey).encrypt('written last year');
    const rotated = createTranscriptCipher(`new:${key()},${oldKey}`);
    expect(rotated.keyId).toBe('new');
    expect(rotated.decrypt(sealedOld)).toBe('written last year');
    expect(rotated.encrypt('x').startsWith('enc:v1:new:')).toBe(true);
  });

  it('accepts base64url keys', () => {
    const cipher = createTranscriptCipher(`k:${randomBytes(32).toString('base64url')}`);
    expect(cipher.decrypt(cipher.encrypt('ok'))).toBe('ok');
  });

  it('detects a tampered ciphertext', () => {
    const cipher = createTranscriptCipher(`k1:${key()}`);
    const sealed = cipher.encrypt('the real words');
    const parts = sealed.split(':');
    const data = Buffer.from(parts[5]!, 'base64url');
    data[0] = data[0]! ^ 1;
    parts[5] = data.toString('base64url');
    expect(() => cipher.decrypt(parts.join(':'))).toThrow(
      expect.objectContaining({ code: 'transcript_undecryptable' }),
    );
    expect(() => cipher.decrypt('enc:v1:k1:onlythree')).toThrow(
      expect.objectContaining({ code: 'transcript_undecryptable' }),
    );
  });

  it.each([
    ['an empty setting', ''],
    ['a key without id', key()],
    ['a 16-byte key', `short:${key(16)}`],
    ['a key that is not base64', 'k1:not base64 at all!'],
    ['a repeated id', `k1:${key()},k1:${key()}`],
    ['an id with spaces', `my key:${key()}`],
  ])('rejects %s with a clear error that does not echo the key', (_name, setting) => {
    let error: unknown;
    try {
      createTranscriptCipher(setting);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TranscriptKeyError);
    expect((error as Error).message).toMatch(/TRANSCRIPT_KEYS/);
    const secretPart = setting.split(':')[1];
    if (secretPart && secretPart.length > 8) expect((error as Error).message).not.toContain(secretPart);
  });
});
