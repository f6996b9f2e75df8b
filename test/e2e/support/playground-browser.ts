/** The person at the keyboard in local-run specs: Debian's Chromium, driven by playwright-core, on the Playground. */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** .ci/run installs Chromium; elsewhere browser specs are skipped with a placeholder saying why. */
export const hasChromium = existsSync(CHROMIUM);

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** Opens the Playground as a person does: the app is installed for its user (Alex Wilber) on opening. */
export async function openPlayground(browser: Browser, url: string, height = 1400): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1300, height } });
  await page.goto(url, { waitUntil: 'networkidle' });
  await page
    .getByText(/installationUpdate 200/)
    .first()
    .waitFor({ timeout: 20_000 });
  return page;
}
