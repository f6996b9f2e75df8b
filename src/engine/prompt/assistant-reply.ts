/**
 * Reads the model's answer: the text the user sees, and the outcome of the round from the control block at its
 * very end. A model that ignores the format does not break the conversation: its text is kept and the round
 * continues.
 */
import {
  CONTROL_BLOCK_PATTERN,
  ISSUE_CATEGORIES,
  formatControlBlock,
  type Outcome,
} from './control-block.js';

export interface AssistantReply {
  /** What the user sees: the answer with every control block removed. */
  text: string;
  outcome: Outcome;
  /** Why a human is needed (needs_human), as the model put it. */
  reason: string | null;
  /** One of ISSUE_CATEGORIES, or null when the model gave none. */
  category: string | null;
  /** False when the answer had no trustworthy control block at its end. */
  formatFollowed: boolean;
}

const MAX_REASON_LENGTH = 300;

export function parseAssistantReply(raw: string): AssistantReply {
  const blocks = [...raw.matchAll(CONTROL_BLOCK_PATTERN)];
  const text = raw.replace(CONTROL_BLOCK_PATTERN, '').trim();
  const last = blocks.at(-1);
  // Only a block that ends the answer is trusted; one in the middle may be the model echoing user text.
  const trusted = last && raw.slice(last.index + last[0].length).trim() === '' ? last[0] : null;
  const fields = trusted ? readFields(trusted) : null;
  const outcome = fields ? normaliseOutcome(fields.outcome) : null;
  if (!fields || !outcome) {
    return {
      text,
      outcome: 'continue',
      reason: null,
      category: fields ? normaliseCategory(fields.category) : null,
      formatFollowed: false,
    };
  }
  return {
    text,
    outcome,
    reason: outcome === 'needs_human' ? (fields.reason ?? 'the assistant asked for a technician') : null,
    category: normaliseCategory(fields.category),
    formatFollowed: true,
  };
}

/**
 * Writes an answer the way the reply format asks a model to (text, then the control line): the inverse of
 * parseAssistantReply, for in-memory models in tests and for documentation.
 */
export function formatAssistantReply(reply: {
  text: string;
  outcome: Outcome;
  reason: string | null;
  category: string | null;
}): string {
  return `${reply.text}\n${formatControlBlock({ outcome: reply.outcome, category: reply.category ?? 'other', reason: reply.reason })}`;
}

function readFields(block: string): {
  outcome: string | null;
  category: string | null;
  reason: string | null;
} {
  const body = block
    .replace(/^`{0,3}\s*\[\[\s*ticketzero\s*:?/i, '')
    .replace(/\]\](?:\s*`{1,3})?$/, '')
    .trim();
  const field = (name: string): string | null => {
    const match = new RegExp(
      `(?:^|[;|,\\n]|\\s)${name}\\s*[=:]\\s*("[^"]*"|(?:(?!\\s+[a-z_]+\\s*[=:])[^;|\\n])*)`,
      'i',
    ).exec(body);
    const value = match?.[1]?.replace(/^"|"$/g, '').trim();
    return value ? value : null;
  };
  const reason = field('reason');
  return {
    outcome: field('outcome'),
    category: field('category'),
    reason: reason && !/^(none|null|-|n\/a)$/i.test(reason) ? reason.slice(0, MAX_REASON_LENGTH) : null,
  };
}

function normaliseOutcome(value: string | null): Outcome | null {
  if (!value) return null;
  const v = value.toLowerCase().replace(/[\s-]+/g, '_');
  if (v === 'continue' || v === 'continuing' || v === 'in_progress') return 'continue';
  if (/^(resolved(_pending(_confirmation)?)?|pending_confirmation|fixed|solved)$/.test(v)) {
    return 'resolved_pending_confirmation';
  }
  if (/^(needs_human|human|escalate|escalated|handover|needs_technician)$/.test(v)) return 'needs_human';
  return null;
}

function normaliseCategory(value: string | null): string | null {
  if (!value) return null;
  const v = value.toLowerCase().replace(/[\s/-]+/g, '_');
  return (ISSUE_CATEGORIES as readonly string[]).includes(v) ? v : 'other';
}
