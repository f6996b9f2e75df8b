/**
 * AteraTicketDesk: the engine's TicketDesk and the watcher's TicketFeed, on Atera's REST API v3.
 */
import { NotFoundError } from '../../errors.js';
import {
  markersOf,
  type Device,
  type NewComment,
  type Ticket,
  type TicketChange,
  type TicketComment,
  type TicketDesk,
  type TicketFeed,
  type TicketFeedAnswer,
} from '../../ports/ticket-desk.js';
import type { AteraClient } from './atera-client.js';
import type { AteraAgentDto, AteraCreateCommentDto, AteraUpdateTicketDto } from './atera-dto.js';
import { AteraError } from './atera-error.js';
import { textToCommentHtml } from './comment-html.js';
import { agentBelongsTo, toDevice, toTicket, toTicketComment } from './map-atera-dto.js';

export interface AteraTicketDeskSettings {
  /** The Atera technician TicketZero writes as (id and/or e-mail; at least one). */
  technicianId?: number;
  technicianEmail?: string;
}

/**
 * The line that carries a comment's marker (each of them, for a folded comment), so a delivery can be recognised
 * when read back.
 */
export function markerLine(marker: string): string {
  return markersOf({ marker })
    .map((m) => `[TicketZero ref ${m}]`)
    .join(' ');
}

const AGENT_CACHE_MS = 60_000;

export class AteraTicketDesk implements TicketDesk, TicketFeed {
  private readonly agentCache = new Map<number, { agents: Promise<AteraAgentDto[]>; until: number }>();

  constructor(
    private readonly client: AteraClient,
    private readonly settings: AteraTicketDeskSettings,
  ) {
    if (settings.technicianId === undefined && !settings.technicianEmail) {
      throw new TypeError('AteraTicketDesk needs the technician id or e-mail TicketZero writes as');
    }
  }

  async getTicket(ticketId: number): Promise<Ticket> {
    try {
      return toTicket(await this.client.getTicket(ticketId));
    } catch (error) {
      throw notFoundOr(error, `Atera ticket ${ticketId} does not exist`);
    }
  }

  async changedSince(since: string): Promise<TicketFeedAnswer> {
    const { tickets, serverTime } = await this.client.listTicketsModifiedSince(since);
    return { tickets: tickets.map(toTicket), ateraTime: serverTime };
  }

  async updateTicket(ticketId: number, change: TicketChange): Promise<void> {
    const dto: AteraUpdateTicketDto = {};
    if (change.status !== undefined) dto.TicketStatus = change.status;
    if (change.priority !== undefined) dto.TicketPriority = change.priority;
    if (change.technicianContactId !== undefined) dto.TechnicianContactID = change.technicianContactId;
    else if (change.technicianEmail !== undefined) dto.TechnicianEmail = change.technicianEmail;
    if (Object.keys(dto).length === 0) return;
    try {
      await this.client.updateTicket(ticketId, dto);
    } catch (error) {
      throw notFoundOr(error, `Atera ticket ${ticketId} does not exist`);
    }
  }

  async listComments(ticketId: number): Promise<TicketComment[]> {
    try {
      return (await this.client.listComments(ticketId)).map(toTicketComment);
    } catch (error) {
      throw notFoundOr(error, `Atera ticket ${ticketId} does not exist`);
    }
  }

  /**
   * Posts once, never repeating after an unclear failure (the outbox reads back and looks for the marker).
   * The text is HTML-escaped (Atera renders comments as HTML) and ends with the marker line.
   */
  async addComment(ticketId: number, comment: NewComment): Promise<void> {
    const body: AteraCreateCommentDto = {
      CommentText: `${textToCommentHtml(comment.text)}<br><br>${textToCommentHtml(markerLine(comment.marker))}`,
      CommentTimestampUTC: comment.timestampUtc,
    };
    if (comment.author === 'end_user' && comment.endUserId) {
      body.EnduserCommentDetails = { EnduserId: comment.endUserId };
    } else {
      body.TechnicianCommentDetails = {
        ...(this.settings.technicianId !== undefined ? { TechnicianId: this.settings.technicianId } : {}),
        ...(this.settings.technicianEmail ? { TechnicianEmail: this.settings.technicianEmail } : {}),
        IsInternal: comment.visibility === 'internal',
      };
    }
    await this.client.addComment(ticketId, body);
  }

  async findDevices(query: {
    customerId: number | null;
    email: string;
    displayName: string;
  }): Promise<Device[]> {
    if (query.customerId === null) return [];
    const agents = await this.agentsOf(query.customerId);
    return agents.filter((a) => agentBelongsTo(a, query)).map(toDevice);
  }

  /**
   * A customer's RMM agents, shared for a minute: when many tickets of one customer arrive together (an outage),
   * their intakes cost one Atera call, not one each.
   */
  private agentsOf(customerId: number): Promise<AteraAgentDto[]> {
    const now = Date.now();
    const hit = this.agentCache.get(customerId);
    if (hit && hit.until > now) return hit.agents;
    const agents = this.client.listAgents(customerId);
    this.agentCache.set(customerId, { agents, until: now + AGENT_CACHE_MS });
    agents.catch(() => this.agentCache.delete(customerId));
    if (this.agentCache.size > 1000) this.agentCache.delete(this.agentCache.keys().next().value as number);
    return agents;
  }
}

/** Atera's 404 on a read means the ticket is gone; on a comment POST it may also mean a malformed body. */
function notFoundOr(error: unknown, message: string): unknown {
  if (error instanceof AteraError && error.status === 404)
    return new NotFoundError(message, { cause: error });
  return error;
}
