/**
 * AnswerWriter implementations. In a 1:1 chat whose user message is being handled right now, a quick answer is
 * sent as one reply and a slow one is streamed with teams-ai's StreamingResponse (an informative update, growing
 * chunks, a final message). Anywhere else it is buffered and sent once when finished.
 */
import { StreamingResponse } from '@microsoft/teams-ai';
import type { TurnContext } from 'botbuilder';
import type { AnswerWriter, OutgoingMessage } from '../../ports/chat.js';
import type { Log } from '../../ports/log.js';
import { TeamsConnectorError } from './teams-errors.js';
import { connectorStatus } from './connector-retry.js';

/**
 * StreamingResponse accumulates appended text and sends it as the final message; TicketZero's final text is
 * authoritative (a provider may fail over mid-answer), so the accumulated text can be replaced.
 */
class ReplaceableStreamingResponse extends StreamingResponse {
  replaceText(text: string): void {
    // teams-ai 1.7 keeps the streamed text in `_message`; test/unit/teams/answer-writer.test.ts pins this.
    (this as unknown as { _message: string })._message = text;
  }
}

export const INFORMATIVE_UPDATE = 'Looking into it…';

export interface InTurnAnswerOptions {
  /**
   * An answer finished within this many ms of its first piece is sent as one message; a slower one is streamed.
   * 0 streams from the first piece.
   */
  streamAfterMs: number;
}

/**
 * The answer to the message the user is waiting on. A quick answer is buffered and sent as one message: Teams
 * paces streamed updates (teams-ai waits ~1.5 s after each), so streaming it would only make the user wait.
 * An answer still being written `streamAfterMs` after its first piece is streamed from then on.
 */
export function createInTurnAnswerWriter(
  context: TurnContext,
  fallback: (text: string) => Promise<void>,
  log: Log,
  options: InTurnAnswerOptions,
): AnswerWriter {
  let buffered = '';
  let finished = false;
  let stream: AnswerWriter | null = null;
  let timer: NodeJS.Timeout | null = null;

  const startStreaming = () => {
    timer = null;
    if (finished || stream) return;
    stream = createStreamingAnswerWriter(context, fallback, log);
    if (buffered.length > 0) stream.append(buffered);
  };

  return {
    append(piece) {
      if (finished || piece.length === 0) return;
      if (stream) {
        stream.append(piece);
        return;
      }
      buffered += piece;
      if (timer === null) {
        if (options.streamAfterMs <= 0) startStreaming();
        else {
          timer = setTimeout(startStreaming, options.streamAfterMs);
          timer.unref();
        }
      }
    },
    reset() {
      if (finished) return;
      buffered = '';
      stream?.reset();
    },
    async finish(finalText) {
      if (finished) return;
      finished = true;
      if (timer !== null) clearTimeout(timer);
      if (stream) {
        await stream.finish(finalText);
        return;
      }
      try {
        await context.sendActivity({ type: 'message', textFormat: 'markdown', text: finalText });
      } catch (error) {
        // The turn may have ended (context revoked): send it as a new message in the conversation.
        log.warn({ status: connectorStatus(error), err: error }, 'answer reply failed, sending it anew');
        try {
          await fallback(finalText);
        } catch (fallbackError) {
          throw new TeamsConnectorError('could not deliver the answer', connectorStatus(fallbackError), {
            cause: fallbackError,
          });
        }
      }
    },
  };
}

export function createStreamingAnswerWriter(
  context: TurnContext,
  fallback: (text: string) => Promise<void>,
  log: Log,
): AnswerWriter {
  const stream = new ReplaceableStreamingResponse(context);
  let finished = false;
  let failure: unknown = null;
  // StreamingResponse sends in the background; a failed send must not become an unhandled rejection.
  const watch = () => {
    stream.waitForQueue().catch((error: unknown) => {
      if (failure === null) log.warn({ status: connectorStatus(error) }, 'streaming update failed');
      failure = error;
    });
  };
  stream.queueInformativeUpdate(INFORMATIVE_UPDATE);
  watch();
  return {
    append(piece) {
      if (finished || piece.length === 0) return;
      stream.queueTextChunk(piece);
      watch();
    },
    reset() {
      if (finished) return;
      stream.replaceText('');
    },
    async finish(finalText) {
      if (finished) return;
      finished = true;
      if (stream.getMessage() !== finalText) stream.replaceText(finalText);
      try {
        await stream.endStream();
      } catch (error) {
        // The turn may have ended (context revoked) or the connector refused the stream: send it plainly.
        log.warn({ status: connectorStatus(error), err: error }, 'streamed answer failed, sending it once');
        try {
          await fallback(finalText);
        } catch (fallbackError) {
          throw new TeamsConnectorError('could not deliver the answer', connectorStatus(fallbackError), {
            cause: fallbackError,
          });
        }
      }
    },
  };
}

export function createBufferedAnswerWriter(send: (message: OutgoingMessage) => Promise<void>): AnswerWriter {
  let finished = false;
  return {
    append() {},
    reset() {},
    async finish(finalText) {
      if (finished) return;
      finished = true;
      await send({ kind: 'text', text: finalText });
    },
  };
}
