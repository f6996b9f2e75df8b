import { describe, expect, it } from 'vitest';
import { describeFailures, fallbackAnswer } from '../../../src/engine/prompt/fallback.js';
import { detectLanguage } from '../../../src/engine/prompt/detect-language.js';

describe('the fallback when every model fails', () => {
  it.each([
    ['en', /not available right now[\s\S]*technician will follow up/],
    ['de-DE', /nicht erreichbar[\s\S]*Techniker meldet sich/],
    ['fr', /pas disponible[\s\S]*technicien vous recontactera/],
    ['es-MX', /no está disponible[\s\S]*técnico se pondrá en contacto/],
    [null, /not available right now/],
    ['ja', /not available right now/],
  ])('tells the user honestly, in %s, that a technician will follow up', (language, pattern) => {
    expect(fallbackAnswer(language)).toMatch(pattern);
  });

  it('describes each provider’s failure for the internal comment, without keys', () => {
    const text = describeFailures([
      { provider: 'local', status: 'unavailable', error: 'connection failed: ECONNREFUSED' },
      { provider: 'azure', status: 'rate_limited', error: 'HTTP 429: Rate limit reached' },
      {
        provider: 'openai',
        status: 'error',
        error: 'HTTP 401: Incorrect API key provided: sk-abc123def456ghi789',
      },
      { provider: 'spare', status: 'circuit_open', error: 'skipped' },
    ]);
    expect(text).toMatch(/- local: unavailable \(connection failed: ECONNREFUSED\)/);
    expect(text).toMatch(/- azure: rate limited \(HTTP 429: Rate limit reached\)/);
    expect(text).toMatch(/- spare: skipped, circuit open/);
    expect(text).not.toContain('sk-abc123');
  });

  it('says so when no provider was tried at all', () => {
    expect(describeFailures([])).toMatch(/No AI provider is configured or active/);
  });
});

describe('guessing the user’s language', () => {
  it.each([
    ['It still does not work, what can I do?', 'en'],
    ['Es geht immer noch nicht, was kann ich tun?', 'de'],
    ['Ça ne marche toujours pas, je ne peux pas imprimer.', 'fr'],
    ['Todavía no funciona, ¿qué puedo hacer?', 'es'],
    ['OK', null],
  ])('%s → %s', (text, language) => {
    expect(detectLanguage(text)).toBe(language);
  });
});
