import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const documents = [
  'README.md',
  'DEVELOPERS.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

const engines = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }
).engines.node;

/** "Node 20", "Node.js 20.19+", "Node 20.20.2" → [20], [20, 19], [20, 20, 2]. */
function nodeVersionsIn(text: string): Array<{ said: string; parts: number[] }> {
  return [...text.matchAll(/\bNode(?:\.js)?\s+v?(\d+(?:\.\d+){0,2})\+?/g)].map((m) => ({
    said: m[0],
    parts: m[1]!.split('.').map(Number),
  }));
}

describe('the Node.js version the documents name', () => {
  it('package.json asks for a minimum version', () => {
    expect(engines).toMatch(/^>=\d+\.\d+$/);
  });

  it.each(documents)('%s names it with its minor version, never below package.json engines', (document) => {
    const [major, minor] = engines.replace('>=', '').split('.').map(Number) as [number, number];
    const wrong = nodeVersionsIn(readFileSync(join(root, document), 'utf8'))
      .filter(({ parts: [m, n] }) => n === undefined || m! < major || (m === major && n < minor))
      .map(({ said }) => said);
    expect(wrong, `package.json engines: ${engines}`).toEqual([]);
  });
});
