/**
 * TicketDesk: the PSA (Atera) as the engine sees it. Plain data only; the Atera adapter maps its DTOs to these.
 */

/** Atera's standard statuses; accounts may add custom ones, so any string can arrive. */
export type TicketStatus = 'Open' | 'Pending' | 'Resolved' | 'Closed' | (string & {});
export type TicketPriority = 'Low' | 'Medium' | 'High' | 'Critical' | (string & {});

export interface Ticket {
  id: number;
  /** Atera's human-facing ticket number (a string in the API). */
  number: string;
  title: string;
  /** The first comment / description as plain text (HTML stripped, entities decoded). */
  description: string;
  priority: TicketPriority;
  status: TicketStatus;
  type: string | null;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** ISO 8601 UTC, when known. */
  modifiedAt: string | null;
  /**
   * Changes whenever someone comments on the ticket (Atera's last end-user and technician comment times), even
   * when a comment's own time is earlier than `modifiedAt` (comments carry the writer's clock).
   */
  commentedAt?: string | null;
  /** The last comments by the end user and by a technician as Atera shows them on the ticket (plain text). */
  lastComments?: { endUser: string | null; technician: string | null };
  customer: { id: number | null; name: string };
  endUser: {
    id: number | null;
    /** Empty or missing e-mail is `null`. */
    email: string | null;
    firstName: string;
    lastName: string;
    phone: string | null;
  };
  technician: { contactId: number | null; email: string | null; fullName: string | null };
}

export interface TicketChange {
  status?: TicketStatus;
  priority?: TicketPriority;
  technicianEmail?: string;
  technicianContactId?: number;
}

export type CommentVisibility = 'internal' | 'public';
/** Who a comment is written as: the end user (their own words) or TicketZero (the bot's technician identity). */
export type CommentAuthor = 'end_user' | 'ticketzero';

export interface TicketComment {
  text: string;
  /** ISO 8601 UTC. */
  date: string;
  author: 'end_user' | 'technician';
  authorEmail: string | null;
  /** First and last name as Atera shows them; null when it shows none. */
  authorName?: string | null;
  internal: boolean;
}

export interface NewComment {
  text: string;
  visibility: CommentVisibility;
  author: CommentAuthor;
  /** The end user's Atera id, required when author is end_user and known. */
  endUserId?: number | null;
  /** ISO 8601 UTC: when the turn happened (sent as CommentTimestampUTC). */
  timestampUtc: string;
  /**
   * A short unique marker embedded in the comment text, so a delivery that timed out can be found again
   * before re-posting (Atera has no idempotency key). A comment the outbox folded from several queued ones carries
   * each one's marker, separated by a space (`markersOf`).
   */
  marker: string;
  /**
   * A user's message the AI is answering: the outbox holds it a moment (until the answer is queued behind it, or a
   * bound) so the round reaches Atera as one comment. Only the outbox reads it.
   */
  awaitsAnswer?: boolean;
}

/** The markers a comment carries (one, or several when it was folded). */
export function markersOf(comment: Pick<NewComment, 'marker'>): string[] {
  return comment.marker.split(' ').filter(Boolean);
}

export interface Device {
  name: string;
  os: string;
  online: boolean;
  lastSeen: string | null;
  loggedInUsers: string[];
}

export interface TicketDesk {
  /** @throws NotFoundError when the ticket does not exist. */
  getTicket(ticketId: number): Promise<Ticket>;
  updateTicket(ticketId: number, change: TicketChange): Promise<void>;
  listComments(ticketId: number): Promise<TicketComment[]>;
  addComment(ticketId: number, comment: NewComment): Promise<void>;
  /** The end user's devices known to the RMM (matched by logged-in user / e-mail / name within the customer). */
  findDevices(query: { customerId: number | null; email: string; displayName: string }): Promise<Device[]>;
}

/** One answer of the feed. */
export interface TicketFeedAnswer {
  tickets: Ticket[];
  /**
   * The PSA's own clock when it answered (ISO 8601 UTC, whole seconds: Atera's HTTP `Date` header), or null when it
   * told none. The watcher's cursor and first-start watermark follow this clock, never this host's.
   */
  ateraTime: string | null;
}

/** The feed the ticket watcher polls. */
export interface TicketFeed {
  /**
   * Tickets created or modified at or after `since` (ISO 8601 UTC, by the PSA's clock), every page.
   * Implementations use as few requests as the API allows (one when nothing changed).
   */
  changedSince(since: string): Promise<TicketFeedAnswer>;
  /** Fetch one ticket by id (webhook nudges that name a ticket). */
  getTicket(ticketId: number): Promise<Ticket>;
}
