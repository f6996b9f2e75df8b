import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactText } from '../../../src/logging/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ level: 'debug', pretty: false }, stream), lines };
}

describe('log lines', () => {
  it('are JSON with the ticket and conversation ids of a child logger on every line', () => {
    const { log, lines } = capture();
    const child = log.child({ ticketId: 4711, conversationId: 'a:1Xk' });
    child.info({ round: 2 }, 'answered');
    child.warn({}, 'model slow');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatchObject({ ticketId: 4711, conversationId: 'a:1Xk' });
    expect(lines[0]).toMatchObject({ msg: 'answered', round: 2, service: 'ticketzero', level: 30 });
  });

  it('never carry tokens, cookies or e-mail addresses in fields', () => {
    const { log, lines } = capture();
    log.info(
      {
        req: { headers: { authorization: 'Bearer abc', cookie: 'tz_dashboard=xyz' } },
        user: { email: 'megan@contoso.example', mail: 'megan@contoso.example', phone: '+49 30 1234567' },
        metricsToken: 'metrics-token-value',
        dashboardToken: 'dashboard-token-value',
      },
      'request',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of [
      'Bearer abc',
      'xyz',
      'megan@',
      '1234567',
      'metrics-token-value',
      'dashboard-token-value',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('redact e-mail addresses, phone numbers and secrets from user text logged at debug level', () => {
    expect(redactText('mail me at megan@contoso.example or +49 30 1234567, password: hunter2')).toBe(
      'mail me at [email] or [phone], password [redacted]',
    );
  });
});
