import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createTechnicianDirectory,
  readTechniciansFile,
} from '../../../src/adapters/teams/technician-directory.js';
import { createInMemoryConversationStore } from '../../../src/adapters/store/in-memory-store.js';
import { ConfigError } from '../../../src/errors.js';
import type { Technician } from '../../../src/ports/technicians.js';

function file(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tz-techs-')), 'technicians.json');
  writeFileSync(path, content);
  return path;
}

const dana: Technician = { name: 'Dana Smith', email: 'dana@msp.example', ateraContactId: 7, userId: null };
const danny: Technician = {
  name: 'Danny Ocean',
  email: 'danny@msp.example',
  ateraContactId: null,
  userId: 'aad-danny',
};

describe('the technicians’ directory', () => {
  it('reads TECHNICIANS_FILE and reports every bad entry by the variable name', () => {
    const good = file(JSON.stringify([{ name: 'Dana Smith', email: 'dana@msp.example', ateraContactId: 7 }]));
    expect(readTechniciansFile(good)).toEqual([dana]);
    const bad = file(JSON.stringify([{ name: '', email: 'not-mail' }]));
    expect(() => readTechniciansFile(bad)).toThrow(ConfigError);
    expect(() => readTechniciansFile(bad)).toThrow(/TECHNICIANS_FILE: entry 0\.name/);
    expect(() => readTechniciansFile(file('{oops'))).toThrow(/not valid JSON/);
  });

  it('lets an exact e-mail win over name matches', async () => {
    const directory = createTechnicianDirectory({
      fromFile: [dana, danny],
      roster: async () => [],
      kv: createInMemoryConversationStore(),
    });
    expect(await directory.find('DANA@msp.example')).toEqual([dana]);
    expect((await directory.find('dan')).map((t) => t.email)).toEqual([
      'dana@msp.example',
      'danny@msp.example',
    ]);
    expect((await directory.find('@ocean')).map((t) => t.email)).toEqual(['danny@msp.example']);
    expect(await directory.find('   ')).toEqual([]);
  });

  it('remembers technicians seen on tickets and merges what each source knows', async () => {
    const kv = createInMemoryConversationStore();
    const directory = createTechnicianDirectory({
      fromFile: [dana],
      roster: async () => [{ ...dana, ateraContactId: null, userId: 'aad-dana' }],
      kv,
    });
    await directory.remember({
      name: 'Sam Field',
      email: 'sam@msp.example',
      ateraContactId: 12,
      userId: null,
    });
    expect(await directory.find('sam')).toEqual([
      { name: 'Sam Field', email: 'sam@msp.example', ateraContactId: 12, userId: null },
    ]);
    expect(await directory.find('dana@msp.example')).toEqual([{ ...dana, userId: 'aad-dana' }]);
  });
});
