/**
 * Several runs of the same tickets side by side (the model sandbox's personas, or any runs of one corpus): the
 * totals as a Markdown table and as a plain-text table for the terminal, then resolution and escalation per
 * category, with a link to each run's full report.
 */
import type { Summary, Totals } from '../scoring/summarise-scores.js';
import { PERSONA_NOTES, SANDBOX_NOTE, type RunInfo } from './render-report.js';

export interface ComparedRun {
  run: RunInfo;
  summary: Summary;
  /** The run's own report, relative to where the comparison is written. */
  reportPath: string;
}

const pct = (value: number | null) => (value === null ? 'n/a' : `${(value * 100).toFixed(1)} %`);
const num = (value: number | null) => (value === null ? 'n/a' : String(Math.round(value * 10) / 10));
const ratio = (part: number, whole: number, rate: number | null) => `${part}/${whole} (${pct(rate)})`;

/** Each figure of the totals, named as in the single-run report. */
const FIGURES: readonly [string, (t: Totals) => string][] = [
  ['Tickets (failed)', (t) => `${t.tickets} (${t.failed})`],
  ['User-confirmed resolution (of solvable)', (t) => ratio(t.resolved, t.solvable, t.resolutionRate)],
  [
    'Correct escalation with a useful summary (of needing a human)',
    (t) => ratio(t.correctlyEscalated, t.needsHuman, t.correctEscalationRate),
  ],
  ['Wrong resolution (of all)', (t) => ratio(t.wrongResolutions, t.tickets, t.wrongResolutionRate)],
  ['Solvable tickets handed to a human anyway', (t) => String(t.unneededEscalations)],
  ['Safety violations', (t) => String(t.safetyViolations)],
  ["Replies in the user's language", (t) => ratio(t.repliesInUserLanguage, t.repliesJudged, t.languageRate)],
  [
    'Model answers that followed the reply format',
    (t) => ratio(t.answersFollowingFormat, t.modelAnswers, t.formatRate),
  ],
  ['Median rounds to outcome', (t) => num(t.medianRounds)],
  ['Median simulated minutes to outcome', (t) => num(t.medianMinutes)],
  ['Tokens used', (t) => (t.tokens === null ? 'not reported' : String(t.tokens))],
];

function label(run: RunInfo): string {
  return run.persona ?? run.model;
}

export function renderComparison(runs: readonly ComparedRun[]): string {
  const first = runs[0]!.run;
  const heads = runs.map((r) => `\`${label(r.run)}\``);
  const lines: string[] = [
    `# TicketZero support quality — ${runs.map((r) => label(r.run)).join(' vs ')} — ${first.startedAt.slice(0, 10)}`,
    '',
  ];
  if (runs.some((r) => r.run.sandbox)) lines.push(`> **Sandbox run.** ${SANDBOX_NOTE}`, '');
  for (const r of runs) {
    const note = r.run.persona ? PERSONA_NOTES[r.run.persona] : undefined;
    if (note) lines.push(`> ${note}`, '');
  }
  lines.push(
    `- The same ${runs[0]!.summary.overall.tickets} tickets in each run, of the corpus's ${first.ticketsInCorpus}; limits ${first.maxRounds} rounds, ${first.maxMinutes} simulated minutes`,
    ...runs.map(
      (r) =>
        `- \`${label(r.run)}\`: model \`${r.run.model}\`, ${(r.run.durationMs / 1000).toFixed(1)} s of real time, [full report](${r.reportPath})`,
    ),
    '',
    '## Totals',
    '',
    `| Measure | ${heads.join(' | ')} |`,
    `| --- | ${runs.map(() => '---').join(' | ')} |`,
    ...FIGURES.map(
      ([name, figure]) => `| ${name} | ${runs.map((r) => figure(r.summary.overall)).join(' | ')} |`,
    ),
    '',
    '## By category',
    '',
    'Resolved (of solvable) and correctly escalated (of needing a human), per run:',
    '',
    `| Category | ${runs.map((r) => `Resolved \`${label(r.run)}\` | Escalated \`${label(r.run)}\``).join(' | ')} |`,
    `| --- | ${runs.map(() => '--- | ---').join(' | ')} |`,
  );
  const categories = [...new Set(runs.flatMap((r) => r.summary.byCategory.map((c) => c.category)))];
  for (const category of categories) {
    const cells = runs.map((r) => {
      const t = r.summary.byCategory.find((c) => c.category === category)?.totals;
      return t ? `${t.resolved}/${t.solvable} | ${t.correctlyEscalated}/${t.needsHuman}` : '— | —';
    });
    lines.push(`| ${category} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  return lines.join('\n');
}

/** The totals side by side as a plain-text table, for the terminal. */
export function comparisonTable(runs: readonly { run: RunInfo; summary: Summary }[]): string {
  const rows: string[][] = [
    ['', ...runs.map((r) => label(r.run))],
    ...FIGURES.map(([name, figure]) => [name, ...runs.map((r) => figure(r.summary.overall))]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
