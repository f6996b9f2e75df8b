/**
 * What the user and the technicians are told when no model could answer: an honest sentence for the user, and
 * a description of each provider's failure for the internal Atera comment (reasons only, never keys).
 */
import type { ProviderFailure } from '../../ports/model.js';
import { supportLanguageOf, type SupportLanguage } from './detect-language.js';

const FALLBACK: Record<SupportLanguage, string> = {
  en: 'Sorry, the automatic support assistant is not available right now. Your ticket is saved and a technician will follow up with you personally as soon as possible.',
  de: 'Entschuldigung, der automatische Support-Assistent ist gerade nicht erreichbar. Ihr Ticket ist gespeichert und ein Techniker meldet sich so bald wie möglich persönlich bei Ihnen.',
  fr: "Désolé, l'assistant de support automatique n'est pas disponible pour le moment. Votre ticket est enregistré et un technicien vous recontactera personnellement dès que possible.",
  es: 'Lo sentimos, el asistente de soporte automático no está disponible en este momento. Su ticket está guardado y un técnico se pondrá en contacto con usted personalmente lo antes posible.',
};

/** `language` is a BCP 47 tag or two-letter code; anything else gets English. */
export function fallbackAnswer(language: string | null): string {
  return FALLBACK[supportLanguageOf(language) ?? 'en'];
}

const STATUS_WORDS: Record<ProviderFailure['status'], string> = {
  rate_limited: 'rate limited',
  unavailable: 'unavailable',
  timeout: 'timed out',
  invalid: 'unusable answer',
  circuit_open: 'skipped, circuit open after repeated failures',
  error: 'error',
};

const KEYLIKE =
  /\b(?:sk-[A-Za-z0-9_-]{8,}|(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,})\b/g;

export function describeFailures(failures: ProviderFailure[]): string {
  if (failures.length === 0)
    return 'No AI provider is configured or active, so no answer could be generated.';
  const lines = failures.map((f) => {
    const detail = f.error.replace(KEYLIKE, '[redacted]').replace(/\s+/g, ' ').trim().slice(0, 300);
    return `- ${f.provider}: ${STATUS_WORDS[f.status]}${detail ? ` (${detail})` : ''}`;
  });
  return `Every AI provider failed for this turn, so the user got the fallback message and the ticket needs a technician:\n${lines.join('\n')}`;
}
