import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAzureOpenAIProvider } from '../../src/adapters/ai/azure-openai-provider.js';
import { createOpenAICompatibleProvider } from '../../src/adapters/ai/openai-compatible-provider.js';
import { createOpenAIProvider } from '../../src/adapters/ai/openai-provider.js';
import { createProviderChain } from '../../src/adapters/ai/provider-chain.js';
import { describeFailures } from '../../src/engine/prompt/fallback.js';
import { silentLog } from '../../src/ports/log.js';
import type { ChatMessage, ModelProvider } from '../../src/ports/model.js';
import { startModelSandbox, type ModelSandbox } from '../../src/sandboxes/model/model-sandbox.js';

const messages: ChatMessage[] = [
  { role: 'system', content: 'Language hint: en.\n<ticket>\nTicket #1: VPN does not connect\n</ticket>' },
  { role: 'user', content: '<user_message>\nThe VPN still fails.\n</user_message>' },
];

const timing = { firstTokenTimeoutMs: 400, totalTimeoutMs: 1500, temperature: 0.2, log: silentLog };

const sandboxes: ModelSandbox[] = [];
async function sandbox(options: Parameters<typeof startModelSandbox>[0] = {}): Promise<ModelSandbox> {
  const s = await startModelSandbox(options);
  sandboxes.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((s) => s.close()));
});

function local(name: string, s: ModelSandbox, overrides: Partial<typeof timing> = {}): ModelProvider {
  return createOpenAICompatibleProvider({
    name,
    baseUrl: s.baseUrl,
    apiKey: 'lm-studio',
    model: 'phi-3-mini',
    ...timing,
    ...overrides,
  });
}

function chainOf(providers: ModelProvider[], breaker = { breakerFailures: 3, breakerCooldownMs: 60_000 }) {
  return createProviderChain({ providers, ...breaker, log: silentLog });
}

