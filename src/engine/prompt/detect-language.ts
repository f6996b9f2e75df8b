/**
 * A small guess at the language of a user's message, for the languages TicketZero answers in by name
 * (English, German, French, Spanish). Returns null when the text gives too little to go on.
 */

export type SupportLanguage = 'en' | 'de' | 'fr' | 'es';

const WORDS: Record<SupportLanguage, readonly string[]> = {
  en: [
    'the',
    'is',
    'it',
    'my',
    'not',
    'and',
    'i',
    'you',
    'can',
    'does',
    "doesn't",
    "don't",
    'with',
    'works',
    'working',
    'please',
    'what',
    'when',
    'how',
    'have',
    'this',
    'that',
    'still',
    'now',
    'yes',
    'thanks',
    'hello',
    'hi',
    'again',
  ],
  de: [
    'ich',
    'nicht',
    'und',
    'der',
    'die',
    'das',
    'ist',
    'mein',
    'meine',
    'geht',
    'wieder',
    'kann',
    'mit',
    'es',
    'funktioniert',
    'bitte',
    'jetzt',
    'noch',
    'auf',
    'ein',
    'eine',
    'habe',
    'danke',
    'hallo',
    'ja',
    'nein',
    'wie',
    'was',
    'immer',
  ],
  fr: [
    'je',
    'ne',
    'pas',
    'le',
    'les',
    'est',
    'mon',
    'ma',
    'mes',
    'et',
    'ça',
    'ca',
    'marche',
    'avec',
    'une',
    'un',
    'plus',
    "j'ai",
    'toujours',
    'merci',
    'bonjour',
    'oui',
    'non',
    'fonctionne',
    'sur',
    'des',
    'pour',
    'encore',
    'maintenant',
  ],
  es: [
    'no',
    'el',
    'es',
    'mi',
    'mis',
    'y',
    'que',
    'funciona',
    'con',
    'una',
    'puedo',
    'está',
    'esta',
    'los',
    'las',
    'gracias',
    'hola',
    'sí',
    'si',
    'todavía',
    'ahora',
    'sigue',
    'por',
    'favor',
    'para',
    'del',
    'tengo',
    'pero',
    'ya',
  ],
};

const LETTERS: Record<SupportLanguage, RegExp> = {
  en: /(?!)/g,
  de: /[äöüß]/gi,
  fr: /[çèêàùâîôœ]/gi,
  es: /[ñ¿¡áíóú]/gi,
};

export function detectLanguage(text: string): SupportLanguage | null {
  const words = text.toLowerCase().match(/[\p{L}']+/gu) ?? [];
  let best: SupportLanguage | null = null;
  let bestScore = 0;
  let tie = false;
  for (const language of Object.keys(WORDS) as SupportLanguage[]) {
    const vocabulary = new Set(WORDS[language]);
    let score = words.filter((w) => vocabulary.has(w)).length;
    score += (text.match(LETTERS[language]) ?? []).length * 0.5;
    if (score > bestScore) {
      best = language;
      bestScore = score;
      tie = false;
    } else if (score === bestScore && score > 0) {
      tie = true;
    }
  }
  return bestScore >= 1 && !tie ? best : null;
}

/** The two-letter code of a BCP 47 tag ("de-CH" → "de"), when it is one TicketZero answers in by name. */
export function supportLanguageOf(tag: string | null | undefined): SupportLanguage | null {
  const code = tag?.slice(0, 2).toLowerCase();
  return code === 'en' || code === 'de' || code === 'fr' || code === 'es' ? code : null;
}

export const LANGUAGE_NAMES: Record<SupportLanguage, string> = {
  en: 'English',
  de: 'German',
  fr: 'French',
  es: 'Spanish',
};
