/**
 * A conservative token count, so a prompt built to a budget fits small local models (phi-3-mini's 4k window
 * with a Llama-style tokenizer, which splits digits and punctuation and falls back to bytes for rare letters).
 * It deliberately counts more than OpenAI's tokenizers do.
 */
import type { ChatMessage } from '../../ports/model.js';

/** Tokens a chat template adds around each message, and to prime the answer. */
const PER_MESSAGE = 6;
const PER_REQUEST = 4;

export function estimateTextTokens(text: string): number {
  let plainLetters = 0;
  let tokens = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x80) {
      if (/[A-Za-z\s]/.test(char)) plainLetters += 1;
      else tokens += 1; // digits and punctuation: usually a token each
    } else if (code < 0x800) {
      tokens += 1;
    } else if (code < 0x10000) {
      tokens += 3;
    } else {
      tokens += 4;
    }
  }
  return tokens + Math.ceil(plainLetters / 3);
}

export function estimateTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, m) => sum + PER_MESSAGE + estimateTextTokens(m.content), PER_REQUEST);
}
