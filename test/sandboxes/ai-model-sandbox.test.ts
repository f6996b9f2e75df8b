import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAICompatibleProvider } from '../../src/adapters/ai/openai-compatible-provider.js';
import { parseAssistantReply, type AssistantReply } from '../../src/engine/prompt/assistant-reply.js';
import { buildSupportPrompt, type TranscriptEntry } from '../../src/engine/prompt/support-prompt.js';
import { silentLog } from '../../src/ports/log.js';
import type { Ticket } from '../../src/ports/ticket-desk.js';
import { startModelSandbox, type ModelSandbox } from '../../src/sandboxes/model/model-sandbox.js';
import { megan, rmmDevices, vpnTicket } from '../unit/prompt/support-fixtures.js';

let sandbox: ModelSandbox;
beforeAll(async () => {
  sandbox = await startModelSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => {
  sandbox.faults.clear();
  sandbox.setAnswerDelay(0);
});

/** One round the way the engine runs it: prompt → provider over HTTP → parsed reply. */
async function round(
  ticket: Ticket,
  transcript: TranscriptEntry[],
  preferredLanguage = 'en-US',
): Promise<AssistantReply> {
  const provider = createOpenAICompatibleProvider({
    name: 'local',
    baseUrl: sandbox.baseUrl,
    apiKey: 'lm-studio',
    model: 'ticketzero-sandbox',
    firstTokenTimeoutMs: 2000,
    totalTimeoutMs: 5000,
    temperature: 0,
    log: silentLog,
  });
  const messages = buildSupportPrompt({
    ticket,
    user: megan({ preferredLanguage }),
    devices: rmmDevices,
    transcript,
    roundsLeft: 10,
    minutesLeft: 30,
    tokenBudget: 3000,
    awaitingConfirmation: false,
  });
  const result = await provider.complete({ messages });
  if (result.status !== 'ok') throw new Error(`model failed: ${result.status} ${result.error}`);
  return parseAssistantReply(result.text);
}

async function conversation(
  ticket: Ticket,
  userMessages: string[],
  preferredLanguage?: string,
): Promise<AssistantReply[]> {
  const transcript: TranscriptEntry[] = [];
  const replies: AssistantReply[] = [];
  const first = await round(ticket, transcript, preferredLanguage);
  replies.push(first);
  transcript.push({ role: 'assistant', text: first.text });
  for (const text of userMessages) {
    transcript.push({ role: 'user', text });
    const reply = await round(ticket, transcript, preferredLanguage);
    replies.push(reply);
    transcript.push({ role: 'assistant', text: reply.text });
  }
  return replies;
}

describe('the model sandbox', () => {
  it('says in /v1/models that it is a scripted sandbox, not an AI model', async () => {
    const client = new OpenAI({ baseURL: sandbox.baseUrl, apiKey: 'x', maxRetries: 0 });
    const models = await client.models.list();
    expect(models.data).toEqual([
      expect.objectContaining({
        id: 'ticketzero-sandbox',
        owned_by: expect.stringMatching(/not an AI model/),
      }),
      expect.objectContaining({
        id: 'plain-prose',
        owned_by: expect.stringMatching(/ignores the reply format.*not an AI model/),
      }),
    ]);
  });

  it('answers the non-streaming API with usage counts', async () => {
    const client = new OpenAI({ baseURL: sandbox.baseUrl, apiKey: 'x', maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'anything',
      messages: [{ role: 'user', content: '<user_message>\nMy printer does not print.\n</user_message>' }],
    });
    expect(completion.model).toBe('ticketzero-sandbox');
    expect(completion.choices[0]?.message.content).toMatch(
      /printer[\s\S]*\[\[ticketzero: outcome=continue; category=printer\]\]$/,
    );
    expect(completion.usage).toMatchObject({
      prompt_tokens: expect.any(Number),
      completion_tokens: expect.any(Number),
    });
  });

  it('walks through the VPN steps and proposes resolution when the user says it works now', async () => {
    const replies = await conversation(vpnTicket(), [
      'Yes, bing.com opens fine.',
      'Restarted the app, same error.',
      'It works now, thanks!',
    ]);
    expect(replies.map((r) => r.outcome)).toEqual([
      'continue',
      'continue',
      'continue',
      'resolved_pending_confirmation',
    ]);
    expect(replies.every((r) => r.formatFollowed && r.category === 'vpn')).toBe(true);
    expect(replies[0]!.text).toMatch(/^Hello Megan/);
    expect(new Set(replies.slice(0, 3).map((r) => r.text)).size).toBe(3);
  });

  it('hands a password or MFA lockout to a human, since a reset needs an admin', async () => {
    const [reply] = await conversation(
      vpnTicket({
        title: 'Locked out',
        description: 'My account is locked after too many password attempts.',
      }),
      [],
    );
    expect(reply).toMatchObject({
      outcome: 'needs_human',
      category: 'password_mfa',
      reason: expect.stringMatching(/administrator/),
    });
    expect(reply!.text).toMatch(/do not send me any password/);
  });

  it('hands over when the user asks for a person', async () => {
    const replies = await conversation(vpnTicket(), ['I want to talk to a technician please.']);
    expect(replies[1]).toMatchObject({ outcome: 'needs_human', reason: 'the user asked for a technician' });
  });

  it('hands over when the steps run out', async () => {
    const replies = await conversation(vpnTicket(), ['No.', 'Still the same.', 'Still not working.']);
    expect(replies.map((r) => r.outcome)).toEqual(['continue', 'continue', 'continue', 'needs_human']);
    expect(replies[3]!.reason).toMatch(/steps did not help/);
  });

  it.each([
    [
      'de',
      'Mein Drucker druckt nicht mehr',
      'Das Display zeigt keinen Fehler, es geht immer noch nicht.',
      'Es geht wieder!',
      /Drucker/,
    ],
    [
      'fr',
      "L'imprimante n'imprime plus",
      "Je ne vois pas d'erreur, ça ne marche toujours pas.",
      'Ça marche, merci !',
      /imprimante/,
    ],
    [
      'es',
      'La impresora no imprime',
      'No hay ningún error, todavía no funciona.',
      'Ya funciona, gracias.',
      /impresora/,
    ],
  ])(
    'answers in %s and follows the user to resolution',
    async (language, title, stillBroken, works, word) => {
      const ticket = vpnTicket({ title, description: title });
      const replies = await conversation(ticket, [stillBroken, works], `${language}-XX`);
      expect(replies.map((r) => r.outcome)).toEqual([
        'continue',
        'continue',
        'resolved_pending_confirmation',
      ]);
      expect(replies[1]!.text).toMatch(word);
      expect(replies.every((r) => r.category === 'printer')).toBe(true);
    },
  );

  it('accepts the Azure deployment path only with an api-key header and an API version', async () => {
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'hello' }] });
    const url = `${sandbox.azureEndpoint}/openai/deployments/gpt-4o/chat/completions`;
    const noKey = await fetch(`${url}?api-version=2024-10-21`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(noKey.status).toBe(401);
    const noVersion = await fetch(url, { method: 'POST', body, headers: { 'api-key': 'k' } });
    expect(noVersion.status).toBe(404);
    const ok = await fetch(`${url}?api-version=2024-10-21`, {
      method: 'POST',
      body,
      headers: { 'api-key': 'k' },
    });
    expect(ok.status).toBe(200);
  });

  it('can be switched by HTTP: faults, recorded requests and the answer delay', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${sandbox.azureEndpoint}${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    expect((await post('/_sandbox/faults', { kind: 'nonsense' })).status).toBe(400);
    expect((await post('/_sandbox/faults', { kind: '500', times: 1 })).status).toBe(200);
    const client = new OpenAI({ baseURL: sandbox.baseUrl, apiKey: 'x', maxRetries: 0 });
    const ask = () =>
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    await expect(ask()).rejects.toMatchObject({ status: 500 });
    await expect(ask()).resolves.toMatchObject({ model: 'ticketzero-sandbox' });

    expect((await post('/_sandbox/answer-delay', { ms: 150 })).status).toBe(200);
    const state = (await (await fetch(`${sandbox.azureEndpoint}/_sandbox`)).json()) as {
      answerDelayMs: number;
    };
    expect(state.answerDelayMs).toBe(150);

    const recorded = (await (await fetch(`${sandbox.azureEndpoint}/_sandbox/requests`)).json()) as {
      path: string;
    }[];
    expect(recorded.at(-1)).toMatchObject({ path: '/v1/chat/completions', body: { model: 'm' } });
    expect((await fetch(`${sandbox.azureEndpoint}/_sandbox/faults`, { method: 'DELETE' })).status).toBe(200);
  });
});
