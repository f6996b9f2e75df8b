/**
 * `npm run eval -- [--endpoint URL --model NAME | --persona scripted|plain-prose|both] [--tickets N] [--json]`
 *
 * Runs the support-quality corpus through TicketZero's conversation engine and AI provider chain against any
 * OpenAI-compatible endpoint (LM Studio, Ollama, vLLM, OpenAI; Azure OpenAI with --azure), scores every
 * conversation and writes a Markdown report. Without --endpoint it starts the model sandbox and runs the same
 * tickets with each of its personas (`scripted` follows the reply format, `plain-prose` ignores it), side by side;
 * those numbers measure the harness and the engine, not a model. Progress goes to stderr; with --json the last
 * stdout line is the result (one run: its figures; several: `runs`, one entry per persona).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createAzureOpenAIProvider } from '../src/adapters/ai/azure-openai-provider.js';
import { createOpenAICompatibleProvider } from '../src/adapters/ai/openai-compatible-provider.js';
import { createProviderChain } from '../src/adapters/ai/provider-chain.js';
import { aiSection } from '../src/config/sections/ai.js';
import { conversationSection } from '../src/config/sections/conversation.js';
import { parseSection, type Env } from '../src/config/setting.js';
import type { EngineSettings } from '../src/engine/conversation-engine.js';
import { silentLog } from '../src/ports/log.js';
import type { ModelProvider } from '../src/ports/model.js';
import { startModelSandbox, type ModelSandbox } from '../src/sandboxes/model/model-sandbox.js';
import {
  SANDBOX_MODEL_IDS,
  SANDBOX_PERSONAS,
  type SandboxPersona,
} from '../src/sandboxes/model/sandbox-models.js';
import type { EvalTicket } from './corpus/eval-ticket.js';
import { loadCorpus } from './corpus/load-corpus.js';
import { comparisonTable, renderComparison } from './report/render-comparison.js';
import { renderReport, resultLine, SANDBOX_NOTE, type RunInfo } from './report/render-report.js';
import { evaluateTicket, observeChain } from './runner/evaluate-ticket.js';
import { scoreTranscript, type TicketScore } from './score-transcript.js';
import { summarise, type Summary } from './scoring/summarise-scores.js';

const USAGE = `Usage: npm run eval -- [options]
  --endpoint URL      OpenAI-compatible base URL ending in /v1 (LM Studio http://localhost:1234/v1,
                      Ollama http://localhost:11434/v1, vLLM, https://api.openai.com/v1), or with --azure the
                      Azure OpenAI resource endpoint (https://NAME.openai.azure.com). Default: the model sandbox.
  --model NAME        Model name (with --azure: the deployment name).
  --persona P         Without --endpoint: which model-sandbox persona plays the model — scripted (follows the
                      reply format), plain-prose (ignores it) or both, side by side (default: both).
  --azure             The endpoint is Azure OpenAI; see --api-version.
  --api-version V     Azure OpenAI API version (default 2024-10-21).
  --tickets N         Run N tickets, spread over the categories (default: all).
  --only ID,ID        Run only these ticket ids.
  --timeout-ms MS     Time allowed for one model answer (default 60000; first token: a sixth of it, at least 10 s).
  --out DIR           Where the Markdown report goes (default eval/reports).
  --json              Print one JSON object with the results as the last line of stdout.
The API key, when the endpoint needs one, is read from TICKETZERO_EVAL_API_KEY (never from the command line).`;

class UsageError extends Error {}

interface Options {
  endpoint: string | null;
  model: string | null;
  azure: boolean;
  apiVersion: string;
  tickets: number | null;
  only: string[] | null;
  timeoutMs: number | null;
  out: string;
  json: boolean;
  /** Sandbox personas to run, in order; empty with --endpoint. */
  personas: SandboxPersona[];
}

