/**
 * The local run's terminal: one short line per event (what happens to tickets and turns), with the ticket first; the
 * access log of every HTTP request is left out unless the level is debug or the request failed.
 */
import { Writable } from 'node:stream';
import pretty from 'pino-pretty';

/** pino's numeric levels. */
const WARN = 40;

/** A stream for TicketZero's JSON log lines that prints them compactly to `out`. */
export function terminalLog(options: { verbose: boolean; out?: NodeJS.WritableStream }): Writable {
  const printer = pretty({
    destination: options.out ?? process.stdout,
    sync: true,
    colorize: (options.out ?? process.stdout) === process.stdout && process.stdout.isTTY,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,service,component,ticketId,conversationId',
    messageFormat: '{if ticketId}ticket #{ticketId} · {end}{msg}',
  });
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        const shown = options.verbose ? line : shortLine(line);
        if (shown !== null) printer.write(`${shown}\n`);
      }
      done();
    },
  });
}

/**
 * The line as the quiet terminal shows it (read once): null for a request answered without a server error; an
 * error as one phrase (its type and message) instead of its stack, which is there at debug level.
 */
function shortLine(line: string): string | null {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (entry.msg === 'request answered' && typeof entry.level === 'number' && entry.level < WARN) return null;
  const err = entry.err as { type?: unknown; message?: unknown } | undefined;
  if (!err || typeof err !== 'object') return line;
  const { err: _stack, ...rest } = entry;
  // Under another key: pino-pretty prints `err` on lines of its own.
  return JSON.stringify({ ...rest, cause: `${String(err.type ?? 'Error')}: ${String(err.message ?? '')}` });
}
