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
        if (options.verbose) printer.write(`${line}\n`);
        else if (!isQuiet(line)) printer.write(`${withShortErrors(line)}\n`);
      }
      done();
    },
  });
}

/** An error as one phrase (its type and message) instead of its stack; the stack is there at debug level. */
function withShortErrors(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const err = entry.err as { type?: unknown; message?: unknown } | undefined;
  if (!err || typeof err !== 'object') return line;
  const { err: _stack, ...rest } = entry;
  // Under another key: pino-pretty prints `err` on lines of its own.
  return JSON.stringify({ ...rest, cause: `${String(err.type ?? 'Error')}: ${String(err.message ?? '')}` });
}

/** A line the terminal leaves out: a request answered without a server error. */
function isQuiet(line: string): boolean {
  let entry: { msg?: unknown; level?: unknown };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return false;
  }
  return entry.msg === 'request answered' && typeof entry.level === 'number' && entry.level < WARN;
}
