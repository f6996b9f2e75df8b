import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../../src/security/loopback-host.js';

const SRC = join(import.meta.dirname, '../../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the loopback check', () => {
  it('takes localhost, 127.0.0.0/8 and ::1, with or without brackets, as this machine', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
  });

  it('takes every other host, the unspecified addresses included, as another machine', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com', '127.0.0.1.nip.io']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('is written once: no other module of src defines its own loopback test', () => {
    const ownFile = join(SRC, 'security/loopback-host.ts');
    const copies = sourceFiles(SRC)
      .filter((path) => path !== ownFile)
      .filter((path) => {
        const text = readFileSync(path, 'utf8');
        // A function named for loopback, or the 127/8 pattern that such a function is made of.
        return /function\s+isLoopback|const\s+isLoopback\w*\s*=|\/\^127\\\./.test(text);
      })
      .map((path) => relative(SRC, path));
    expect(copies).toEqual([]);
  });
});
