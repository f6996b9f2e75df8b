import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { createLogger } from '../../../src/logging/logger.js';
import { logSecretsOf } from '../../../src/security/secret-values.js';

function capture(secrets: string[]) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: createLogger({ level: 'debug', pretty: false, secrets }, stream), lines };
}

const env = {
  ATERA_API_KEY: 'atera-key-3f9c1a7e5b',
  ATERA_TECHNICIAN_EMAIL: 'ticketzero@msp.example',
  LOCAL_AI_BASE_URL: 'http://127.0.0.1:1234/v1',
  GRAPH_TENANT_ID: '00000000-0000-0000-0000-000000000001',
  GRAPH_CLIENT_ID: 'client',
  GRAPH_CLIENT_SECRET: 'graph~secret.value_42',
  MICROSOFT_APP_ID: 'b0000001-0000-4000-8000-000000000001',
  MICROSOFT_APP_PASSWORD: 'bot"pass\\word-0000',
  MICROSOFT_APP_TENANT_ID: '00000000-0000-0000-0000-000000000001',
  TRANSCRIPT_KEYS: `k2:${Buffer.alloc(32, 2).toString('base64')},k1:${Buffer.alloc(32, 1).toString('base64')}`,
};

describe('the secrets the logger scrubs', () => {
  it('are every configured key, password and transcript key, not the LM Studio default key', () => {
    const secrets = logSecretsOf(loadConfig(env));
    expect(secrets).toEqual(
      expect.arrayContaining([
        'atera-key-3f9c1a7e5b',
        'graph~secret.value_42',
        'bot"pass\\word-0000',
        Buffer.alloc(32, 2).toString('base64'),
        Buffer.alloc(32, 1).toString('base64'),
      ]),
    );
    expect(secrets).not.toContain('lm-studio');
  });
});

describe('a log line', () => {
  it('never shows a configured secret, wherever it appears: message, field, error text or cause', () => {
    const secrets = logSecretsOf(loadConfig(env));
    const { log, lines } = capture(secrets);
    const inner = new Error('request failed with header X-API-KEY: atera-key-3f9c1a7e5b');
    log.error(
      {
        err: new Error('token request refused for graph~secret.value_42', { cause: inner }),
        detail: { nested: ['bot"pass\\word-0000'] },
      },
      'call failed',
    );
    log.info({ header: `Bearer ${Buffer.alloc(32, 1).toString('base64')}` }, 'sent');

    const text = lines.join('\n');
    for (const secret of secrets) expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(text).toContain('[redacted]');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('is left as it is when no secrets are configured', () => {
    const { log, lines } = capture([]);
    log.info({ n: 1 }, 'nothing secret here');
    expect(JSON.parse(lines[0]!)).toMatchObject({ n: 1, msg: 'nothing secret here' });
  });
});
