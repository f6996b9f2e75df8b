/**
 * Renders every TicketZero card to a PNG for the README (docs/cards/*.png): the same renderCard() output the bot
 * sends, drawn by the Adaptive Cards JavaScript renderer in headless Chromium.
 *
 *   npx tsx scripts/render-cards.ts [outDir] [chromiumPath]
 *
 * Needs Chromium, by default at /usr/bin/chromium (Debian: apt-get install -y chromium).
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { renderCard } from '../src/adapters/teams/cards/render-card.js';
import { longTextCard } from '../src/adapters/teams/cards/long-text-card.js';
import { sampleCardSpecs } from '../test/fixtures/teams/sample-card-specs.js';

const require = createRequire(import.meta.url);
const outDir = resolve(process.argv[2] ?? 'docs/cards');
const executablePath = process.argv[3] ?? '/usr/bin/chromium';

const cards: Record<string, unknown> = Object.fromEntries(
  Object.entries(sampleCardSpecs).map(([name, spec]) => [name, renderCard(spec, { refreshUserIds: [] })]),
);
cards['long-text'] = longTextCard(
  'The user tried restarting Outlook, clearing the credential manager and signing in again. '
    .repeat(12)
    .trim(),
  { speaker: 'TicketZero' },
);

/** Teams-like host config: Segoe UI, Teams' purple accent, compact spacing. */
const hostConfig = {
  fontFamily: "'Segoe UI', 'Noto Sans', 'DejaVu Sans', sans-serif",
  spacing: { small: 4, default: 8, medium: 16, large: 20, extraLarge: 24, padding: 16 },
  containerStyles: {
    default: { backgroundColor: '#FFFFFF', foregroundColors: { accent: { default: '#6264A7' } } },
    emphasis: { backgroundColor: '#F5F5F5' },
    good: { backgroundColor: '#E7F2DA' },
    attention: { backgroundColor: '#FCF4F6' },
    warning: { backgroundColor: '#FFF4CE' },
  },
  actions: { maxActions: 6, buttonSpacing: 8, actionsOrientation: 'horizontal', actionAlignment: 'left' },
};

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 560, height: 900 }, deviceScaleFactor: 2 });
    await page.setContent(
      '<!doctype html><html><body style="margin:0;background:#f0f0f0;font-family:sans-serif">' +
        '<div id="card" style="width:480px;margin:16px;padding:0;background:#fff;border-radius:6px;' +
        'box-shadow:0 1px 4px rgba(0,0,0,.2);overflow:hidden"></div></body></html>',
    );
    await page.addStyleTag({ path: require.resolve('adaptivecards/dist/adaptivecards.css') });
    await page.addScriptTag({ path: require.resolve('adaptivecards/dist/adaptivecards.min.js') });
    for (const [name, card] of Object.entries(cards)) {
      await page.evaluate(
        ({ card, hostConfig }) => {
          const AC = (window as unknown as { AdaptiveCards: Record<string, any> }).AdaptiveCards; // eslint-disable-line @typescript-eslint/no-explicit-any
          // Teams' Markdown, enough for our cards: escapes, **bold**, numbered lines, {{DATE()}} / {{TIME()}}.
          AC.AdaptiveCard.onProcessMarkdown = (
            text: string,
            result: { outputHtml: string; didProcess: boolean },
          ) => {
            const html = text
              .replace(/\{\{DATE\(([^,)]+),\s*SHORT\)\}\}/g, (_m, iso: string) =>
                new Date(iso).toLocaleDateString('en-GB', {
                  day: 'numeric',
                  month: 'short',
                  year: 'numeric',
                }),
              )
              .replace(/\{\{TIME\(([^)]+)\)\}\}/g, (_m, iso: string) =>
                new Date(iso).toLocaleTimeString('en-GB', {
                  hour: '2-digit',
                  minute: '2-digit',
                  timeZone: 'UTC',
                }),
              )
              .replace(/&/g, '&amp;')
              .replace(/</g, '&lt;')
              .replace(/>/g, '&gt;')
              .replace(/\*\*(.+?)\*\*/g, '<b>$1</b>')
              .replace(/\\([\\`*_~[\](){}#+!|<>.-])/g, '$1')
              .replace(/\n/g, '<br>');
            result.outputHtml = `<p style="margin:0">${html}</p>`;
            result.didProcess = true;
          };
          const adaptive = new AC.AdaptiveCard();
          adaptive.hostConfig = new AC.HostConfig(hostConfig);
          adaptive.parse(card);
          const target = document.getElementById('card')!;
          target.replaceChildren(adaptive.render() as HTMLElement);
        },
        { card, hostConfig },
      );
      const path = join(outDir, `${name}.png`);
      await page.locator('#card').screenshot({ path });
      console.log(path);
    }
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
