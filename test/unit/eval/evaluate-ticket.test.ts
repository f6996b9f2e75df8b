import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAICompatibleProvider } from '../../../src/adapters/ai/openai-compatible-provider.js';
import { createProviderChain } from '../../../src/adapters/ai/provider-chain.js';
import type { EngineSettings } from '../../../src/engine/conversation-engine.js';
import { silentLog } from '../../../src/ports/log.js';
import { startModelSandbox, type ModelSandbox } from '../../../src/sandboxes/model/model-sandbox.js';
import { loadCorpus } from '../../../eval/corpus/load-corpus.js';
import { evaluateTicket, observeChain } from '../../../eval/runner/evaluate-ticket.js';
import { pickTickets } from '../../../eval/run-eval.js';
import { scoreTranscript } from '../../../eval/score-transcript.js';

const settings: EngineSettings = {
  maxRounds: 10,
  maxMinutes: 30,
  warnRoundsLeft: 2,
  commentVisibility: 'public',
  promptTokenBudget: 3000,
  maxAnswerTokens: 600,
  escalation: { status: 'Open' },
  linkAllowList: [],
  forbiddenInAnswers: [],
  userMessagesPerMinute: 30,
  ownTechnician: { email: 'ticketzero@msp.example' },
};

function chainTo(baseUrl: string) {
  const provider = createOpenAICompatibleProvider({
    name: 'eval',
    baseUrl,
    apiKey: 'none',
    model: 'ticketzero-sandbox',
    firstTokenTimeoutMs: 5_000,
    totalTimeoutMs: 10_000,
    temperature: 0,
    log: silentLog,
  });
  return observeChain(
    createProviderChain({
      providers: [provider],
      breakerFailures: 3,
      breakerCooldownMs: 60_000,
      log: silentLog,
    }),
  );
}

describe('running a corpus ticket through the conversation engine against the model sandbox', () => {
  let sandbox: ModelSandbox;
  beforeAll(async () => {
    sandbox = await startModelSandbox();
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('records a conversation of assistant answers and user replies that ends in an engine outcome', async () => {
    const ticket = (await loadCorpus()).find((t) => t.id === 'onedrive-sync-paused')!;
    const observed = chainTo(sandbox.baseUrl);
    const transcript = await evaluateTicket(ticket, {
      model: observed.chain,
      observed,
      settings,
      numericId: 7,
    });

    expect(transcript.error).toBeNull();
    expect(transcript.outcome).not.toBeNull();
    expect(transcript.turns[0]).toMatchObject({ round: 0, role: 'assistant' });
    expect(transcript.turns.some((t) => t.role === 'user')).toBe(true);
    expect(transcript.systemPrompt).toMatch(/TicketZero/);
    expect(transcript.tokens?.prompt).toBeGreaterThan(0);
    expect(transcript.rounds).toBeLessThanOrEqual(10);
    expect(transcript.simulatedMinutes).toBeGreaterThan(0);
    // The engine's handover note or the resolution is scored against the truth without error.
    const score = scoreTranscript(ticket, transcript);
    expect(score.failed).toBeNull();
    expect(score.replies.total).toBeGreaterThan(0);
  });

  it('reports a ticket as failed, with the reason, when the endpoint refuses connections', async () => {
    const ticket = (await loadCorpus()).find((t) => t.id === 'printer-queue-stuck')!;
    sandbox.faults.set({ kind: 'refuse' });
    try {
      const observed = chainTo(sandbox.baseUrl);
      const transcript = await evaluateTicket(ticket, {
        model: observed.chain,
        observed,
        settings,
        numericId: 8,
      });
      expect(transcript.outcome).toBeNull();
      expect(transcript.error).toMatch(/model endpoint failed: eval: /);
      expect(scoreTranscript(ticket, transcript)).toMatchObject({
        outcome: 'failed',
        resolvedConfirmed: false,
      });
    } finally {
      sandbox.faults.clear();
    }
  });
});

describe('choosing tickets for a short run', () => {
  it('spreads them over the categories with the corpus’s share of tickets that need a human', async () => {
    const corpus = await loadCorpus();
    const ten = pickTickets(corpus, 10);
    expect(ten).toHaveLength(10);
    expect(new Set(ten.map((t) => t.category)).size).toBe(10);
    expect(ten.filter((t) => !t.truth.firstLineSolvable)).toHaveLength(4);
    expect(pickTickets(corpus, 10)).toEqual(ten);
  });
});

const ROOT = join(import.meta.dirname, '../../..');

function runEval(args: string[]) {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', 'eval/run-eval.ts', ...args], {
    cwd: ROOT,
    timeout: 60_000,
  });
}

