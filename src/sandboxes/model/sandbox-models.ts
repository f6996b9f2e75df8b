/**
 * The model sandbox's model names: which persona answers, and whether it stalls before its first token.
 *
 *   ticketzero-sandbox            the scripted persona, which follows the reply format (the default: any name the
 *                                 sandbox does not know answers with it too)
 *   plain-prose                   the persona that ignores every format instruction (see plain-prose-assistant.ts)
 *   <name>@first-token-<N>ms|s    either persona, stalling N milliseconds / seconds before its first token, e.g.
 *                                 `plain-prose@first-token-40s`, `ticketzero-sandbox@first-token-300ms`
 *
 * A name with an `@` suffix the sandbox cannot read is refused (404 model_not_found), so a typo in a test's model
 * name fails loudly instead of running without the stall.
 */
import { plainProseAnswer } from './plain-prose-assistant.js';
import { scriptedSupportAnswer } from './scripted-support-assistant.js';
import type { ChatTurn } from './support-playbook.js';

export type SandboxPersona = 'scripted' | 'plain-prose';

export const SANDBOX_MODEL_IDS: Readonly<Record<SandboxPersona, string>> = {
  scripted: 'ticketzero-sandbox',
  'plain-prose': 'plain-prose',
};

export const SANDBOX_PERSONAS: readonly SandboxPersona[] = ['scripted', 'plain-prose'];

/** What `/v1/models` says about each persona. */
export const SANDBOX_MODEL_DESCRIPTIONS: Readonly<Record<SandboxPersona, string>> = {
  scripted: 'ticketzero-sandbox: a scripted stand-in for local tests, not an AI model',
  'plain-prose':
    'ticketzero-sandbox: a scripted stand-in that ignores the reply format (no control line, sometimes English or Markdown), not an AI model',
};

const ANSWERS: Readonly<Record<SandboxPersona, (messages: readonly ChatTurn[]) => string>> = {
  scripted: scriptedSupportAnswer,
  'plain-prose': plainProseAnswer,
};

/** Longest stall a model name may ask for (ten minutes). */
export const MAX_FIRST_TOKEN_DELAY_MS = 600_000;

export interface SandboxModelChoice {
  persona: SandboxPersona;
  /** The id the answer names as its model. */
  modelId: string;
  /** Stall before the first token asked for by the name; null when the name asks for none. */
  firstTokenDelayMs: number | null;
}

const STALL_SUFFIX = /^first-token-(\d+(?:\.\d+)?)(ms|s)$/;

/** Reads a request's model name; an error message when its `@` suffix is not one the sandbox knows. */
export function readSandboxModel(name: string | null): SandboxModelChoice | { error: string } {
  const trimmed = (name ?? '').trim();
  const at = trimmed.indexOf('@');
  const base = (at >= 0 ? trimmed.slice(0, at) : trimmed).toLowerCase();
  const persona: SandboxPersona = base === SANDBOX_MODEL_IDS['plain-prose'] ? 'plain-prose' : 'scripted';
  let firstTokenDelayMs: number | null = null;
  if (at >= 0) {
    const stall = STALL_SUFFIX.exec(trimmed.slice(at + 1));
    const ms = stall ? Math.round(Number(stall[1]) * (stall[2] === 's' ? 1000 : 1)) : NaN;
    if (!Number.isFinite(ms) || ms > MAX_FIRST_TOKEN_DELAY_MS) {
      return {
        error: `The model \`${trimmed}\` does not exist. The sandbox's suffix is @first-token-<N>ms or @first-token-<N>s (at most ${MAX_FIRST_TOKEN_DELAY_MS / 1000} s), e.g. plain-prose@first-token-40s.`,
      };
    }
    firstTokenDelayMs = ms;
  }
  return { persona, modelId: SANDBOX_MODEL_IDS[persona], firstTokenDelayMs };
}

export function sandboxAnswer(persona: SandboxPersona, messages: readonly ChatTurn[]): string {
  return ANSWERS[persona](messages);
}
