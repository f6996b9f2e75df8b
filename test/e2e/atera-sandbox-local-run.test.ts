/**
 * The local run's terminal plays people writing in Atera: `reply`, `note` and `email` put a technician's public
 * reply, an internal note and the end user's e-mail reply on a ticket, which the Atera sandbox then serves over its
 * API like any comment. Runs `npm start`'s CLI without the Playground (no browser needed).
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AteraClient } from '../../src/adapters/atera/atera-client.js';
import { NO_RETRY } from '../../src/adapters/atera/retry-policy.js';
import { spawnGroup, stopGroup } from '../support/process-group.js';
import { until } from '../support/waiting.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe('the local run’s terminal writing in Atera (npm start)', () => {
  let child: ChildProcessWithoutNullStreams;
  let output = '';
  let atera: AteraClient;
  let ticketId: number;
  const dataDir = mkdtempSync(join(tmpdir(), 'ticketzero-local-run-replies-'));

  /** Waits for `pattern` in what the terminal printed after `from` (an offset into the output). */
  const waitForOutput = (pattern: RegExp, from = 0, timeoutMs = 30_000): Promise<RegExpMatchArray> =>
    until(`the local run to print ${pattern}`, () => output.slice(from).match(pattern), {
      timeoutMs,
      describe: () => `output:\n${output}`,
    });
  /** Types a line at the terminal and waits for its answer. */
  const type = async (line: string, answer: RegExp): Promise<RegExpMatchArray> => {
    const from = output.length;
    child.stdin.write(`${line}\n`);
    return waitForOutput(answer, from);
  };

  beforeAll(async () => {
    // One process (no npx/tsx wrapper), so SIGTERM reaches the local run itself; stopGroup also stops what it started.
    child = spawnGroup(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/local-run.ts',
        '--no-playground',
        '--data-dir',
        dataDir,
        '--port',
        String(await freePort()),
        '--log-level',
        'error',
      ],
      { stdio: 'pipe', env: { ...process.env, FORCE_COLOR: '0' } },
    );
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const [, baseUrl, apiKey] = await waitForOutput(/Atera\s+sandbox\s+(\S+)\s+\(key ([^,\s]+),/);
    atera = new AteraClient({ baseUrl: baseUrl!, apiKey: apiKey!, retry: NO_RETRY });
    const [, id] = await type(
      'ticket Outlook shows no new mail',
      /Atera ticket #(\d+) "Outlook shows no new mail"/,
    );
    ticketId = Number(id);
  }, 60_000);

  afterAll(async () => {
    if (child) await stopGroup(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists reply, note and email in its help line and its answer to an unknown command', async () => {
    expect(output).toMatch(/reply <id> <text>/);
    expect(output).toMatch(/note <id> <text>/);
    expect(output).toMatch(/email <id> <text>/);
    await type(
      'frobnicate',
      /Commands: ticket <what is wrong> · reply <id> <text> · note <id> <text> · email <id> <text> · comments <id> · quit/,
    );
  });

  it('puts a technician’s public reply, an internal note and the end user’s e-mail reply on the ticket', async () => {
    await type(
      `reply ${ticketId} I reset your <mailbox> & cache, try now`,
      /Dana Tech replied on Atera ticket/,
    );
    await type(
      `note ${ticketId} reset via Exchange admin`,
      /internal note on Atera ticket #\d+; it stays in Atera/,
    );
    await type(`email ${ticketId} Still nothing new`, /Alex Wilber answered Atera ticket #\d+ by e-mail/);

    const comments = await atera.listComments(ticketId);
    expect(comments.filter((c) => c.TechnicianContactID === 7)).toMatchObject([
      {
        Comment: '<p>I reset your &lt;mailbox&gt; &amp; cache, try now</p>',
        EndUserID: null,
        Email: 'dana.tech@msp.example',
        IsInternal: false,
      },
      { Comment: '<p>reset via Exchange admin</p>', IsInternal: true },
    ]);
    const fromUser = comments.filter((c) => c.EndUserID !== null);
    expect(fromUser).toHaveLength(1);
    expect(fromUser[0]).toMatchObject({
      Comment: '<div dir="ltr">Still nothing new</div>',
      TechnicianContactID: null,
      FirstName: 'Alex',
      LastName: 'Wilber',
      IsInternal: false,
    });
  });

  it('prints a ticket’s comments as plain text, entities decoded, with who wrote them', async () => {
    await type(`comments ${ticketId}`, /Alex Wilber \(end user\): Still nothing new/);
    expect(output).toContain('• Dana Tech: I reset your <mailbox> & cache, try now');
    expect(output).toContain('• Dana Tech (internal): reset via Exchange admin');
  });

  it('says why when a ticket does not exist or has no end user', async () => {
    await type('reply 99999 hello', /✗ Ticket 99999 not found/);
    // Seeded ticket 1006 came in without an end-user e-mail.
    await type('email 1006 hello', /✗ Ticket 1006 has no end user to reply as/);
  });
});
