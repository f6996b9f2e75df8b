import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AteraClient } from '../../src/adapters/atera/atera-client.js';
import { AteraTicketDesk } from '../../src/adapters/atera/atera-ticket-desk.js';
import { NO_RETRY } from '../../src/adapters/atera/retry-policy.js';
import { spawnGroup, stopGroup } from '../support/process-group.js';

const API_KEY = 'e2e-sandbox-key-9876';

describe('the Atera sandbox run by hand (npm run sandbox:atera)', () => {
  let child: ChildProcess;
  let baseUrl: string;
  let origin: string;

  beforeAll(async () => {
    child = spawnGroup(
      process.execPath,
      ['--import', 'tsx', 'src/sandboxes/atera/main.ts', '--port', '0', '--api-key', API_KEY],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    baseUrl = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = out.match(/ATERA_BASE_URL=(\S+)/);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}: ${out}`)));
    });
    origin = baseUrl.replace(/\/api\/v3$/, '');
  });
  afterAll(async () => {
    if (child) await stopGroup(child);
  });

  it('prints its base URL, checks the API key, and lets a person create a ticket', async () => {
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
    expect((await fetch(`${baseUrl}/tickets`)).status).toBe(401);

    const created = await fetch(`${origin}/_sandbox/tickets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Bildschirm flackert',
        description: 'Seit heute früh flackert mein Monitor.',
        endUserEmail: 'lukas.schmidt@contoso.example',
      }),
    });
    expect(created.status).toBe(201);
    const dto = (await created.json()) as { TicketID: number };

    const desk = new AteraTicketDesk(new AteraClient({ baseUrl, apiKey: API_KEY, retry: NO_RETRY }), {
      technicianId: 9,
    });
    const ticket = await desk.getTicket(dto.TicketID);
    expect(ticket).toMatchObject({
      title: 'Bildschirm flackert',
      customer: { id: 101 },
      endUser: { id: 502, email: 'lukas.schmidt@contoso.example' },
    });
  });

  it('injects faults through its control routes and logs requests', async () => {
    const fault = await fetch(`${origin}/_sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: '503', match: { path: '/tickets/1001' } }),
    });
    expect(fault.status).toBe(201);
    const first = await fetch(`${baseUrl}/tickets/1001`, { headers: { 'X-API-KEY': API_KEY } });
    const second = await fetch(`${baseUrl}/tickets/1001`, { headers: { 'X-API-KEY': API_KEY } });
    expect([first.status, second.status]).toEqual([503, 200]);
    const log = (await (await fetch(`${origin}/_sandbox/requests`)).json()) as {
      path: string;
      status: number;
    }[];
    expect(log.filter((r) => r.path === '/tickets/1001').map((r) => r.status)).toEqual([503, 200]);
  });
});

describe('the Atera sandbox run by hand with a skewed clock (npm run sandbox:atera -- --clock-offset-seconds=-300)', () => {
  let child: ChildProcess;
  let origin: string;

  beforeAll(async () => {
    child = spawnGroup(
      process.execPath,
      ['--import', 'tsx', 'src/sandboxes/atera/main.ts', '--port', '0', '--clock-offset-seconds=-300'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const baseUrl = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = out.match(/ATERA_BASE_URL=(\S+)/);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}: ${out}`)));
    });
    origin = baseUrl.replace(/\/api\/v3$/, '');
  });
  afterAll(async () => {
    if (child) await stopGroup(child);
  });

  it('runs Atera’s clock five minutes behind this host’s: its tickets, its Date header and its clock route say so', async () => {
    const clock = (await (await fetch(`${origin}/_sandbox/clock`)).json()) as {
      now: string;
      offsetSeconds: number;
    };
    expect(clock.offsetSeconds).toBe(-300);
    const behind = (iso: string | null) => Date.now() - Date.parse(String(iso));
    expect(behind(clock.now)).toBeGreaterThan(295_000);
    expect(behind(clock.now)).toBeLessThan(305_000);

    const created = await fetch(`${origin}/_sandbox/tickets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Drucker',
        description: 'Papierstau',
        endUserEmail: 'lukas.schmidt@contoso.example',
      }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('date')).not.toBeNull();
    expect(behind(new Date(created.headers.get('date')!).toISOString())).toBeGreaterThan(295_000);
    const dto = (await created.json()) as { TicketCreatedDate: string };
    expect(behind(dto.TicketCreatedDate)).toBeGreaterThan(295_000);
    expect(behind(dto.TicketCreatedDate)).toBeLessThan(305_000);
  });

  it('refuses an offset that is not a number of seconds', async () => {
    const bad = spawnGroup(
      process.execPath,
      ['--import', 'tsx', 'src/sandboxes/atera/main.ts', '--clock-offset-seconds=soon'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let err = '';
      bad.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const [code] = (await once(bad, 'exit')) as [number];
      expect(code).toBe(2);
      expect(err).toContain('--clock-offset-seconds');
    } finally {
      await stopGroup(bad);
    }
  });
});
