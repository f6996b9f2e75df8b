import { describe, expect, it } from 'vitest';
import { createProviderChain } from '../../../src/adapters/ai/provider-chain.js';
import { silentLog } from '../../../src/ports/log.js';
import type { ModelProvider, ProviderResult } from '../../../src/ports/model.js';

function scripted(name: string, answers: (ProviderResult | Error)[]): ModelProvider & { calls: number } {
  const provider = {
    name,
    calls: 0,
    async complete(): Promise<ProviderResult> {
      const next = answers[provider.calls++] ?? answers.at(-1)!;
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return provider;
}

const ok = (provider: string): ProviderResult => ({
  status: 'ok',
  text: 'Restart it.',
  provider,
  model: 'm',
  usage: null,
  latencyMs: 5,
});
const down = (provider: string): ProviderResult => ({ status: 'unavailable', provider, error: 'HTTP 503' });

describe('the provider chain’s rules', () => {
  it('tries providers in order and stops at the first answer', async () => {
    const [a, b, c] = [scripted('a', [down('a')]), scripted('b', [ok('b')]), scripted('c', [ok('c')])];
    const chain = createProviderChain({
      providers: [a, b, c],
      breakerFailures: 3,
      breakerCooldownMs: 60_000,
      log: silentLog,
    });
    expect(chain.providers).toEqual(['a', 'b', 'c']);
    expect(await chain.complete({ messages: [] })).toMatchObject({ status: 'ok', provider: 'b' });
    expect([a.calls, b.calls, c.calls]).toEqual([1, 1, 0]);
  });

  it('treats a provider that throws like any failed provider', async () => {
    const a = scripted('a', [new TypeError('bug in adapter')]);
    const chain = createProviderChain({
      providers: [a, scripted('b', [ok('b')])],
      breakerFailures: 3,
      breakerCooldownMs: 60_000,
      log: silentLog,
    });
    expect(await chain.complete({ messages: [] })).toMatchObject({ status: 'ok', provider: 'b' });
    expect(chain.stats()[0]?.failures.error).toBe(1);
  });

  it('does not try further providers once the caller gave up', async () => {
    const b = scripted('b', [ok('b')]);
    const chain = createProviderChain({
      providers: [scripted('a', [down('a')]), b],
      breakerFailures: 3,
      breakerCooldownMs: 60_000,
      log: silentLog,
    });
    const controller = new AbortController();
    controller.abort();
    const result = await chain.complete({ messages: [], signal: controller.signal });
    expect(result).toMatchObject({ status: 'all_failed' });
    expect(b.calls).toBe(0);
  });

  it('reports all providers open only when every circuit is open', async () => {
    const chain = createProviderChain({
      providers: [scripted('a', [down('a')]), scripted('b', [down('b')])],
      breakerFailures: 1,
      breakerCooldownMs: 60_000,
      log: silentLog,
    });
    expect(chain.allOpen()).toBe(false);
    const result = await chain.complete({ messages: [] });
    expect(result).toMatchObject({ status: 'all_failed', failures: [{ provider: 'a' }, { provider: 'b' }] });
    expect(chain.allOpen()).toBe(true);
    const skipped = await chain.complete({ messages: [] });
    expect(skipped).toMatchObject({
      status: 'all_failed',
      failures: [{ status: 'circuit_open' }, { status: 'circuit_open' }],
    });
  });
});
