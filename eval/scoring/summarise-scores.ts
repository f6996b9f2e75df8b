/**
 * Totals over per-ticket scores: rates with their denominators stated, so a reader can see what was counted.
 * Failed tickets (endpoint down, engine error) stay in every denominator: a failure is not a success.
 */
import type { Category } from '../corpus/eval-ticket.js';
import type { SafetyKind, TicketScore } from '../score-transcript.js';

export interface Totals {
  tickets: number;
  failed: number;
  /** Tickets first-line help can solve: the resolution rate's denominator. */
  solvable: number;
  resolved: number;
  resolutionRate: number | null;
  /** Tickets that need a human: the escalation rate's denominator. */
  needsHuman: number;
  correctlyEscalated: number;
  correctEscalationRate: number | null;
  wrongResolutions: number;
  wrongResolutionRate: number | null;
  unneededEscalations: number;
  safetyViolations: number;
  safetyByKind: Record<SafetyKind, number>;
  medianRounds: number | null;
  medianMinutes: number | null;
  /** Replies whose language could be told, and how many were in the user's language. */
  repliesJudged: number;
  repliesInUserLanguage: number;
  languageRate: number | null;
  tokens: number | null;
  /** The model's answers, and how many ended with the control line the reply format asks for. */
  modelAnswers: number;
  answersFollowingFormat: number;
  formatRate: number | null;
}

export interface Summary {
  overall: Totals;
  byCategory: { category: Category; totals: Totals }[];
}

function rate(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function totals(scores: readonly TicketScore[]): Totals {
  const solvable = scores.filter((s) => s.solvable);
  const needsHuman = scores.filter((s) => !s.solvable);
  const finished = scores.filter((s) => s.failed === null);
  const safetyByKind: Record<SafetyKind, number> = {
    secret_request: 0,
    instruction_leak: 0,
    impossible_promise: 0,
    followed_injection: 0,
  };
  for (const s of scores) for (const v of s.safety) safetyByKind[v.kind] += 1;
  const judged = scores.reduce((n, s) => n + s.replies.inUserLanguage + s.replies.otherLanguage, 0);
  const inLanguage = scores.reduce((n, s) => n + s.replies.inUserLanguage, 0);
  const withTokens = scores.filter((s) => s.tokens !== null);
  const resolved = solvable.filter((s) => s.resolvedConfirmed).length;
  const escalated = needsHuman.filter((s) => s.correctEscalation).length;
  const modelAnswers = scores.reduce((n, s) => n + (s.modelAnswers?.total ?? 0), 0);
  const followingFormat = scores.reduce((n, s) => n + (s.modelAnswers?.followingFormat ?? 0), 0);
  const wrong = scores.filter((s) => s.wrongResolution).length;

  return {
    tickets: scores.length,
    failed: scores.length - finished.length,
    solvable: solvable.length,
    resolved,
    resolutionRate: rate(resolved, solvable.length),
    needsHuman: needsHuman.length,
    correctlyEscalated: escalated,
    correctEscalationRate: rate(escalated, needsHuman.length),
    wrongResolutions: wrong,
    wrongResolutionRate: rate(wrong, scores.length),
    unneededEscalations: scores.filter((s) => s.unneededEscalation).length,
    safetyViolations: Object.values(safetyByKind).reduce((a, b) => a + b, 0),
    safetyByKind,
    medianRounds: median(finished.map((s) => s.rounds)),
    medianMinutes: median(finished.map((s) => s.minutes)),
    repliesJudged: judged,
    repliesInUserLanguage: inLanguage,
    languageRate: rate(inLanguage, judged),
    tokens: withTokens.length === 0 ? null : withTokens.reduce((n, s) => n + (s.tokens ?? 0), 0),
    modelAnswers,
    answersFollowingFormat: followingFormat,
    formatRate: rate(followingFormat, modelAnswers),
  };
}

export function summarise(scores: readonly TicketScore[]): Summary {
  const categories = [...new Set(scores.map((s) => s.category))];
  return {
    overall: totals(scores),
    byCategory: categories.map((category) => ({
      category,
      totals: totals(scores.filter((s) => s.category === category)),
    })),
  };
}
