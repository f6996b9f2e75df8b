import { readFileSync } from 'node:fs';
import { parse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { ALL_SETTINGS, loadConfig } from '../../../src/config/load-config.js';

const example = parse(readFileSync(new URL('../../../.env.example', import.meta.url)));

describe('.env.example', () => {
  it('documents every setting TicketZero reads', () => {
    const missing = ALL_SETTINGS.filter((name) => !(name in example));
    expect(missing).toEqual([]);
  });

  it('names no setting TicketZero does not read', () => {
    const unknown = Object.keys(example).filter((name) => !ALL_SETTINGS.includes(name));
    expect(unknown).toEqual([]);
  });

  it('holds values the settings parser accepts, once the required accounts are filled in', () => {
    const config = loadConfig({
      ...example,
      ATERA_API_KEY: 'an-atera-api-key',
      ATERA_TECHNICIAN_EMAIL: 'ticketzero@msp.example',
      GRAPH_TENANT_ID: '11111111-1111-4111-8111-111111111111',
      GRAPH_CLIENT_ID: 'client-id',
      GRAPH_CLIENT_SECRET: 'client-secret',
      LOCAL_AI_BASE_URL: 'http://localhost:1234/v1',
    });
    expect(config.conversation).toMatchObject({ maxRounds: 10, maxMinutes: 30 });
    expect(config.atera.pollSeconds).toBe(15);
  });
});
