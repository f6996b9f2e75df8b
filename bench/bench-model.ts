/**
 * An OpenAI-compatible chat endpoint for the benchmark that answers every request after a fixed delay with the
 * same troubleshooting step and `outcome=continue`, streamed like a real server. The model sandbox's scripted
 * assistant ends a conversation after its few scripted steps (handing over to a technician); a load test needs
 * conversations that stay live for as many rounds as it sends, and a model time that is exactly known so it can be
 * subtracted.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';

export const BENCH_ANSWER =
  'Thanks for checking. Please close the app completely, wait ten seconds, open it again and tell me what you see now.\n[[ticketzero: outcome=continue; category=other]]';

export interface BenchModel {
  baseUrl: string;
  delayMs: number;
  requests: number;
  /** performance.now() of the latest requests (the last 1,000). */
  startedAt: number[];
  close(): Promise<void>;
}

export async function startBenchModel(options: { delayMs: number }): Promise<BenchModel> {
  let counter = 0;
  const model: BenchModel = {
    baseUrl: '',
    delayMs: options.delayMs,
    requests: 0,
    startedAt: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { stream?: boolean; model?: string };
    model.requests += 1;
    model.startedAt.push(performance.now());
    if (model.startedAt.length > 1000) model.startedAt.shift();
    counter += 1;
    const id = `chatcmpl-bench-${counter}`;
    const created = Math.floor(Date.now() / 1000);
    const name = body.model ?? 'bench';
    await new Promise((resolve) => setTimeout(resolve, model.delayMs));
    if (!body.stream) {
      const text = JSON.stringify({
        id,
        object: 'chat.completion',
        created,
        model: name,
        choices: [{ index: 0, message: { role: 'assistant', content: BENCH_ANSWER }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 500, completion_tokens: 40, total_tokens: 540 },
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(text);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const pieces = BENCH_ANSWER.match(/.{1,40}/gs) ?? [BENCH_ANSWER];
    const event = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: name, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    let out = event({ role: 'assistant', content: '' }, null);
    for (const piece of pieces) out += event({ content: piece }, null);
    out += event({}, 'stop');
    out += 'data: [DONE]\n\n';
    res.end(out);
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  model.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return model;
}
