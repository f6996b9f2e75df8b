import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { graphSection } from '../../../src/config/sections/graph.js';
import { parseSection } from '../../../src/config/setting.js';

const dir = mkdtempSync(join(tmpdir(), 'ticketzero-graph-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('the Graph settings', () => {
  it('reads the extra CA from GRAPH_CA_FILE once, at start-up', () => {
    const path = join(dir, 'ca.pem');
    writeFileSync(path, PEM);
    const problems: string[] = [];
    const graph = parseSection(graphSection, { GRAPH_CA_FILE: path }, problems);
    expect(problems).toEqual([]);
    expect(graph.caPem).toBe(PEM);
    expect(graph.baseUrl).toBe('https://graph.microsoft.com/v1.0');
  });

  it('names GRAPH_CA_FILE when the file is missing or holds no certificate', () => {
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    const problems: string[] = [];
    parseSection(graphSection, { GRAPH_CA_FILE: join(dir, 'absent.pem') }, problems);
    parseSection(graphSection, { GRAPH_CA_FILE: notPem }, problems);
    expect(problems).toEqual([
      expect.stringMatching(/^GRAPH_CA_FILE: cannot read .*absent\.pem/),
      `GRAPH_CA_FILE: ${notPem} holds no PEM certificate`,
    ]);
  });

  it('rejects authority metadata that is not the JSON msal-node needs', () => {
    const problems: string[] = [];
    parseSection(graphSection, { GRAPH_AUTHORITY_METADATA: 'https://login.example' }, problems);
    expect(problems).toEqual([
      expect.stringMatching(/^GRAPH_AUTHORITY_METADATA: expected JSON with token_endpoint/),
    ]);
  });
});
