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

/** The port TicketZero was told to listen on is taken by another program. */
export class PortInUseError extends TicketZeroError {
  readonly code = 'port_in_use';

  constructor(
    readonly port: number,
    readonly host: string,
    options?: ErrorOptions,
  ) {
    super(`Port ${port} on ${host} is in use by another program`, options);
  }
}

/**
 * The user's 1:1 chat no longer exists where TicketZero knew it (Teams answers 404 "Conversation not found": the chat
 * or the app was removed, or the client forgot it); opening the chat anew gives one that does.
 */
export class ChatGoneError extends TicketZeroError {
  readonly code = 'chat_gone';

  constructor(
    readonly conversationId: string,
    options?: ErrorOptions,
  ) {
    super(`the chat ${conversationId} no longer exists`, options);
  }
}

/** A record the caller expected does not exist (ticket, conversation, user…). */
export class NotFoundError extends TicketZeroError {
  readonly code = 'not_found';
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
