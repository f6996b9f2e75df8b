/**
 * The last check before a model's answer reaches the user: links outside the allow-list, configured secrets,
 * things shaped like keys or tokens, and answers that repeat the system prompt are removed or blocked.
 * It never returns empty text.
 */
import { detectLanguage, supportLanguageOf, type SupportLanguage } from './detect-language.js';
import { REPLY_FORMAT, SUPPORT_RULES } from './support-rules.js';

export interface AnswerGuardOptions {
  /** Hosts (or URL prefixes) links may point to; empty allows every link. */
  linkAllowList: string[];
  /** Exact strings that must never be shown (keys, passwords of service accounts…). */
  forbidden: string[];
  /** Language for the safe sentence; guessed from the text when absent. */
  language?: string | null;
}

export interface GuardedAnswer {
  text: string;
  /** What was removed or blocked, for logs and the Atera comment (never the removed text itself). */
  problems: string[];
}

const SAFE_SENTENCE: Record<SupportLanguage, string> = {
  en: 'Sorry, I cannot show that answer. A technician can help you further if needed.',
  de: 'Diese Antwort kann ich leider nicht anzeigen. Bei Bedarf hilft Ihnen gern ein Techniker weiter.',
  fr: 'Désolé, je ne peux pas afficher cette réponse. Un technicien peut vous aider si nécessaire.',
  es: 'Lo siento, no puedo mostrar esa respuesta. Un técnico puede ayudarle si lo necesita.',
};

const SECRET_SHAPES: readonly RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{16,}/g, // OpenAI-style keys
  /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/gi,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}/g, // JWT
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, // AWS access key ids
  /\b(?:api[_-]?key|secret|token)\s*[:=]\s*\S{8,}/gi,
  /\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}\b/g, // long mixed strings
];

const URL_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>()"'\]]+/gi;

/** Runs of this many words from the system prompt in an answer mean it is being repeated. */
const SHINGLE_WORDS = 7;
const PROMPT_SHINGLES = shingles(`${SUPPORT_RULES}\n${REPLY_FORMAT}`);

export function guardAnswer(text: string, options: AnswerGuardOptions): GuardedAnswer {
  const problems: string[] = [];
  const language = supportLanguageOf(options.language) ?? detectLanguage(text) ?? 'en';

  if (revealsPrompt(text)) {
    return { text: SAFE_SENTENCE[language], problems: ['prompt_leak'] };
  }

  let out = text;
  for (const secret of options.forbidden) {
    if (secret.length >= 4 && out.includes(secret)) {
      out = out.split(secret).join('[removed]');
      if (!problems.includes('forbidden_text')) problems.push('forbidden_text');
    }
  }

  out = out.replace(URL_PATTERN, (link) => {
    if (options.linkAllowList.length === 0 || linkAllowed(link, options.linkAllowList)) return link;
    if (!problems.includes('link_removed')) problems.push('link_removed');
    return '[link removed]';
  });

  for (const shape of SECRET_SHAPES) {
    out = out.replace(shape, () => {
      if (!problems.includes('secret_like_text')) problems.push('secret_like_text');
      return '[removed]';
    });
  }

  if (out.replace(/\[(removed|link removed)\]/g, '').trim() === '') {
    return { text: SAFE_SENTENCE[language], problems: [...problems, 'empty_answer'] };
  }
  return { text: out, problems };
}

function linkAllowed(link: string, allowList: string[]): boolean {
  let host: string;
  try {
    host = new URL(link.startsWith('www.') ? `https://${link}` : link).hostname.toLowerCase();
  } catch {
    return false;
  }
  return allowList.some((entry) => {
    const allowed = entry.trim().toLowerCase();
    if (allowed.includes('://')) return link.toLowerCase().startsWith(allowed);
    const bare = allowed.replace(/^\*\./, '').replace(/^\./, '');
    return host === bare || host.endsWith(`.${bare}`);
  });
}

function revealsPrompt(text: string): boolean {
  if (/\[\[\s*ticketzero/i.test(text)) return true;
  let hits = 0;
  for (const s of shingles(text)) {
    if (PROMPT_SHINGLES.has(s)) hits += 1;
    if (hits >= 2) return true;
  }
  return false;
}

function shingles(text: string): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const out = new Set<string>();
  for (let i = 0; i + SHINGLE_WORDS <= words.length; i++)
    out.add(words.slice(i, i + SHINGLE_WORDS).join(' '));
  return out;
}
