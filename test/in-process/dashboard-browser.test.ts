/**
 * The dashboard in a real browser (Debian's Chromium, headless, driven by playwright-core) against a running server
 * with sandbox data: sign-in by `?token=`, the numbers on the page against the store's records, the transcript
 * page, no console or CSP errors — and the screenshot in docs/dashboard.png that the README shows.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryConversationStore } from '../../src/adapters/store/in-memory-store.js';
import type { ListeningServer } from '../../src/http/server.js';
import type { ConversationRecord, ConversationStore } from '../../src/ports/conversation-store.js';
import { ManualClock } from '../support/in-memory-ports.js';
import { DASHBOARD_NOW, seedDashboardStore } from '../unit/ops/support/dashboard-sandbox-data.js';
import { MINUTES_SAVED_PER_TICKET, startDashboardServer } from '../unit/ops/support/dashboard-server.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const TOKEN = 'dashboard-token-for-the-browser-test';
// UPDATE_SCREENSHOTS=1 refreshes the picture the README shows; otherwise it goes to the temp folder.
const SCREENSHOT = process.env.UPDATE_SCREENSHOTS
  ? fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url))
  : join(tmpdir(), `ticketzero-dashboard-${process.pid}.png`);

let store: ConversationStore;
let server: ListeningServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  if (!haveChromium) return;
  store = createInMemoryConversationStore();
  await seedDashboardStore(store);
  server = await startDashboardServer({
    store,
    clock: new ManualClock(DASHBOARD_NOW),
    dashboardToken: TOKEN,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await store?.close();
});

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function countBy(records: ConversationRecord[], key: (r: ConversationRecord) => string | null) {
  const counts: Record<string, number> = {};
  for (const r of records) {
    const k = key(r);
    if (k) counts[k.replace(/_/g, ' ')] = (counts[k.replace(/_/g, ' ')] ?? 0) + 1;
  }
  return counts;
}

async function barValues(chart: string): Promise<Record<string, number>> {
  const bars = await page.locator(`[data-chart="${chart}"] g[data-label]`).all();
  const values: Record<string, number> = {};
  for (const bar of bars) {
    values[(await bar.getAttribute('data-label'))!] = Number(await bar.getAttribute('data-value'));
  }
  return values;
}

describe.skipIf(!haveChromium)('the dashboard in Chromium', () => {
  it('signs in with ?token= and lands on the page without the token in the address', async () => {
    const response = await page.goto(`${server.url}/dashboard?token=${TOKEN}`);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${server.url}/dashboard`);
    const cookies = await page.context().cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/dashboard' });
    expect(cookies[0]?.value).not.toContain(TOKEN);
  });

  it('lists each live conversation with its user, state, round n/10 and provider, as the store has them', async () => {
    const live = await store.listLive();
    expect(live).toHaveLength(4);
    for (const record of live) {
      const row = page.locator(`tr[data-ticket="${record.ticketId}"]`);
      const cells = await row.locator('td').allInnerTexts();
      expect(cells[0]).toBe(`#${record.ticket.number} ${record.ticket.title}`);
      expect(cells[1]).toBe(record.user?.displayName);
      expect(cells[2]).toBe(record.state.replace(/_/g, ' '));
      expect(cells[3]).toBe(`${record.rounds}/10`);
      expect(cells[5]).toBe(record.lastProvider ?? '—');
    }
    const active = live.find((r) => r.state === 'active')!;
    const left = (Date.parse(active.deadlineAt!) - DASHBOARD_NOW.getTime()) / 1000;
    expect(await page.locator(`tr[data-ticket="${active.ticketId}"] td`).nth(4).innerText()).toBe(
      `${Math.floor(left / 60)} min ${String(left % 60).padStart(2, '0')} s`,
    );
  });

  it('shows the outcome figures the store’s ended conversations give', async () => {
    const ended = await store.listEnded({ limit: 1000 });
    const talked = ended.filter((r) => r.outcome?.kind !== 'declined');
    const resolved = talked.filter((r) => r.outcome?.kind === 'resolved');
    const kpi = (id: string) => page.locator(`[data-kpi="${id}"] .value`).innerText();

    expect(await kpi('ended')).toBe(String(talked.length));
    expect(await kpi('resolution-rate')).toBe(`${Math.round((resolved.length / talked.length) * 100)}%`);
    expect(await kpi('median-rounds')).toBe(String(median(resolved.map((r) => r.rounds))));
    const minutes = resolved.map((r) => (Date.parse(r.outcome!.at) - Date.parse(r.startedAt!)) / 60_000);
    expect(await kpi('median-minutes')).toBe(String(Math.round(median(minutes) * 10) / 10));
    expect(await kpi('minutes-saved')).toBe(String(resolved.length * MINUTES_SAVED_PER_TICKET));
    expect(await kpi('declined')).toBe(String(ended.length - talked.length));
  });

  it('plots escalation reasons, issue categories and provider share as charts with the store’s counts', async () => {
    const ended = await store.listEnded({ limit: 1000 });
    const talked = ended.filter((r) => r.outcome?.kind !== 'declined');
    expect(await barValues('escalation-reasons')).toEqual(
      countBy(
        talked.filter((r) => r.outcome?.kind === 'escalated'),
        (r) => r.outcome!.reason,
      ),
    );
    expect(await barValues('categories')).toEqual(countBy(talked, (r) => r.category));
    const answers: Record<string, number> = {};
    for (const turn of talked.flatMap((r) => r.turns).filter((t) => t.role === 'assistant')) {
      answers[turn.provider ?? 'fallback'] = (answers[turn.provider ?? 'fallback'] ?? 0) + 1;
    }
    expect(await barValues('provider-share')).toEqual(answers);
    expect(await barValues('provider-failure-rate')).toEqual({ local: 5, azure: 8.3, openai: 0 });

    const days = await page.locator('[data-chart="daily-outcomes"] g[data-period]').all();
    expect(days).toHaveLength(14);
    let total = 0;
    for (const day of days) total += Number(await day.getAttribute('data-total'));
    expect(total).toBe(talked.length);
    expect(await page.locator('svg[role="img"]').count()).toBe(5);
  });

  it('saves the screenshot the README shows, with no console or Content-Security-Policy errors', async () => {
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(problems).toEqual([]);
  });

  it('opens a conversation’s transcript from the list, with user text shown as text', async () => {
    await page.locator('tr[data-ticket="5201"] a').click();
    await page.waitForURL(`${server.url}/dashboard/tickets/5201`);
    const record = (await store.getConversation(5201))!;
    expect(await page.locator('.turn').count()).toBe(record.turns.length);
    expect(await page.locator('.turn[data-seq="2"] .text').innerText()).toBe(record.turns[1]?.text);
    expect(await page.locator('script').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('refuses a fresh browser without the token', async () => {
    const stranger = await browser.newPage();
    const response = await stranger.goto(`${server.url}/dashboard`);
    expect(response?.status()).toBe(401);
    expect(await stranger.locator('h2').innerText()).toBe('Sign-in required');
    await stranger.close();
  });
});

describe.skipIf(haveChromium)('the dashboard in Chromium (skipped)', () => {
  // Skipped only where Debian's Chromium is missing: .ci/run installs it, so CI drives the real browser.
  // Skipped on purpose: a visible placeholder where Chromium is missing, so the report says why the real specs did not run.
  it.skip(`needs Chromium at ${CHROMIUM} (apt-get install -y chromium)`, () => {});
});
