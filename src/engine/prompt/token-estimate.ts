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
  // One pass over UTF-16 code units (called for every message of every prompt built, so kept allocation-free):
  // a code point above U+FFFF is a surrogate pair, a lone surrogate counts like any other BMP character.
  let plainLetters = 0;
  let tokens = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      if (isPlainLetter(code)) plainLetters += 1;
      else tokens += 1; // digits and punctuation: usually a token each
    } else if (code < 0x800) {
      tokens += 1;
    } else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      tokens += 4;
      i += 1;
    } else {
      tokens += 3;
    }
  }
  return tokens + Math.ceil(plainLetters / 3);
}

/** ASCII letters and ASCII whitespace (what /[A-Za-z\s]/ matches below U+0080). */
function isPlainLetter(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d)
  );
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

export function estimateTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, m) => sum + PER_MESSAGE + estimateTextTokens(m.content), PER_REQUEST);
}
