/**
 * A local server speaking the OpenAI chat-completions API (and Azure OpenAI's deployment path), answering with
 * a scripted support assistant. It is a sandbox, not a model, and `/v1/models` says so. Tests point the real
 * `openai` client at it and switch on the faults real providers show.
 *
 * The request's model name (on the Azure path: the body's `model`, else the deployment name) picks the persona:
 * - `ticketzero-sandbox` (the default; unknown names get it too): follows TicketZero's reply format and ends every
 *   answer with the `[[ticketzero: …]]` control line (scripted-support-assistant.ts);
 * - `plain-prose`: ignores every format instruction — sensible support prose in the user's language, never a
 *   control line, a JSON block or `[[…]]`; sometimes English to a German, French or Spanish user, sometimes
 *   Markdown; deterministic per conversation (plain-prose-assistant.ts).
 *
 * A slow model, by name or by switch:
 * - suffix `@first-token-<N>ms` or `@first-token-<N>s` on either name (`plain-prose@first-token-40s`): that request
 *   stalls N before its first token;
 * - `firstTokenDelayMs` (option), `setFirstTokenDelay(ms)` or `POST /_sandbox/first-token-delay {"ms":40000}`:
 *   every request without a suffix stalls so long.
 * A stalling stream answers `200` with its SSE headers at once and then sends nothing until the delay is over —
 * the connection stays open, as a real server's does while it reads a long prompt — then streams the answer.
 * A non-streaming request gets nothing until the delay is over. The answer delay (`answerDelayMs`) is older and
 * different: nothing at all, not even headers, before the answer. Faults apply as before: `hang`, `refuse`,
 * `429` and `500` come instead of the stall; `stall`, `truncated`, `malformed` and `empty` come after it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  MAX_FIRST_TOKEN_DELAY_MS,
  SANDBOX_MODEL_DESCRIPTIONS,
  SANDBOX_MODEL_IDS,
  SANDBOX_PERSONAS,
  readSandboxModel,
  sandboxAnswer,
} from './sandbox-models.js';
import type { ChatTurn } from './support-playbook.js';

/** The default persona's model id (format-following, scripted). */
export const SANDBOX_MODEL_ID = SANDBOX_MODEL_IDS.scripted;
/** The persona that ignores every format instruction. */
export const PLAIN_PROSE_MODEL_ID = SANDBOX_MODEL_IDS['plain-prose'];

export type ModelSandboxFaultKind =
  'refuse' | 'hang' | 'stall' | '429' | '500' | 'truncated' | 'malformed' | 'empty';

export interface ModelSandboxFault {
  /**
   * refuse: the connection is dropped at once; hang: no response at all; stall: the answer starts streaming,
   * then stops; 429 / 500: an error status like OpenAI's; truncated: the connection drops mid-answer;
   * malformed: the body (or a stream event) is not JSON; empty: a well-formed answer with no text.
   */
  kind: ModelSandboxFaultKind;
  /** How many model requests get the fault; every one until cleared when absent. */
  times?: number;
}

export interface RecordedModelRequest {
  /** Path with query string, e.g. `/v1/chat/completions` or `/openai/deployments/d/chat/completions?api-version=…`. */
  path: string;
  body: unknown;
}

export interface ModelSandbox {
  /** OpenAI-style base URL, ending with /v1. */
  baseUrl: string;
  /** Azure OpenAI endpoint (the deployment path goes below it). */
  azureEndpoint: string;
  close(): Promise<void>;
  requests: RecordedModelRequest[];
  faults: { set(fault: ModelSandboxFault): void; clear(): void };
  setAnswerDelay(ms: number): void;
  /** Stall before the first token of every request whose model name has no `@first-token-…` suffix; 0: none. */
  setFirstTokenDelay(ms: number): void;
}

