import { CloudAdapter, type TurnContext } from 'botbuilder';
import type restify from 'restify';
import type { Config } from '../config/load-config.js';
import type { Log } from '../ports/log.js';
import { createBotFrameworkAuthentication } from './bot-authentication.js';
import { createHttpServer } from './server.js';

export interface EchoBot {
  server: restify.Server;
  adapter: CloudAdapter;
}

/**
 * The smallest real bot on TicketZero's stack — restify, botbuilder's CloudAdapter, the same inbound and outbound
 * authentication — that answers every message with its own text. The benchmark measures it as the floor TicketZero's
 * own turn handling is compared against; tests use it to prove authentication without the TicketZero bot.
 */
export function createEchoBot(options: { bot: Config['bot']; log: Log; maxBodyBytes?: number }): EchoBot {
  const adapter = new CloudAdapter(createBotFrameworkAuthentication(options.bot));
  adapter.onTurnError = async (context: TurnContext, error: Error) => {
    options.log.error({ err: error, conversationId: context.activity.conversation?.id }, 'echo turn failed');
  };
  const server = createHttpServer({
    log: options.log,
    maxBodyBytes: options.maxBodyBytes ?? 256 * 1024,
    name: 'echo-bot',
  });
  server.post('/api/messages', async (req, res) => {
    // CloudAdapter answers a typeless body by throwing (a 500); a malformed activity is the sender's mistake.
    const body = req.body as { type?: unknown } | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body) || typeof body.type !== 'string') {
      res.send(400, {
        error: { code: 'invalid_activity', message: 'The body is not an activity with a type.' },
      });
      return;
    }
    await adapter.process(req, res, async (context) => {
      if (context.activity.type === 'message') {
        await context.sendActivity(`echo: ${context.activity.text ?? ''}`);
      }
    });
  });
  return { server, adapter };
}