describe('npm run eval', () => {
  it('runs 10 tickets against the model sandbox and ends stdout with the JSON result', async () => {
    const out = await mkdtemp(join(tmpdir(), 'eval-report-'));
    const { stdout, stderr } = await runEval([
      '--persona',
      'scripted',
      '--tickets',
      '10',
      '--json',
      '--out',
      out,
    ]);
    const last = stdout.trim().split('\n').at(-1)!;
    const result = JSON.parse(last) as Record<string, unknown>;
    expect(result).toMatchObject({
      model: 'ticketzero-sandbox',
      persona: 'scripted',
      sandbox: true,
      tickets: 10,
      failed: 0,
      resolution_rate: expect.any(Number),
      correct_escalation_rate: expect.any(Number),
      wrong_resolution_rate: expect.any(Number),
      safety_violations: expect.any(Number),
      median_rounds: expect.any(Number),
      format_rate: 1,
    });
    expect(stderr).toMatch(/\[10\/10\]/);
    expect(stderr).toMatch(/measure the harness/);
    const report = await readFile(result.report as string, 'utf8').catch(() =>
      readFile(join(import.meta.dirname, '../../..', result.report as string), 'utf8'),
    );
    expect(report).toMatch(/Sandbox run/);
    expect(report).toMatch(/## By category/);
  });

  it('runs the same tickets with both sandbox personas and reports them side by side', async () => {
    const out = await mkdtemp(join(tmpdir(), 'eval-personas-'));
    const { stdout, stderr } = await runEval(['--persona', 'both', '--tickets', '4', '--json', '--out', out]);
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      tickets: number;
      failed: number;
      personas: string[];
      runs: Record<string, unknown>[];
      report: string;
    };
    expect(result).toMatchObject({ tickets: 4, failed: 0, personas: ['scripted', 'plain-prose'] });
    const [scripted, plain] = result.runs as [Record<string, unknown>, Record<string, unknown>];
    for (const run of [scripted, plain]) {
      expect(run).toMatchObject({
        sandbox: true,
        tickets: 4,
        failed: 0,
        resolution_rate: expect.any(Number),
        correct_escalation_rate: expect.any(Number),
        wrong_resolution_rate: expect.any(Number),
        median_rounds: expect.any(Number),
      });
    }
    expect(scripted).toMatchObject({ persona: 'scripted', model: 'ticketzero-sandbox', format_rate: 1 });
    // The plain-prose persona never writes the control line: whatever the engine did, it did without one.
    expect(plain).toMatchObject({ persona: 'plain-prose', model: 'plain-prose', format_rate: 0 });
    expect(stderr).toMatch(/^scripted \[4\/4\]/m);
    expect(stderr).toMatch(/^plain-prose \[4\/4\]/m);
    expect(stderr).toMatch(
      /User-confirmed resolution \(of solvable\) +\d+\/\d+ \([\d.]+ %\) +\d+\/\d+ \([\d.]+ %\)/,
    );

    const comparison = await readFile(join(ROOT, result.report), 'utf8');
    expect(comparison).toMatch(/\| Measure \| `scripted` \| `plain-prose` \|/);
    expect(comparison).toMatch(
      /\| Model answers that followed the reply format \| \d+\/\d+ \(100\.0 %\) \| 0\/\d+ \(0\.0 %\) \|/,
    );
    expect(comparison).toMatch(/Persona `plain-prose`/);
    const plainReport = await readFile(join(ROOT, plain.report as string), 'utf8');
    expect(plainReport).toMatch(/Persona `plain-prose`/);
  });

  it('refuses a persona it does not know, and a persona together with a real endpoint', async () => {
    await expect(runEval(['--persona', 'gpt-4o'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--persona must be one of scripted, plain-prose, both/),
    });
    await expect(
      runEval(['--endpoint', 'http://127.0.0.1:9/v1', '--model', 'm', '--persona', 'plain-prose']),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/does not go with --endpoint/) });
  });
});
