/**
 * The local run, as a person uses it: `npm start` (here the same CLI with free ports), Microsoft 365 Agents
 * Playground as Teams, a real browser as the person at the keyboard. A ticket typed at the terminal reaches the
 * Playground's chat; a reply typed in the browser reaches the model and Atera.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRun, type LocalRun } from './support/local-run-process.js';
import {
  CHROMIUM,
  hasChromium,
  launchChromium,
  openPlayground as openPage,
} from './support/playground-browser.js';

const openPlayground = (browser: Browser, run: LocalRun): Promise<Page> =>
  openPage(browser, run.playgroundUrl);

describe.skipIf(!hasChromium)('npm start with the Agents Playground (browser)', () => {
  let run: LocalRun;
  let browser: Browser;
  const dataDir = mkdtempSync(join(tmpdir(), 'ticketzero-local-run-'));

  beforeAll(async () => {
    run = await startLocalRun({ dataDir });
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await run?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows a new ticket in the Playground chat and relays the reply typed in the browser to Atera', async () => {
    // Opening the Playground installs the app for its user (Alex Wilber); TicketZero stores the chat reference.
    const page = await openPlayground(browser, run);
    await page.setViewportSize({ width: 1300, height: 900 });

    run.type('ticket Outlook does not show new mail');
    const created = await run.waitForOutput(/Atera ticket #(\d+) "Outlook does not show new mail" created/);
    const ticketId = created[1];
    await page
      .getByText(`Ticket #${ticketId}: Outlook does not show new mail`)
      .first()
      .waitFor({ timeout: 20_000 });
    await page
      .getByText(/Please close Outlook completely/)
      .first()
      .waitFor({ timeout: 20_000 });

    // The Playground's compose box is a rich-text editor (contenteditable), as in Teams.
    const box = page.locator('[contenteditable="true"][role="textbox"]').first();
    await box.click();
    await page.keyboard.type('The status bar says Disconnected');
    await page.keyboard.press('Enter');
    await page
      .getByText(/Thanks for checking/)
      .first()
      .waitFor({ timeout: 20_000 });
    // UPDATE_SCREENSHOTS=1 refreshes the picture the README shows; otherwise it goes to the temp folder.
    await page.screenshot({
      path: process.env.UPDATE_SCREENSHOTS ? 'docs/playground.png' : join(dataDir, 'playground.png'),
    });

    run.type(`comments ${ticketId}`);
    const comment = await run.waitForOutput(/Alex Wilber \(end user, via Teams\) — round 1:\s+(.*)/);
    expect(comment[1]).toContain('The status bar says Disconnected');
    expect(await page.getByText('Thanks for checking').count()).toBeGreaterThanOrEqual(1);
  }, 90_000);
});

describe.skipIf(!hasChromium)(
  "npm start: the Playground's user is a technician of the local team (browser)",
  () => {
    let run: LocalRun;
    let browser: Browser;
    const dataDir = mkdtempSync(join(tmpdir(), 'ticketzero-local-run-tech-'));

    beforeAll(async () => {
      run = await startLocalRun({ dataDir });
      browser = await launchChromium();
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await run?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    /** In the ticket's thread: @TicketZero picked from the mention list, as a person does, then the words. */
    async function sayInThread(page: Page, words: string, answer: RegExp): Promise<void> {
      // The last compose box on the channel page is the thread's reply box (the first starts a new post).
      await page.locator('[contenteditable="true"][role="textbox"]').last().click();
      await page.keyboard.type('@');
      await page.getByRole('menuitem', { name: 'TicketZero' }).click();
      await page.keyboard.type(` ${words}`);
      await page.keyboard.press('Enter');
      await page.getByText(answer).first().waitFor({ timeout: 20_000 });
    }

    it('gives each ticket a thread with its card in the "Tickets" channel, where Alex Wilber\'s commands work', async () => {
      const page = await openPlayground(browser, run);
      // The Playground shows only what arrives while it is open: be in the channel before the ticket comes.
      await page.getByText('Tickets', { exact: true }).first().click();
      await page.getByText('MSP Technicians').first().waitFor();

      run.type('ticket VPN drops every hour');
      const created = await run.waitForOutput(/Atera ticket #(\d+) "VPN drops every hour" created/);
      const ticketId = created[1]!;
      await page.getByText(`Ticket #${ticketId}: VPN drops every hour`).first().waitFor({ timeout: 20_000 });
      // The card is updated in place once the AI has answered the user.
      await page.getByText('AI is talking with the user').first().waitFor({ timeout: 20_000 });

      await sayInThread(page, 'help', /TicketZero commands/);
      await sayInThread(page, 'pause', new RegExp(`Paused: the AI holds its answers on #${ticketId}`));
      await page.getByRole('button', { name: 'Resume AI' }).first().waitFor({ timeout: 20_000 });
      await sayInThread(page, 'take over', new RegExp(`You have taken over #${ticketId}`));
      await sayInThread(
        page,
        'Please restart the VPN client and tell me what it says',
        /Sent to Alex Wilber/,
      );
      expect(await page.getByText(/Only members of the technicians/).count()).toBe(0);

      // The end user's side of the same take-over, in the personal chat.
      await page.getByText('Personal Chat', { exact: true }).first().click();
      await page
        .getByText(/is joining this chat and will continue with you/)
        .first()
        .waitFor({ timeout: 20_000 });
      await page
        .getByText('Please restart the VPN client and tell me what it says')
        .first()
        .waitFor({ timeout: 20_000 });

      // Every command is audited on the ticket in Atera, with who gave it.
      run.type(`comments ${ticketId}`);
      await run.waitForOutput(/paused the AI — by Alex Wilber in Teams/);
      await run.waitForOutput(/took over the conversation — by Alex Wilber in Teams/);
    }, 120_000);
  },
);

describe.runIf(!hasChromium)('npm start with the Agents Playground (browser)', () => {
  // Skipped only where Debian's Chromium is missing: .ci/run installs it, so CI drives the real browser.
  // Skipped on purpose: a visible placeholder where Chromium is missing, so the report says why the real specs did not run.
  it.skip(`needs Chromium at ${CHROMIUM} (apt-get install chromium); .ci/run installs it`, () => {});
});
