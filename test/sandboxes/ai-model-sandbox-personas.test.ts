import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAICompatibleProvider } from '../../src/adapters/ai/openai-compatible-provider.js';
import { parseAssistantReply } from '../../src/engine/prompt/assistant-reply.js';
import { detectLanguage, type SupportLanguage } from '../../src/engine/prompt/detect-language.js';
import { buildSupportPrompt, type TranscriptEntry } from '../../src/engine/prompt/support-prompt.js';
import { silentLog } from '../../src/ports/log.js';
import type { ChatMessage } from '../../src/ports/model.js';
import { startModelSandbox, type ModelSandbox } from '../../src/sandboxes/model/model-sandbox.js';
import { eventually } from '../support/waiting.js';
import { megan, rmmDevices, vpnTicket } from '../unit/prompt/support-fixtures.js';

let sandbox: ModelSandbox;
let client: OpenAI;
beforeAll(async () => {
  sandbox = await startModelSandbox();
  client = new OpenAI({ baseURL: sandbox.baseUrl, apiKey: 'x', maxRetries: 0 });
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => {
  sandbox.faults.clear();
  sandbox.setAnswerDelay(0);
  sandbox.setFirstTokenDelay(0);
});

/** Tickets and replies as users write them, per language: titles of several categories, then what they say. */
const USERS: Record<SupportLanguage, { titles: string[]; replies: string[] }> = {
  en: {
    titles: [
      'Outlook shows no new mail',
      'VPN does not connect',
      'Printer does not print',
      'Laptop is very slow',
      'OneDrive sync is paused',
      'Wi-Fi keeps dropping',
      'Account locked after password attempts',
      'Excel crashes when opening a file',
    ],
    replies: [
      'The status bar says Disconnected.',
      'I did that, it is still the same.',
      'Still not working.',
      'It works now, thanks!',
      'Can I talk to a technician please?',
      'Yes.',
    ],
  },
  de: {
    titles: [
      'Outlook zeigt keine neuen E-Mails',
      'VPN verbindet nicht',
      'Mein Drucker druckt nicht mehr',
      'Der Laptop ist sehr langsam',
      'OneDrive synchronisiert nicht',
      'Das WLAN bricht ständig ab',
      'Mein Konto ist gesperrt, Passwort falsch',
      'Excel stürzt beim Öffnen ab',
    ],
    replies: [
      'Unten steht „Getrennt“.',
      'Habe ich gemacht, es ist immer noch gleich.',
      'Es geht immer noch nicht.',
      'Das geht wieder, danke!',
      'Kann ich bitte mit einem Techniker sprechen?',
      'Ja.',
    ],
  },
  fr: {
    titles: [
      "Outlook n'affiche pas les nouveaux messages",
      'Le VPN ne se connecte pas',
      "L'imprimante n'imprime plus",
      "L'ordinateur est très lent",
      'OneDrive ne synchronise plus',
      'Le Wi-Fi se coupe sans arrêt',
      'Mon compte est verrouillé, mot de passe refusé',
      'Excel se ferme à l’ouverture',
    ],
    replies: [
      'La barre indique « Déconnecté ».',
      "Je l'ai fait, c'est toujours pareil.",
      'Ça ne marche toujours pas.',
      'Ça marche, merci !',
      "Est-ce que je peux parler à un technicien, s'il vous plaît ?",
      'Oui.',
    ],
  },
  es: {
    titles: [
      'Outlook no muestra correo nuevo',
      'La VPN no conecta',
      'La impresora no imprime',
      'El portátil va muy lento',
      'OneDrive no sincroniza',
      'El Wi-Fi se corta todo el rato',
      'Mi cuenta está bloqueada por la contraseña',
      'Excel se cierra al abrir un archivo',
    ],
    replies: [
      'La barra dice «Desconectado».',
      'Ya lo he hecho, sigue igual.',
      'Todavía no funciona.',
      'Ya funciona, gracias.',
      '¿Puedo hablar con un técnico, por favor?',
      'Sí.',
    ],
  },
};

const LANGUAGES = Object.keys(USERS) as SupportLanguage[];
const CONVERSATIONS_PER_LANGUAGE = 12;
const ROUNDS = 4;

interface Answer {
  language: SupportLanguage;
  conversation: number;
  text: string;
}

function prompt(n: number, language: SupportLanguage, transcript: TranscriptEntry[]): ChatMessage[] {
  const title = USERS[language].titles[n % USERS[language].titles.length]!;
  return buildSupportPrompt({
    ticket: vpnTicket({ id: 9000 + n, number: String(9000 + n), title, description: title }),
    user: megan({ preferredLanguage: `${language}-XX` }),
    devices: rmmDevices,
    transcript,
    roundsLeft: 10,
    minutesLeft: 30,
    tokenBudget: 3000,
    awaitingConfirmation: false,
  });
}

async function streamed(model: string, messages: ChatMessage[]): Promise<string> {
  const stream = await client.chat.completions.create({ model, messages, stream: true });
  let text = '';
  let finish: string | null = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  expect(finish).toBe('stop');
  return text;
}

async function notStreamed(model: string, messages: ChatMessage[]): Promise<string> {
  const completion = await client.chat.completions.create({ model, messages });
  expect(completion.model).toBe('plain-prose');
  return completion.choices[0]?.message.content ?? '';
}

/** One conversation of ROUNDS user replies, each answer asked for streamed and not streamed. */
async function conversation(n: number, language: SupportLanguage): Promise<Answer[]> {
  const transcript: TranscriptEntry[] = [];
  const answers: Answer[] = [];
  const replies = USERS[language].replies;
  for (let round = 0; round <= ROUNDS; round += 1) {
    if (round > 0) transcript.push({ role: 'user', text: replies[(n + round * 2) % replies.length]! });
    const messages = prompt(n, language, transcript);
    const text = await streamed('plain-prose', messages);
    expect(await notStreamed('plain-prose', messages)).toBe(text);
    answers.push({ language, conversation: n, text });
    transcript.push({ role: 'assistant', text });
  }
  return answers;
}

const MARKDOWN = /\*\*|^#{1,6} |^\d+\. /m;

describe('the model sandbox’s plain-prose persona (a model that ignores the reply format)', () => {
  let answers: Answer[];
  beforeAll(async () => {
    answers = [];
    for (const language of LANGUAGES) {
      for (let n = 0; n < CONVERSATIONS_PER_LANGUAGE; n += 1)
        answers.push(...(await conversation(n, language)));
    }
  });

  it('is listed in /v1/models beside the scripted persona, both saying they are not AI models', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['ticketzero-sandbox', 'plain-prose']);
    for (const m of models.data) expect(m.owned_by).toMatch(/not an AI model/);
  });

  it('never writes a control line, a JSON block or [[…]] in any language, streamed or not', () => {
    expect(answers).toHaveLength(LANGUAGES.length * CONVERSATIONS_PER_LANGUAGE * (ROUNDS + 1));
    for (const a of answers) {
      expect(a.text.trim().length, `conversation ${a.conversation} (${a.language})`).toBeGreaterThan(20);
      expect(a.text).not.toMatch(/\[\[|\]\]|ticketzero|outcome\s*[=:]|[{}]|```/i);
      const reply = parseAssistantReply(a.text);
      expect(reply).toMatchObject({ formatFollowed: false, outcome: 'continue', text: a.text.trim() });
    }
  });

  it('answers mostly in the user’s language, and sometimes in English to a German, French or Spanish user', () => {
    for (const language of LANGUAGES) {
      const mine = answers.filter((a) => a.language === language);
      const inLanguage = mine.filter((a) => detectLanguage(a.text) === language).length;
      expect(inLanguage / mine.length, language).toBeGreaterThanOrEqual(0.6);
    }
    const englishToOthers = answers.filter((a) => a.language !== 'en' && detectLanguage(a.text) === 'en');
    expect(englishToOthers.length).toBeGreaterThan(0);
  });

  it('sometimes wraps its answer in Markdown, and mostly does not', () => {
    const markdown = answers.filter((a) => MARKDOWN.test(a.text)).length;
    expect(markdown).toBeGreaterThan(0);
    expect(markdown).toBeLessThan(answers.length / 2);
  });

  it('gives the same answers to the same conversation, and different ones to different conversations', async () => {
    const again = await conversation(3, 'de');
    expect(again.map((a) => a.text)).toEqual(
      answers.filter((a) => a.language === 'de' && a.conversation === 3).map((a) => a.text),
    );
    expect(new Set(answers.map((a) => a.text)).size).toBeGreaterThan(answers.length / 4);
  });

  it('says nothing the engine could read as an outcome when the user says it works or asks for a person', async () => {
    const transcript: TranscriptEntry[] = [{ role: 'assistant', text: 'Bitte starten Sie den Drucker neu.' }];
    transcript.push({ role: 'user', text: 'Das geht wieder, danke!' });
    const works = await streamed('plain-prose', prompt(2, 'de', transcript));
    transcript.push({ role: 'assistant', text: works }, { role: 'user', text: 'Ich will einen Techniker.' });
    const human = await streamed('plain-prose', prompt(2, 'de', transcript));
    for (const text of [works, human]) {
      expect(parseAssistantReply(text)).toMatchObject({ outcome: 'continue', formatFollowed: false });
    }
    expect(works).toMatch(/funktioniert|works/);
    expect(human).toMatch(/Techniker|technician/);
  });

  it('answers through the engine’s provider as a plain answer with no outcome', async () => {
    const provider = createOpenAICompatibleProvider({
      name: 'local',
      baseUrl: sandbox.baseUrl,
      apiKey: 'lm-studio',
      model: 'plain-prose',
      firstTokenTimeoutMs: 2000,
      totalTimeoutMs: 5000,
      temperature: 0,
      log: silentLog,
    });
    const result = await provider.complete({ messages: prompt(0, 'fr', []) });
    expect(result).toMatchObject({ status: 'ok', model: 'plain-prose' });
    if (result.status === 'ok') expect(parseAssistantReply(result.text).formatFollowed).toBe(false);
  });

  it('is chosen by the deployment name on the Azure path', async () => {
    const response = await fetch(
      `${sandbox.azureEndpoint}/openai/deployments/plain-prose/chat/completions?api-version=2024-10-21`,
      {
        method: 'POST',
        headers: { 'api-key': 'k', 'content-type': 'application/json' },
        body: JSON.stringify({ messages: prompt(1, 'es', []) }),
      },
    );
    const body = (await response.json()) as { model: string; choices: { message: { content: string } }[] };
    expect(body.model).toBe('plain-prose');
    expect(body.choices[0]!.message.content).not.toMatch(/\[\[/);
  });
});

/** Milliseconds from the request to the response headers and to the first SSE event. */
async function timeToFirstEvent(
  model: string,
): Promise<{ headersMs: number; firstEventMs: number; body: string }> {
  const started = performance.now();
  const response = await fetch(`${sandbox.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, messages: prompt(0, 'en', []) }),
  });
  const headersMs = performance.now() - started;
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/event-stream');
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const first = await reader.read();
  const firstEventMs = performance.now() - started;
  let body = decoder.decode(first.value);
  for (let next = await reader.read(); !next.done; next = await reader.read())
    body += decoder.decode(next.value);
  return { headersMs, firstEventMs, body };
}

describe('a slow model in the sandbox (stalls before its first token)', () => {
  it('sends the stream’s headers at once and its first event after the @first-token delay of the model name', async () => {
    const { headersMs, firstEventMs, body } = await timeToFirstEvent('plain-prose@first-token-300ms');
    expect(firstEventMs).toBeGreaterThanOrEqual(295);
    // The connection is open and answered (200, SSE headers) all through the stall.
    expect(firstEventMs - headersMs).toBeGreaterThanOrEqual(250);
    expect(body.startsWith('data: ')).toBe(true);
    expect(body).toMatch(/"model":"plain-prose"/);
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('stalls every request for the delay switched on by HTTP, unless the model name asks for its own', async () => {
    const post = await fetch(`${sandbox.azureEndpoint}/_sandbox/first-token-delay`, {
      method: 'POST',
      body: JSON.stringify({ ms: 300 }),
    });
    expect(post.status).toBe(200);
    const state = (await (await fetch(`${sandbox.azureEndpoint}/_sandbox`)).json()) as {
      firstTokenDelayMs: number;
    };
    expect(state.firstTokenDelayMs).toBe(300);
    expect((await timeToFirstEvent('ticketzero-sandbox')).firstEventMs).toBeGreaterThanOrEqual(295);

    sandbox.setFirstTokenDelay(5000);
    const provider = (model: string) =>
      createOpenAICompatibleProvider({
        name: 'local',
        baseUrl: sandbox.baseUrl,
        apiKey: 'x',
        model,
        firstTokenTimeoutMs: 1000,
        totalTimeoutMs: 10_000,
        temperature: 0,
        log: silentLog,
      });
    const ownDelay = await provider('plain-prose@first-token-0ms').complete({
      messages: prompt(0, 'en', []),
    });
    expect(ownDelay).toMatchObject({ status: 'ok' });
    const stalled = await provider('plain-prose').complete({ messages: prompt(0, 'en', []) });
    expect(stalled).toMatchObject({ status: 'timeout', error: expect.stringMatching(/first token/) });
    expect(
      (
        await fetch(`${sandbox.azureEndpoint}/_sandbox/first-token-delay`, {
          method: 'POST',
          body: '{"ms":-1}',
        })
      ).status,
    ).toBe(400);
  });

  it('holds a non-streaming answer back for the delay', async () => {
    const started = performance.now();
    const completion = await client.chat.completions.create({
      model: 'ticketzero-sandbox@first-token-0.3s',
      messages: prompt(0, 'en', []),
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
    expect(completion.model).toBe('ticketzero-sandbox');
    expect(completion.choices[0]?.message.content).toMatch(/\[\[ticketzero: outcome=continue/);
  });

  it('lets the engine’s provider wait through a stall shorter than its first-token timeout', async () => {
    const provider = createOpenAICompatibleProvider({
      name: 'local',
      baseUrl: sandbox.baseUrl,
      apiKey: 'x',
      model: 'plain-prose@first-token-300ms',
      firstTokenTimeoutMs: 3000,
      totalTimeoutMs: 10_000,
      temperature: 0,
      log: silentLog,
    });
    const result = await provider.complete({ messages: prompt(0, 'de', []) });
    expect(result).toMatchObject({ status: 'ok', model: 'plain-prose' });
    if (result.status === 'ok') expect(result.latencyMs).toBeGreaterThanOrEqual(295);
  });

  it('keeps its faults: a truncated answer drops after the stall, a 429 comes instead of it', async () => {
    const provider = (model: string) =>
      createOpenAICompatibleProvider({
        name: 'local',
        baseUrl: sandbox.baseUrl,
        apiKey: 'x',
        model,
        firstTokenTimeoutMs: 10_000,
        totalTimeoutMs: 20_000,
        temperature: 0,
        log: silentLog,
      });
    sandbox.faults.set({ kind: 'truncated', times: 1 });
    let started = performance.now();
    const truncated = await provider('plain-prose@first-token-300ms').complete({
      messages: prompt(0, 'en', []),
    });
    expect(truncated).toMatchObject({
      status: 'unavailable',
      error: expect.stringMatching(/characters of answer/),
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);

    sandbox.faults.set({ kind: '429', times: 1 });
    started = performance.now();
    const limited = await provider('plain-prose@first-token-8s').complete({ messages: prompt(0, 'en', []) });
    expect(limited).toMatchObject({ status: 'rate_limited' });
    expect(performance.now() - started).toBeLessThan(8000);
  });

  it('refuses a model name whose suffix it cannot read, so a typo does not run without the stall', async () => {
    for (const model of [
      'plain-prose@first-token-40',
      'plain-prose@first-token-forty-s',
      'x@first-token-11min',
    ]) {
      await expect(
        client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }),
      ).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    }
  });

  it('ends a stalled answer when the sandbox closes', async () => {
    const own = await startModelSandbox({ firstTokenDelayMs: 40_000 });
    const pending = fetch(`${own.baseUrl}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'plain-prose',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    }).then((r) => r.text());
    // Closed once the request is in and stalled, not before it arrives.
    await eventually(() => expect(own.requests).toHaveLength(1));
    await own.close();
    await expect(pending).rejects.toThrow();
  });
});
