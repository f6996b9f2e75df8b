/**
 * The summary a technician reads when TicketZero hands a ticket over or resolves it: what the problem is,
 * what was tried, what the user reported, and a suggested next step. Built from the transcript itself, so it
 * is accurate even when every model is down.
 */
import type { ConversationRecord, Turn } from '../ports/conversation-store.js';

const REASONS: Record<string, string> = {
  user_asked: 'the user asked for a person',
  model_needs_human: 'the assistant judged that a technician is needed',
  all_providers_failed: 'no AI provider could answer',
  round_limit: 'the round limit was reached',
  time_limit: 'the time limit was reached',
  technician: 'a technician escalated it',
  still_broken_at_limit: 'the fix did not work within the limits',
};

export function describeReason(reason: string): string {
  return REASONS[reason] ?? reason.replace(/_/g, ' ');
}

function firstLine(text: string, max = 160): string {
  const line = text.split(/\n+/).find((l) => l.trim().length > 0) ?? '';
  const trimmed = line.trim();
  return trimmed.length <= max ? trimmed : `${trimmed.slice(0, max - 1)}…`;
}

const SMALL_TALK =
  /^(hello|hi|hey|hallo|bonjour|hola|thanks|thank you|danke|merci|gracias|great|perfect|super|sorry|i am ticketzero|i'm ticketzero|let'?s look|glad)\b/i;

/**
 * The step an assistant turn asked for: its first sentence that is neither small talk nor a question
 * ("Please close Outlook completely and open it again."), or null when the turn only asked something.
 */
export function keyStep(text: string, max = 160): string | null {
  const sentences = text
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?])\s+/)
    .map((x) => x.trim())
    .filter(Boolean);
  const step = sentences.find((x) => !SMALL_TALK.test(x) && !x.endsWith('?'));
  if (!step) return null;
  return step.length <= max ? step : `${step.slice(0, max - 1)}…`;
}

function bySpeaker(turns: Turn[], role: Turn['role']): string[] {
  if (role === 'assistant') {
    return turns
      .filter((t) => t.role === role)
      .flatMap((t) => {
        const step = keyStep(t.text);
        return step ? [step] : [];
      });
  }
  return turns.filter((t) => t.role === role).map((t) => firstLine(t.text));
}

export interface HandoverSummary {
  problem: string;
  tried: string[];
  reported: string[];
  nextStep: string;
}

export function summarise(
  record: ConversationRecord,
  reason: string,
  modelNote?: string | null,
): HandoverSummary {
  const tried = bySpeaker(record.turns, 'assistant').slice(-6);
  const reported = bySpeaker(record.turns, 'user').slice(-6);
  const nextStep =
    modelNote && modelNote.trim().length > 0
      ? firstLine(modelNote, 240)
      : reason === 'all_providers_failed'
        ? 'Contact the user directly; the AI assistant was unavailable.'
        : 'Review the steps above with the user and continue from the last thing they reported.';
  return { problem: `${record.ticket.title}`, tried, reported, nextStep };
}

export function handoverComment(
  record: ConversationRecord,
  reason: string,
  modelNote?: string | null,
): string {
  const s = summarise(record, reason, modelNote);
  const lines = [
    `TicketZero handed this ticket to a technician: ${describeReason(reason)}.`,
    `Problem: ${s.problem}`,
    `Rounds: ${record.rounds}`,
    'What was tried:',
    ...(s.tried.length ? s.tried.map((t) => `- ${t}`) : ['- nothing yet']),
    'What the user reported:',
    ...(s.reported.length ? s.reported.map((t) => `- ${t}`) : ['- no reply yet']),
    `Suggested next step: ${s.nextStep}`,
  ];
  return lines.join('\n');
}

export function resolutionComment(record: ConversationRecord): string {
  const s = summarise(record, 'resolved');
  return [
    'TicketZero resolved this ticket: the user confirmed the fix in Teams.',
    `Problem: ${s.problem}`,
    `Rounds: ${record.rounds}`,
    'Steps given:',
    ...(s.tried.length ? s.tried.map((t) => `- ${t}`) : ['- none']),
    'User reported:',
    ...(s.reported.length ? s.reported.map((t) => `- ${t}`) : ['- none']),
  ].join('\n');
}
