/**
 * Every error TicketZero raises on purpose is a TicketZeroError with a stable `code`.
 * Adapters wrap vendor errors (AxiosError, OpenAI.APIError, pg errors…) in one of these with `{ cause }`,
 * so nothing above an adapter ever handles a vendor type.
 */
export abstract class TicketZeroError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Settings missing or malformed at start-up. Lists every problem, each with its variable name. */
export class ConfigError extends TicketZeroError {
  readonly code = 'config_invalid';

  constructor(readonly problems: readonly string[]) {
    super(
      `TicketZero cannot start, its settings have ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`,
    );
  }
}

/** A record the caller expected does not exist (ticket, conversation, user…). */
export class NotFoundError extends TicketZeroError {
  readonly code = 'not_found';
}

/** Another writer changed the record first (optimistic concurrency); the caller may reload and retry. */
export class ConflictError extends TicketZeroError {
  readonly code = 'conflict';
}

/** Wraps anything unknown at a boundary so handlers only ever see coded errors. */
export class UnexpectedError extends TicketZeroError {
  readonly code = 'unexpected';
}

export function asTicketZeroError(error: unknown): TicketZeroError {
  if (error instanceof TicketZeroError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new UnexpectedError(message, { cause: error });
}