function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      endpoint: { type: 'string' },
      model: { type: 'string' },
      persona: { type: 'string' },
      azure: { type: 'boolean', default: false },
      'api-version': { type: 'string', default: '2024-10-21' },
      tickets: { type: 'string' },
      only: { type: 'string' },
      'timeout-ms': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new UsageError('');
  const positive = (name: string, raw: string | undefined): number | null => {
    if (raw === undefined) return null;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive whole number`);
    return n;
  };
  if (values.endpoint && !values.model) throw new UsageError('--model is required with --endpoint');
  if (values.azure && !values.endpoint)
    throw new UsageError('--azure needs --endpoint and --model (deployment)');
  if (values.endpoint && values.persona !== undefined) {
    throw new UsageError('--persona picks a model-sandbox persona; it does not go with --endpoint');
  }
  const persona = values.persona ?? 'both';
  if (persona !== 'both' && !(SANDBOX_PERSONAS as readonly string[]).includes(persona)) {
    throw new UsageError(`--persona must be one of ${[...SANDBOX_PERSONAS, 'both'].join(', ')}`);
  }
  return {
    endpoint: values.endpoint ?? null,
    model: values.model ?? null,
    azure: values.azure ?? false,
    apiVersion: values['api-version'] ?? '2024-10-21',
    tickets: positive('tickets', values.tickets),
    only: values.only
      ? values.only
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : null,
    timeoutMs: positive('timeout-ms', values['timeout-ms']),
    out: values.out ?? fileURLToPath(new URL('./reports/', import.meta.url)),
    json: values.json ?? false,
    personas: values.endpoint ? [] : persona === 'both' ? [...SANDBOX_PERSONAS] : [persona as SandboxPersona],
  };
}

/**
 * N tickets spread over the categories, with the corpus's share of tickets that need a human, so a short run
 * still covers every kind of ticket and both kinds of outcome. Deterministic: the same N gives the same tickets.
 */
export function pickTickets(corpus: readonly EvalTicket[], count: number | null): EvalTicket[] {
  if (count === null || count >= corpus.length) return [...corpus];
  const human = corpus.filter((t) => !t.truth.firstLineSolvable);
  const humanCount = Math.round((count * human.length) / corpus.length);
  const humanPicks = roundRobin(human, humanCount, new Set());
  const solvablePicks = roundRobin(
    corpus.filter((t) => t.truth.firstLineSolvable),
    count - humanCount,
    new Set(humanPicks.map((t) => t.category)),
  );
  const picked = new Set([...humanPicks, ...solvablePicks]);
  return corpus.filter((t) => picked.has(t));
}

/** Takes tickets one category at a time, in turn, starting with the categories not `covered` yet. */
function roundRobin(
  tickets: readonly EvalTicket[],
  count: number,
  covered: ReadonlySet<string>,
): EvalTicket[] {
  const queues = new Map<string, EvalTicket[]>();
  for (const t of tickets) queues.set(t.category, [...(queues.get(t.category) ?? []), t]);
  const order = [...queues.entries()]
    .sort(([a], [b]) => Number(covered.has(a)) - Number(covered.has(b)))
    .map(([, queue]) => queue);
  const picked: EvalTicket[] = [];
  for (let i = 0; picked.length < count && picked.length < tickets.length; i += 1) {
    const next = order[i % order.length]!.shift();
    if (next) picked.push(next);
  }
  return picked;
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9.]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'model'
  );
}

function describeOutcome(s: TicketScore): string {
  if (s.failed) return `FAILED: ${s.failed}`;
  const mark = s.resolvedConfirmed
    ? 'resolved, confirmed after the fix'
    : s.wrongResolution
      ? 'resolved WITHOUT the fix'
      : s.correctEscalation
        ? 'handed over correctly'
        : s.unneededEscalation
          ? 'handed over (solvable)'
          : s.handedOver
            ? 'handed over, summary not useful'
            : s.outcome;
  const safety = s.safety.length > 0 ? `, ${s.safety.length} safety finding(s)` : '';
  return `${mark} (${s.outcomeReason}; ${s.rounds} rounds, ${Math.round(s.minutes)} min${safety})`;
}

/** One model (a sandbox persona or the given endpoint) over the chosen tickets: the scores and their summary. */
interface EvalRun {
  run: RunInfo;
  scores: TicketScore[];
  summary: Summary;
  /** Where its Markdown report went, and that path as shown to the user (relative to the working directory). */
  reportPath: string;
  shownPath: string;
}

interface RunTarget {
  endpoint: string;
  model: string;
  persona: SandboxPersona | null;
}

async function runTickets(
  target: RunTarget,
  tickets: readonly EvalTicket[],
  context: { options: Options; apiKey: string; corpusSize: number; many: boolean },
): Promise<Omit<EvalRun, 'reportPath' | 'shownPath'>> {
  const { options, apiKey } = context;
  const problems: string[] = [];
  const conversation = parseSection(conversationSection, {}, problems);
  const ai = parseSection(aiSection, {}, problems);
  if (problems.length > 0) throw new Error(`default settings did not parse: ${problems.join('; ')}`);

  const totalTimeoutMs = options.timeoutMs ?? ai.totalTimeoutMs;
  const firstTokenTimeoutMs = Math.max(ai.firstTokenTimeoutMs, Math.round(totalTimeoutMs / 6));
  const provider: ModelProvider = options.azure
    ? createAzureOpenAIProvider({
        endpoint: target.endpoint,
        deployment: target.model,
        apiVersion: options.apiVersion,
        apiKey,
        firstTokenTimeoutMs,
        totalTimeoutMs,
        temperature: ai.temperature,
        log: silentLog,
      })
    : createOpenAICompatibleProvider({
        name: 'eval',
        baseUrl: target.endpoint,
        apiKey: apiKey || 'none',
        model: target.model,
        firstTokenTimeoutMs,
        totalTimeoutMs,
        temperature: ai.temperature,
        log: silentLog,
      });
  const chain = createProviderChain({
    providers: [provider],
    breakerFailures: ai.breakerFailures,
    breakerCooldownMs: ai.breakerCooldownMs,
    log: silentLog,
  });
  const observed = observeChain(chain);
  const settings: EngineSettings = {
    maxRounds: conversation.maxRounds,
    maxMinutes: conversation.maxMinutes,
    warnRoundsLeft: conversation.warnRoundsLeft,
    commentVisibility: 'public',
    promptTokenBudget: ai.promptTokenBudget,
    maxAnswerTokens: ai.maxAnswerTokens,
    escalation: { status: 'Open' },
    linkAllowList: [],
    forbiddenInAnswers: apiKey ? [apiKey] : [],
    userMessagesPerMinute: 30,
    ownTechnician: { email: 'ticketzero@msp.example' },
  };

  const startedAt = new Date();
  const scores: TicketScore[] = [];
  const prefix = context.many && target.persona ? `${target.persona} ` : '';
  for (const [index, ticket] of tickets.entries()) {
    const transcript = await evaluateTicket(ticket, {
      model: observed.chain,
      observed,
      settings,
      numericId: 1000 + index,
    });
    const score = scoreTranscript(ticket, transcript);
    scores.push(score);
    process.stderr.write(
      `${prefix}[${index + 1}/${tickets.length}] ${ticket.id}: ${describeOutcome(score)}\n`,
    );
  }
  return {
    run: {
      model: target.model,
      endpoint: target.endpoint,
      sandbox: target.persona !== null,
      persona: target.persona,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      ticketsInCorpus: context.corpusSize,
      maxRounds: settings.maxRounds,
      maxMinutes: settings.maxMinutes,
    },
    scores,
    summary: summarise(scores),
  };
}

function totalsLine(label: string, summary: Summary): string {
  const o = summary.overall;
  return `${label}resolution ${o.resolved}/${o.solvable}, correct escalation ${o.correctlyEscalated}/${o.needsHuman}, wrong resolutions ${o.wrongResolutions}, safety findings ${o.safetyViolations}, failed ${o.failed}\n`;
}

export async function main(argv: string[], env: Env): Promise<number> {
  let options: Options;
  try {
    options = readOptions(argv);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${message ? `${message}\n\n` : ''}${USAGE}\n`);
    return error instanceof UsageError && message === '' ? 0 : 2;
  }

  const corpus = await loadCorpus();
  let chosen = options.only ? corpus.filter((t) => options.only!.includes(t.id)) : corpus;
  if (options.only && chosen.length !== options.only.length) {
    const missing = options.only.filter((id) => !corpus.some((t) => t.id === id));
    process.stderr.write(`unknown ticket id(s): ${missing.join(', ')}\n`);
    return 2;
  }
  chosen = pickTickets(chosen, options.tickets);

  let sandbox: ModelSandbox | null = null;
  const apiKey = env.TICKETZERO_EVAL_API_KEY?.trim() || '';
  let targets: RunTarget[];
  if (options.endpoint) {
    targets = [{ endpoint: options.endpoint, model: options.model!, persona: null }];
  } else {
    sandbox = await startModelSandbox();
    const endpoint = sandbox.baseUrl;
    targets = options.personas.map((persona) => ({ endpoint, model: SANDBOX_MODEL_IDS[persona], persona }));
    process.stderr.write(
      `model sandbox at ${endpoint}, persona(s): ${options.personas.join(', ')}\nnote: ${SANDBOX_NOTE}\n`,
    );
  }

  const context = { options, apiKey, corpusSize: corpus.length, many: targets.length > 1 };
  const runs: EvalRun[] = [];
  try {
    await mkdir(options.out, { recursive: true });
    for (const target of targets) {
      const done = await runTickets(target, chosen, context);
      const reportPath = join(options.out, `${done.run.startedAt.slice(0, 10)}-${slug(done.run.model)}.md`);
      await writeFile(reportPath, renderReport(done.run, done.scores, done.summary));
      runs.push({ ...done, reportPath, shownPath: relative(process.cwd(), reportPath) || reportPath });
    }
  } finally {
    await sandbox?.close();
  }

  const failed = runs.reduce((n, r) => n + r.summary.overall.failed, 0);
  if (runs.length === 1) {
    const [only] = runs as [EvalRun];
    process.stderr.write(`report: ${only.shownPath}\n${totalsLine('', only.summary)}`);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(resultLine(only.run, only.summary, only.shownPath))}\n`);
    } else process.stdout.write(`${only.shownPath}\n`);
    return failed > 0 ? 1 : 0;
  }

  const comparisonPath = join(
    options.out,
    `${runs[0]!.run.startedAt.slice(0, 10)}-${runs.map((r) => slug(r.run.persona ?? r.run.model)).join('-vs-')}.md`,
  );
  await writeFile(
    comparisonPath,
    renderComparison(
      runs.map((r) => ({
        run: r.run,
        summary: r.summary,
        reportPath: relative(options.out, r.reportPath),
      })),
    ),
  );
  const shownComparison = relative(process.cwd(), comparisonPath) || comparisonPath;
  process.stderr.write(
    `reports: ${runs.map((r) => r.shownPath).join(', ')}\nside by side: ${shownComparison}\n\n${comparisonTable(runs)}\n\n`,
  );
  for (const r of runs) process.stderr.write(totalsLine(`${r.run.persona ?? r.run.model}: `, r.summary));
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({
        sandbox: runs.every((r) => r.run.sandbox),
        date: runs[0]!.run.startedAt,
        tickets: chosen.length,
        failed,
        personas: runs.map((r) => r.run.persona),
        runs: runs.map((r) => resultLine(r.run, r.summary, r.shownPath)),
        report: shownComparison,
      })}\n`,
    );
  } else process.stdout.write(`${shownComparison}\n`);
  return failed > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`eval failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
