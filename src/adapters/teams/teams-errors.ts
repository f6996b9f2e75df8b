/** Coded errors of the Teams adapter: nothing above it sees a botbuilder or connector error. */
import { TicketZeroError } from '../../errors.js';

/** A call to the Bot Framework connector failed (after retries where the status allowed them). */
export class TeamsConnectorError extends TicketZeroError {
  readonly code = 'teams_connector_failed';

  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The adapter was asked to do something it cannot yet (no engine attached, no technicians' channel…). */
export class TeamsNotReadyError extends TicketZeroError {
  readonly code = 'teams_not_ready';
}
