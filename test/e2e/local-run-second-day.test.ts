/**
 * `npm start` on the second day, as a person uses it: the same data folder, run after run, with the Agents Playground
 * in a real browser. Every run takes the ticket typed at its terminal; by default the run starts fresh (TicketZero's
 * data and the Atera sandbox's account together), with --keep both are kept and ticket numbers go on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRun, type LocalRun } from './support/local-run-process.js';
import { CHROMIUM, hasChromium, launchChromium, openPlayground } from './support/playground-browser.js';

describe.skipIf(!hasChromium)('npm start on the second day (browser)', () => {
  let browser: Browser;
  const dataDir = mkdtempSync(join(tmpdir(), 'ticketzero-second-day-'));
  const running: LocalRun[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(running.map((r) => r.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** One `npm start` on the shared data folder, with the Playground open in the browser. */
  async function run(extra: string[]): Promise<{ local: LocalRun; page: Page }> {
    const local = await startLocalRun({ dataDir, logLevel: 'info', args: extra });
    running.push(local);
    const page = await openPlayground(browser, local.playgroundUrl, 900);
    return { local, page };
  }

  it('takes the new ticket of every run: fresh by default, numbered on with --keep', async () => {
    // Day one.
    const first = await run([]);
    first.local.type('ticket Outlook does not show new mail');
    const one = await first.local.waitForOutput(
      /Atera ticket #(\d+) "Outlook does not show new mail" created/,
    );
    await first.page
      .getByText(`Ticket #${one[1]}: Outlook does not show new mail`)
      .first()
      .waitFor({ timeout: 20_000 });
    await first.page.close();
    await first.local.stop();

    // Day two, same folder: a new account and a new store, and the new ticket (numbered as on day one) is taken.
    const second = await run([]);
    expect(second.local.output()).toMatch(
      /Store\s+lowdb\s+\S+\s+\(started fresh; --keep keeps the last run\)/,
    );
    second.local.type('ticket VPN drops every hour');
    const two = await second.local.waitForOutput(/Atera ticket #(\d+) "VPN drops every hour" created/);
    expect(two[1]).toBe(one[1]);
    await second.page
      .getByText(`Ticket #${two[1]}: VPN drops every hour`)
      .first()
      .waitFor({ timeout: 20_000 });
    expect(second.local.output()).not.toMatch(new RegExp(`ticket #${two[1]} · ticket not taken`));
    await second.page.close();
    await second.local.stop();

    // Day three with --keep: yesterday's conversation goes on (its chat is opened anew in this Playground), the new
    // ticket is numbered after yesterday's and waits for it, and the user is told so.
    const third = await run(['--keep']);
    expect(third.local.output()).toMatch(/kept from the last run/);
    third.local.type('ticket Printer on floor 2 jams');
    const three = await third.local.waitForOutput(/Atera ticket #(\d+) "Printer on floor 2 jams" created/);
    expect(Number(three[1])).toBe(Number(two[1]) + 1);
    await third.page
      .getByText(`I also received your ticket #${three[1]}`)
      .first()
      .waitFor({ timeout: 40_000 })
      .catch((error: unknown) => {
        throw new Error(`not in the Playground; the local run printed:\n${third.local.output()}`, {
          cause: error,
        });
      });
    await third.page.close();
    await third.local.stop();
  }, 240_000);
});

describe.runIf(!hasChromium)('npm start on the second day (browser)', () => {
  // Skipped only where Debian's Chromium is missing: .ci/run installs it, so CI drives the real browser.
  // Skipped on purpose: a visible placeholder where Chromium is missing, so the report says why the real specs did not run.
  it.skip(`needs Chromium at ${CHROMIUM} (apt-get install chromium); .ci/run installs it`, () => {});
});
