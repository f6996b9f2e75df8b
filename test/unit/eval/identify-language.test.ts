import { describe, expect, it } from 'vitest';
import { identifyLanguage } from '../../../eval/scoring/identify-language.js';

describe('telling the language of a reply', () => {
  it.each([
    ['en', 'Please open the print queue and tell me what you see there.'],
    ['de', 'Bitte öffnen Sie die Druckerwarteschlange und sagen Sie mir, was Sie dort sehen.'],
    ['fr', 'Ouvrez la file d’attente de l’imprimante et dites-moi ce que vous voyez, s’il vous plaît.'],
    ['es', 'Abra la cola de impresión y dígame qué ve en la pantalla, por favor.'],
    ['nl', 'Open de afdrukwachtrij en vertel me wat u daar ziet, als het kan.'],
  ])('recognises %s', (language, text) => {
    expect(identifyLanguage(text)).toBe(language);
  });

  it('does not guess from a reply too short to tell', () => {
    expect(identifyLanguage('OK!')).toBeNull();
  });
});