export interface ModelSandboxOptions {
  port?: number;
  host?: string;
  /** A fixed delay before each answer, standing in for the model's thinking time. */
  answerDelayMs?: number;
  /**
   * A stall before the first token of each answer (SSE headers go out at once), for requests whose model name
   * has no `@first-token-…` suffix. Default 0.
   */
  firstTokenDelayMs?: number;
  /** When set, requests must carry this key (Bearer on /v1, `api-key` on the Azure path). */
  apiKey?: string;
  /** Answer 400 to `stream_options`, like older Azure API versions and older vLLM. */
  rejectStreamOptions?: boolean;
  /** Answer 400 to `stream: true`, like servers without streaming. */
  rejectStreaming?: boolean;
}

const AZURE_PATH = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;

export async function startModelSandbox(options: ModelSandboxOptions = {}): Promise<ModelSandbox> {
  const host = options.host ?? '127.0.0.1';
  let answerDelayMs = options.answerDelayMs ?? 0;
  let firstTokenDelayMs = options.firstTokenDelayMs ?? 0;
  let fault: { kind: ModelSandboxFaultKind; left: number } | null = null;
  const requests: RecordedModelRequest[] = [];
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();
  let counter = 0;

  const takeFault = (): ModelSandboxFaultKind | null => {
    if (!fault) return null;
    const kind = fault.kind;
    fault.left -= 1;
    if (fault.left <= 0) fault = null;
    return kind;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, openAIError(String(error), 'server_error'));
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const raw = await readBody(req);

    if (url.pathname.startsWith('/_sandbox')) return control(req.method ?? 'GET', url.pathname, raw, res);

    if (req.method === 'GET' && url.pathname === '/v1/models') {
      return sendJson(res, 200, {
        object: 'list',
        data: SANDBOX_PERSONAS.map((persona) => ({
          id: SANDBOX_MODEL_IDS[persona],
          object: 'model',
          created: 0,
          owned_by: SANDBOX_MODEL_DESCRIPTIONS[persona],
        })),
      });
    }

    const azure = AZURE_PATH.exec(url.pathname);
    if (req.method !== 'POST' || !(url.pathname === '/v1/chat/completions' || azure)) {
      return sendJson(
        res,
        404,
        openAIError(`No route for ${req.method} ${url.pathname}`, 'invalid_request_error'),
      );
    }

    if (azure) {
      if (!url.searchParams.get('api-version')) {
        return sendJson(res, 404, { error: { code: '404', message: 'Resource not found' } });
      }
      const key = req.headers['api-key'];
      if (!key || (options.apiKey && key !== options.apiKey)) {
        return sendJson(res, 401, {
          error: {
            code: '401',
            message: 'Access denied due to invalid subscription key or wrong API endpoint.',
          },
        });
      }
    } else if (options.apiKey) {
      const given = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
      if (given !== options.apiKey) {
        return sendJson(
          res,
          401,
          openAIError(`Incorrect API key provided: ${given}.`, 'invalid_request_error', 'invalid_api_key'),
        );
      }
    }

    const kind = takeFault();
    if (kind === 'refuse') {
      req.socket.destroy();
      return;
    }

    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return sendJson(res, 400, openAIError('The request body is not valid JSON.', 'invalid_request_error'));
    }
    requests.push({ path: url.pathname + url.search, body });
    const messages = readMessages(body);
    if (!messages) {
      return sendJson(res, 400, openAIError("'messages' is a required property", 'invalid_request_error'));
    }
    const askedModel = (body as { model?: unknown }).model;
    const choice = readSandboxModel(typeof askedModel === 'string' ? askedModel : (azure?.[1] ?? null));
    if ('error' in choice) {
      return sendJson(res, 404, openAIError(choice.error, 'invalid_request_error', 'model_not_found'));
    }
    const model = choice.modelId;
    const stallMs = choice.firstTokenDelayMs ?? firstTokenDelayMs;

    const asked = body as { stream?: unknown; stream_options?: unknown };
    if (options.rejectStreamOptions && asked.stream_options !== undefined) {
      return sendJson(
        res,
        400,
        openAIError('Unrecognized request argument supplied: stream_options', 'invalid_request_error'),
      );
    }
    if (options.rejectStreaming && asked.stream === true) {
      return sendJson(
        res,
        400,
        openAIError('stream is not supported by this server', 'invalid_request_error'),
      );
    }

    if (kind === 'hang') {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (kind === '429') {
      res.setHeader('retry-after', '1');
      return sendJson(
        res,
        429,
        openAIError('Rate limit reached for requests', 'requests', 'rate_limit_exceeded'),
      );
    }
    if (kind === '500') {
      return sendJson(
        res,
        500,
        openAIError('The server had an error while processing your request.', 'server_error'),
      );
    }

    if (answerDelayMs > 0) {
      const closed = await delayUnlessClosed(answerDelayMs, res);
      if (closed) return;
    }

    const content = kind === 'empty' ? '' : sandboxAnswer(choice.persona, messages);
    const fingerprint = `ticketzero-sandbox-${choice.persona}`;
    const id = `chatcmpl-sandbox-${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = {
      prompt_tokens: messages.reduce((n, m) => n + 4 + countTokens(m.content), 3),
      completion_tokens: countTokens(content),
      total_tokens: 0,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const stream = (body as { stream?: unknown }).stream === true;

    if (!stream) {
      if (stallMs > 0 && (await delayUnlessClosed(stallMs, res))) return;
      const completion = JSON.stringify({
        id,
        object: 'chat.completion',
        created,
        model,
        system_fingerprint: fingerprint,
        choices: [
          { index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' },
        ],
        usage,
      });
      if (kind === 'malformed')
        return sendRaw(res, 200, completion.slice(0, Math.floor(completion.length / 2)));
      if (kind === 'truncated' || kind === 'stall') {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(completion.length),
        });
        res.write(completion.slice(0, Math.floor(completion.length / 2)));
        if (kind === 'truncated') res.destroy();
        else held.add(res);
        return;
      }
      return sendRaw(res, 200, completion);
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: fingerprint, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    const pieces = splitIntoPieces(content);
    if (stallMs > 0) {
      // Headers go out now; the first event (the role, with the first token) waits, as on vLLM or LM Studio.
      res.flushHeaders();
      if (await delayUnlessClosed(stallMs, res)) return;
    }
    res.write(chunk({ role: 'assistant', content: '' }, null));

    if (kind === 'malformed') {
      res.write(chunk({ content: pieces[0] ?? 'Hello' }, null));
      res.end(`data: {"id":"${id}","choices":[{"delta":{"content":"Hel\n\n`);
      return;
    }
    const cut =
      kind === 'truncated' || kind === 'stall' ? Math.max(1, Math.floor(pieces.length / 2)) : pieces.length;
    for (const piece of pieces.slice(0, cut)) {
      res.write(chunk({ content: piece }, null));
      await new Promise((resolve) => setImmediate(resolve));
      if (res.destroyed) return;
    }
    if (kind === 'truncated') {
      res.destroy();
      return;
    }
    if (kind === 'stall') {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    res.write(chunk({}, 'stop'));
    const streamOptions = (body as { stream_options?: { include_usage?: unknown } }).stream_options;
    if (streamOptions?.include_usage === true) {
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`,
      );
    }
    res.end('data: [DONE]\n\n');
  }

  function control(method: string, path: string, raw: string, res: ServerResponse): void {
    const input = raw ? (safeJson(raw) as Record<string, unknown> | null) : {};
    if (method === 'GET' && path === '/_sandbox/requests') return sendJson(res, 200, requests);
    if (method === 'POST' && path === '/_sandbox/faults') {
      const kind = input?.['kind'];
      if (typeof kind !== 'string' || !FAULT_KINDS.includes(kind as ModelSandboxFaultKind)) {
        return sendJson(res, 400, { error: `kind must be one of ${FAULT_KINDS.join(', ')}` });
      }
      const times = input?.['times'];
      sandbox.faults.set({
        kind: kind as ModelSandboxFaultKind,
        ...(typeof times === 'number' ? { times } : {}),
      });
      return sendJson(res, 200, { fault: kind });
    }
    if (method === 'DELETE' && path === '/_sandbox/faults') {
      sandbox.faults.clear();
      return sendJson(res, 200, { fault: null });
    }
    if (method === 'POST' && path === '/_sandbox/answer-delay') {
      const ms = input?.['ms'];
      if (typeof ms !== 'number' || ms < 0) return sendJson(res, 400, { error: 'ms must be a number ≥ 0' });
      sandbox.setAnswerDelay(ms);
      return sendJson(res, 200, { answerDelayMs: ms });
    }
    if (method === 'POST' && path === '/_sandbox/first-token-delay') {
      const ms = input?.['ms'];
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_FIRST_TOKEN_DELAY_MS) {
        return sendJson(res, 400, { error: `ms must be a number from 0 to ${MAX_FIRST_TOKEN_DELAY_MS}` });
      }
      sandbox.setFirstTokenDelay(ms);
      return sendJson(res, 200, { firstTokenDelayMs: ms });
    }
    if (method === 'POST' && path === '/_sandbox/reset') {
      requests.length = 0;
      sandbox.faults.clear();
      answerDelayMs = options.answerDelayMs ?? 0;
      firstTokenDelayMs = options.firstTokenDelayMs ?? 0;
      return sendJson(res, 200, { reset: true });
    }
    if (method === 'GET' && (path === '/_sandbox' || path === '/_sandbox/')) {
      return sendJson(res, 200, {
        sandbox: 'model',
        model: SANDBOX_MODEL_ID,
        models: SANDBOX_PERSONAS.map((persona) => SANDBOX_MODEL_IDS[persona]),
        fault: fault?.kind ?? null,
        answerDelayMs,
        firstTokenDelayMs,
      });
    }
    sendJson(res, 404, { error: `No sandbox control route ${method} ${path}` });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const sandbox: ModelSandbox = {
    baseUrl: `${origin}/v1`,
    azureEndpoint: origin,
    requests,
    faults: {
      set(next) {
        fault = { kind: next.kind, left: next.times ?? Number.POSITIVE_INFINITY };
      },
      clear() {
        fault = null;
      },
    },
    setAnswerDelay(ms) {
      answerDelayMs = ms;
    },
    setFirstTokenDelay(ms) {
      firstTokenDelayMs = ms;
    },
    async close() {
      for (const res of held) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return sandbox;
}

const FAULT_KINDS: readonly ModelSandboxFaultKind[] = [
  'refuse',
  'hang',
  'stall',
  '429',
  '500',
  'truncated',
  'malformed',
  'empty',
];

function readMessages(body: unknown): ChatTurn[] | null {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages) || messages.length === 0) return null;
  return messages.map((m: { role?: unknown; content?: unknown }) => ({
    role: typeof m.role === 'string' ? m.role : 'user',
    content: typeof m.content === 'string' ? m.content : '',
  }));
}

/** Pieces of about three words, the way servers stream a few tokens per event. */
function splitIntoPieces(text: string): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  const pieces: string[] = [];
  for (let i = 0; i < words.length; i += 3) pieces.push(words.slice(i, i + 3).join(''));
  return pieces;
}

function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function openAIError(message: string, type: string, code: string | null = null) {
  return { error: { message, type, param: null, code } };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendRaw(res, status, JSON.stringify(body));
}

function sendRaw(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function delayUnlessClosed(ms: number, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(false);
    }, ms);
    const onClose = () => {
      clearTimeout(timer);
      resolve(true);
    };
    res.on('close', onClose);
  });
}
