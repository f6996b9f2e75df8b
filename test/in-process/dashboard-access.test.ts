/**
 * The dashboard over HTTP: off without DASHBOARD_TOKEN, refused without the token, the `?token=` sign-in that swaps
 * the token for an HttpOnly SameSite=Strict cookie, and transcripts that only token holders see decrypted — read
 * from an encrypted lowdb store on disk.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversationStoreFromConfig } from '../../src/adapters/store/create-store.js';
import type { ListeningServer } from '../../src/http/server.js';
import { DASHBOARD_COOKIE } from '../../src/ops/ops-routes.js';
import type { ConversationStore } from '../../src/ports/conversation-store.js';
import { silentLog } from '../../src/ports/log.js';
import { ManualClock } from '../support/in-memory-ports.js';
import { DASHBOARD_NOW, seedDashboardStore } from '../unit/ops/support/dashboard-sandbox-data.js';
import { startDashboardServer } from '../unit/ops/support/dashboard-server.js';

const TOKEN = 'dashboard-token-for-the-e2e-suite';
const SECRET_REPLY = 'The dialog says';

let dataDir: string;
let store: ConversationStore;
let on: ListeningServer;
let off: ListeningServer;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tz-dashboard-'));
  store = await createConversationStoreFromConfig(
    { kind: 'lowdb', dataDir },
    { log: silentLog, transcriptKeys: `k1:${randomBytes(32).toString('base64')}` },
  );
  await seedDashboardStore(store);
  const clock = new ManualClock(DASHBOARD_NOW);
  on = await startDashboardServer({ store, clock, dashboardToken: TOKEN });
  off = await startDashboardServer({ store, clock });
});

afterAll(async () => {
  await on?.close();
  await off?.close();
  await store?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers, redirect: 'manual' });

describe('the dashboard', () => {
  it('is off (404) when DASHBOARD_TOKEN is not set, with the token or without', async () => {
    for (const path of ['/dashboard', '/dashboard/tickets/5201', `/dashboard?token=${TOKEN}`]) {
      const response = await get(`${off.url}${path}`, { authorization: `Bearer ${TOKEN}` });
      expect(response.status, path).toBe(404);
      expect(await response.text()).not.toContain('Megan');
    }
  });

  it('refuses access without the token, with a wrong token, and with a forged cookie', async () => {
    const attempts: [string, Record<string, string>][] = [
      ['/dashboard', {}],
      ['/dashboard', { authorization: `Bearer ${TOKEN}-not` }],
      ['/dashboard', { authorization: `Basic ${TOKEN}` }],
      ['/dashboard', { cookie: `${DASHBOARD_COOKIE}=${TOKEN}` }],
      ['/dashboard', { cookie: `${DASHBOARD_COOKIE}=forged` }],
      ['/dashboard/tickets/5201', {}],
      ['/dashboard/api/overview', {}],
    ];
    for (const [path, headers] of attempts) {
      const response = await get(`${on.url}${path}`, headers);
      expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
      expect(response.headers.get('set-cookie')).toBeNull();
      const body = await response.text();
      expect(body).toContain('Sign-in required');
      expect(body).not.toContain('Megan');
      expect(body).not.toContain(SECRET_REPLY);
    }
  });

  it('refuses a wrong ?token= without setting a cookie', async () => {
    const response = await get(`${on.url}/dashboard?token=guess-${TOKEN}`);
    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('shows the page to a bearer token holder, with a strict Content-Security-Policy and no caching', async () => {
    const response = await get(`${on.url}/dashboard`, { authorization: `Bearer ${TOKEN}` });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(response.headers.get('content-security-policy')).not.toMatch(/script-src/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await response.text();
    expect(body).toContain('Megan Bowen');
    expect(body).not.toContain('<script');
    expect(body).toContain('Outlook &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; “Need password”');
  });

  it('swaps a ?token= for an HttpOnly SameSite=Strict cookie and redirects to the address without the token', async () => {
    const signIn = await get(`${on.url}/dashboard?token=${TOKEN}&view=live`);
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/dashboard?view=live');
    const cookie = signIn.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(
      new RegExp(`^${DASHBOARD_COOKIE}=[\\w-]+; Path=/dashboard; HttpOnly; SameSite=Strict`),
    );
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(';')[0]!;

    const page = await get(`${on.url}/dashboard?view=live`, { cookie: session });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Live conversations (4)');
  });

  it('shows a transcript decrypted to token holders only, while it stays encrypted on disk', async () => {
    const files = await readdir(dataDir, { recursive: true });
    const onDisk = (
      await Promise.all(files.map((f) => readFile(join(dataDir, f), 'utf8').catch(() => '')))
    ).join('\n');
    expect(onDisk).toContain('5201');
    expect(onDisk).not.toContain(SECRET_REPLY);

    const refused = await get(`${on.url}/dashboard/tickets/5201`);
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain(SECRET_REPLY);

    const page = await get(`${on.url}/dashboard/tickets/5201`, { authorization: `Bearer ${TOKEN}` });
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain(
      'The dialog says &lt;b&gt;&quot;Need password&quot;&lt;/b&gt; &amp; then &lt;script&gt;alert(1)&lt;/script&gt;',
    );
    expect(body).not.toContain('<script');
  });

  it('answers 404 for a ticket it has no conversation for, or an id that is not a number', async () => {
    for (const id of ['999999', 'abc', '1e3']) {
      const response = await get(`${on.url}/dashboard/tickets/${id}`, { authorization: `Bearer ${TOKEN}` });
      expect(response.status, id).toBe(404);
    }
  });
});