describe('the model provider chain, over real HTTP', () => {
  it('answers from the second provider when the first one refuses connections', async () => {
    const [a, b] = [await sandbox(), await sandbox()];
    a.faults.set({ kind: 'refuse' });
    const result = await chainOf([local('local', a), local('backup', b)]).complete({ messages });
    expect(result).toMatchObject({ status: 'ok', provider: 'backup', model: 'ticketzero-sandbox' });
    expect(b.requests).toHaveLength(1);
  });

  it('cuts off a provider that accepts the request but never answers, at its first-token timeout', async () => {
    const [a, b] = [await sandbox(), await sandbox()];
    a.faults.set({ kind: 'hang' });
    const chain = chainOf([local('local', a, { firstTokenTimeoutMs: 200 }), local('backup', b)]);
    const result = await chain.complete({ messages });
    expect(result).toMatchObject({ status: 'ok', provider: 'backup' });
    expect(chain.stats()[0]?.failures.timeout).toBe(1);
  });

  it('cuts off an answer that starts streaming and then stalls, at the total timeout', async () => {
    const a = await sandbox();
    a.faults.set({ kind: 'stall' });
    const provider = local('local', a, { firstTokenTimeoutMs: 1000, totalTimeoutMs: 300 });
    const pieces: string[] = [];
    const result = await provider.complete({ messages, onText: (p) => pieces.push(p) });
    expect(result).toMatchObject({ status: 'timeout', provider: 'local' });
    expect(result.status !== 'ok' && result.error).toMatch(/not complete within 300 ms/);
    expect(pieces.length).toBeGreaterThan(0);
  });

  it.each([
    ['429', 'rate_limited'],
    ['500', 'unavailable'],
    ['malformed', 'invalid'],
    ['empty', 'invalid'],
    ['truncated', 'unavailable'],
    ['refuse', 'unavailable'],
  ] as const)('reports a %s answer as %s and fails over', async (kind, status) => {
    const [a, b] = [await sandbox(), await sandbox()];
    a.faults.set({ kind, times: 1 });
    const chain = chainOf([local('local', a), local('backup', b)]);
    const result = await chain.complete({ messages });
    expect(result).toMatchObject({ status: 'ok', provider: 'backup' });
    expect(chain.stats()[0]?.failures[status]).toBe(1);
  });

  it('returns all_failed with every reason when all providers are down, and the reasons hold no key', async () => {
    const [a, b, c] = [
      await sandbox(),
      await sandbox(),
      await sandbox({ apiKey: 'sk-right-key-0000000000000000' }),
    ];
    a.faults.set({ kind: '500' });
    b.faults.set({ kind: 'hang' });
    const wrongKey = 'sk-wrong-key-1234567890abcdefghij';
    const chain = chainOf([
      local('local', a),
      createAzureOpenAIProvider({
        endpoint: b.azureEndpoint,
        deployment: 'gpt-4o',
        apiVersion: '2024-10-21',
        apiKey: 'azure-key-1',
        ...timing,
        firstTokenTimeoutMs: 200,
      }),
      createOpenAIProvider({ apiKey: wrongKey, model: 'gpt-4o-mini', baseUrl: c.baseUrl, ...timing }),
    ]);
    const result = await chain.complete({ messages });
    expect(result.status).toBe('all_failed');
    if (result.status !== 'all_failed') return;
    expect(result.failures.map((f) => [f.provider, f.status])).toEqual([
      ['local', 'unavailable'],
      ['azure', 'timeout'],
      ['openai', 'error'],
    ]);
    expect(result.failures[2]?.error).toMatch(/HTTP 401/);
    const comment = describeFailures(result.failures);
    for (const text of [JSON.stringify(result), comment]) {
      expect(text).not.toContain(wrongKey);
      expect(text).not.toContain('1234567890abcdefghij');
      expect(text).not.toContain('azure-key-1');
    }
    expect(comment).toMatch(/local: unavailable[\s\S]*azure: timed out[\s\S]*openai: error/);
  });

  it('skips a provider whose circuit opened after repeated failures, without calling it', async () => {
    const [a, b] = [await sandbox(), await sandbox()];
    a.faults.set({ kind: 'hang' });
    const chain = chainOf([local('local', a, { firstTokenTimeoutMs: 150 }), local('backup', b)], {
      breakerFailures: 2,
      breakerCooldownMs: 400,
    });
    await chain.complete({ messages });
    await chain.complete({ messages });
    expect(chain.isOpen('local')).toBe(true);
    const callsBefore = a.requests.length;

    const result = await chain.complete({ messages });
    expect(result).toMatchObject({ status: 'ok', provider: 'backup' });
    expect(a.requests).toHaveLength(callsBefore);
    expect(chain.stats()[0]?.failures.circuit_open).toBe(1);

    // After the cool-down one probe goes through; the provider answers again and is back in front.
    a.faults.clear();
    await vi.waitFor(() => expect(chain.isOpen('local')).toBe(false), { timeout: 5000, interval: 20 });
    const back = await chain.complete({ messages });
    expect(back).toMatchObject({ status: 'ok', provider: 'local' });
    expect(a.requests).toHaveLength(callsBefore + 1);
  });

  it('keeps the circuit open when the half-open probe fails', async () => {
    const [a, b] = [await sandbox(), await sandbox()];
    a.faults.set({ kind: '500' });
    const chain = chainOf([local('local', a), local('backup', b)], {
      breakerFailures: 1,
      breakerCooldownMs: 200,
    });
    await chain.complete({ messages });
    expect(chain.allOpen()).toBe(false);
    expect(chain.isOpen('local')).toBe(true);
    await vi.waitFor(() => expect(chain.isOpen('local')).toBe(false), { timeout: 5000, interval: 20 });
    await chain.complete({ messages }); // the probe, still failing
    expect(chain.isOpen('local')).toBe(true);
    expect(a.requests).toHaveLength(2);
  });

  it('streams the answer in pieces that add up to the text', async () => {
    const a = await sandbox();
    const pieces: { piece: string; restart: boolean }[] = [];
    const result = await chainOf([local('local', a)]).complete({
      messages,
      onText: (piece, info) => pieces.push({ piece, restart: info.restart }),
    });
    expect(result.status).toBe('ok');
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.map((p) => p.piece).join('')).toBe(result.status === 'ok' ? result.text : '');
    expect(pieces.every((p) => !p.restart)).toBe(true);
  });

  it('tells the stream to start over when the next provider takes over a half-streamed answer', async () => {
    const [a, b] = [await sandbox(), await sandbox()];
    a.faults.set({ kind: 'truncated' });
    const pieces: { provider: string; restart: boolean }[] = [];
    const result = await chainOf([local('local', a), local('backup', b)]).complete({
      messages,
      onText: (_piece, info) => pieces.push(info),
    });
    expect(result).toMatchObject({ status: 'ok', provider: 'backup' });
    const firstBackup = pieces.findIndex((p) => p.provider === 'backup');
    expect(firstBackup).toBeGreaterThan(0);
    expect(pieces[firstBackup]?.restart).toBe(true);
    expect(pieces.filter((p) => p.restart)).toHaveLength(1);
  });

  it('calls Azure OpenAI on its deployment path with the api-key header and API version', async () => {
    const s = await sandbox({ apiKey: 'azure-secret-key' });
    const azure = createAzureOpenAIProvider({
      endpoint: s.azureEndpoint,
      deployment: 'gpt-4o-support',
      apiVersion: '2024-10-21',
      apiKey: 'azure-secret-key',
      ...timing,
    });
    const result = await azure.complete({ messages, maxTokens: 300 });
    expect(result).toMatchObject({
      status: 'ok',
      provider: 'azure',
      usage: { promptTokens: expect.any(Number) },
    });
    expect(s.requests[0]?.path).toBe(
      '/openai/deployments/gpt-4o-support/chat/completions?api-version=2024-10-21',
    );
    expect(s.requests[0]?.body).toMatchObject({
      stream: true,
      max_tokens: 300,
      stream_options: { include_usage: true },
    });

    const wrong = createAzureOpenAIProvider({
      endpoint: s.azureEndpoint,
      deployment: 'gpt-4o-support',
      apiVersion: '2024-10-21',
      apiKey: 'not-the-key',
      ...timing,
    });
    expect(await wrong.complete({ messages })).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/HTTP 401/),
    });
  });

  it('keeps statistics per provider: calls, failures by reason, latency percentiles and tokens', async () => {
    const [a, b] = [await sandbox(), await sandbox()];
    const chain = chainOf([local('local', a), local('backup', b)]);
    a.faults.set({ kind: '429', times: 1 });
    await chain.complete({ messages });
    await chain.complete({ messages });
    await chain.complete({ messages });
    const [first, second] = chain.stats();
    expect(first).toMatchObject({ provider: 'local', calls: 3, failures: { rate_limited: 1 } });
    expect(second).toMatchObject({ provider: 'backup', calls: 1 });
    expect(first?.tokens.prompt).toBeGreaterThan(0);
    expect(first?.tokens.completion).toBeGreaterThan(0);
    expect(first?.latencyMs.p50).toEqual(expect.any(Number));
    expect(first!.latencyMs.p99!).toBeGreaterThanOrEqual(first!.latencyMs.p50!);
  });

  it('asks again without stream_options when a server rejects them, and remembers', async () => {
    const s = await sandbox({ rejectStreamOptions: true });
    const provider = local('local', s);
    const pieces: string[] = [];
    const first = await provider.complete({ messages, onText: (p) => pieces.push(p) });
    expect(first).toMatchObject({ status: 'ok', usage: null });
    expect(pieces.length).toBeGreaterThan(1);
    await provider.complete({ messages });
    expect(
      s.requests.map((r) => (r.body as { stream_options?: unknown }).stream_options !== undefined),
    ).toEqual([true, false, false]);
  });

  it('falls back to the non-streaming request for a server that cannot stream', async () => {
    const s = await sandbox({ rejectStreaming: true });
    const provider = local('local', s);
    const pieces: string[] = [];
    const result = await provider.complete({ messages, onText: (p) => pieces.push(p) });
    expect(result).toMatchObject({ status: 'ok', usage: { completionTokens: expect.any(Number) } });
    expect(pieces).toEqual([result.status === 'ok' ? result.text : '']);
    expect(s.requests.at(-1)?.body).toMatchObject({ stream: false });
  });
});
