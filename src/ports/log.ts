/**
 * The logging the engine needs: structured fields first, a short fixed phrase second (pino's shape, so the
 * pino logger satisfies it). Never put user text in fields at info level.
 */
export interface Log {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  child(bindings: Record<string, unknown>): Log;
}

/** A log that drops everything (engine unit tests that do not look at logs). */
export const silentLog: Log = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLog,
};
