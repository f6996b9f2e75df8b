/**
 * The echo floor as its own process (the benchmark runs every bot apart from the load generator):
 * `tsx bench/echo-main.ts '<bot settings JSON>' <port>` starts `createEchoBot` on 127.0.0.1 and prints its URL.
 */
import { createEchoBot } from '../src/http/echo-bot.js';
import { listen } from '../src/http/server.js';
import { createLogger } from '../src/logging/logger.js';
import type { Config } from '../src/config/load-config.js';

const [settings, port] = process.argv.slice(2);
const bot = JSON.parse(settings ?? '{}') as Config['bot'];
const { server } = createEchoBot({ bot, log: createLogger({ level: 'warn', pretty: false }) });
const listening = await listen(server, { port: Number(port ?? 0), host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ url: listening.url })}\n`);
process.on('SIGTERM', () => {
  void listening.close().then(() => process.exit(0));
});
