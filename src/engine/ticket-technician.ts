/**
 * The ticket's Atera technician as the engine sees it: TicketZero's own technician, or someone else — a ticket
 * reassigned to someone else ends the AI conversation. Atera has no technician list, so technicians seen on
 * tickets join the directory that "reassign" searches.
 */
import type { Ticket } from '../ports/ticket-desk.js';
import { asTicketZeroError } from '../errors.js';
import type { EngineContext } from './engine-context.js';
import type { EngineSettings } from './engine-deps.js';

export function isOwnTechnician(
  technician: Ticket['technician'],
  own: EngineSettings['ownTechnician'],
): boolean {
  return (
    (own.contactId !== undefined && technician.contactId === own.contactId) ||
    (own.email !== undefined && (technician.email ?? '').toLowerCase() === own.email.toLowerCase())
  );
}

export function reassignedToSomeoneElse(
  before: Ticket,
  after: Ticket,
  own: EngineSettings['ownTechnician'],
): boolean {
  const changed =
    (after.technician.contactId ?? null) !== (before.technician.contactId ?? null) ||
    (after.technician.email ?? '').toLowerCase() !== (before.technician.email ?? '').toLowerCase();
  if (!changed) return false;
  if (!after.technician.contactId && !after.technician.email) return false;
  return !isOwnTechnician(after.technician, own);
}

/** Adds the ticket's technician to the reassign directory; a failure is logged, not thrown. */
export async function rememberTechnicianOf(ctx: EngineContext, ticket: Ticket): Promise<void> {
  const { technician } = ticket;
  if (!technician.email || isOwnTechnician(technician, ctx.settings.ownTechnician)) return;
  try {
    await ctx.deps.technicianDirectory.remember({
      name: technician.fullName ?? technician.email,
      email: technician.email,
      ateraContactId: technician.contactId ?? null,
      userId: null,
    });
  } catch (error) {
    ctx.log.warn({ ticketId: ticket.id, err: asTicketZeroError(error) }, 'could not remember a technician');
  }
}
