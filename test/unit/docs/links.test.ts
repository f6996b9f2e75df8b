import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { headingAnchors } from './heading-anchors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Relative links and images: `[text](path#anchor)` / `![alt](path)` / `[text](#anchor)`, without web links and mail. */
function relativeLinks(markdown: string): Array<{ path: string; anchor: string | null }> {
  return [...markdown.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((href) => !/^(https?:|mailto:)/.test(href))
    .map((href) => {
      const [path = '', anchor] = href.split('#');
      return { path, anchor: anchor ?? null };
    });
}

describe('the documentation', () => {
  it.each(documents)('%s links only to files that exist', (document) => {
    const text = readFileSync(join(root, document), 'utf8');
    const missing = relativeLinks(text)
      .filter((link) => link.path !== '')
      .filter((link) => !existsSync(resolve(root, dirname(document), link.path)));
    expect(missing).toEqual([]);
  });

  it.each(documents)('%s links only to headings that exist in Markdown files', (document) => {
    const text = readFileSync(join(root, document), 'utf8');
    const broken = relativeLinks(text)
      .filter((link) => link.anchor !== null && (link.path === '' || link.path.endsWith('.md')))
      .map((link) => ({
        ...link,
        file: link.path === '' ? document : resolve(root, dirname(document), link.path),
      }))
      .filter((link) => existsSync(resolve(root, link.file)))
      .filter(
        (link) => !headingAnchors(readFileSync(resolve(root, link.file), 'utf8')).includes(link.anchor!),
      )
      .map((link) => `${relative(root, resolve(root, link.file))}#${link.anchor}`);
    expect(broken).toEqual([]);
  });

  const pointing = ['.env.example', 'env/.env.dev', 'env/.env.local', 'scripts/package-app.ts'];
  it.each(pointing)('%s points only at doc sections that exist', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const broken = [...text.matchAll(/\b(docs\/[\w-]+\.md)#([\w-]+)/g)]
      .filter(
        ([, doc, anchor]) =>
          !existsSync(join(root, doc!)) ||
          !headingAnchors(readFileSync(join(root, doc!), 'utf8')).includes(anchor!),
      )
      .map(([pointer]) => pointer);
    expect(broken).toEqual([]);
  });
});
