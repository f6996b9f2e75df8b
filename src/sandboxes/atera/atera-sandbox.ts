/**
 * A local HTTP server that answers like Atera's REST API v3 (paths, PascalCase DTOs, paging envelope, X-API-KEY,
 * ActionID answers, the quirks listed in shared/reference/atera-api.md), with its data in memory.
 * Tests and local runs point the real Atera client at it; nothing here is used in production.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultSeedFixture, type SeedFixture } from './seed-fixture.js';
import { FaultSwitch, faultFromJson, type SandboxFaults } from './sandbox-faults.js';
import { editorHtml, emailHtml, type QuotedMessage } from './reply-html.js';

export type { SeedFixture } from './seed-fixture.js';
export type { SandboxFault, SandboxFaultKind } from './sandbox-faults.js';

export interface AteraSandboxOptions {
  port?: number;
  host?: string;
  apiKey?: string;
  /** true (default): the realistic fixture; false: empty account (customers, contacts and technicians only). */
  seed?: boolean | SeedFixture;
  /** Added to every API answer. */
  latencyMs?: number;
  /**
   * How far Atera's clock is from this host's (ms; positive: Atera is ahead). Every time the sandbox writes (created,
   * modified, resolved, comment dates, the seed's "minutes ago", its HTTP `Date` header) and every time filter it
   * evaluates (`/tickets/lastmodified`) uses its own clock, as the real service does. Default 0.
   */
  clockOffsetMs?: number;
  /**
   * Keep the account's data (tickets, comments, contacts, technicians, the next ids) in this JSON file: read at start
   * when it exists (instead of the seed), rewritten atomically after every change. Ticket ids then keep growing
   * across restarts, as Atera's do. Default: in memory only.
   */
  stateFile?: string;
  /**
   * Atera's per-account limit: beyond this many API requests in any rolling minute, a request is answered 429 with
   * a Retry-After (whole seconds until the oldest request in the window leaves it), as the real service does at its
   * worst (about 700 a minute). Refused requests do not count. Default: no limit.
   */
  requestsPerMinute?: number;
}

export interface NewSandboxTicket {
  title: string;
  description: string;
  endUserEmail?: string;
  endUserFirstName?: string;
  endUserLastName?: string;
  customerId?: number;
  priority?: string;
  /** A ticket that came in this long ago by Atera's clock (created and last modified then). Default 0. */
  createdSecondsAgo?: number;
}

/** A technician of the MSP as Atera shows one on a comment. */
export interface SandboxTechnician {
  contactId: number;
  /** Needed (with the names) only for a technician the sandbox does not know yet; checked against a known one. */
  email?: string;
  firstName?: string;
  lastName?: string;
}

export interface TechnicianReply {
  /** Plain text as typed; stored as the editor's HTML (`<p>`, `<br>`, entities escaped). */
  text: string;
  /** An internal note, which the end user never sees. Default false (a public reply). */
  internal?: boolean;
  /**
   * Who writes it. Default: the ticket's assigned technician, or else the first seeded one, never an automation
   * identity (TicketZero's own, technician 9 in the seed).
   */
  technician?: SandboxTechnician;
}

export interface EndUserReply {
  /** Plain text as the end user wrote it. */
  text: string;
  /** `email` (default): a reply to Atera's notification mail; `portal`: typed in the customer portal. */
  via?: 'email' | 'portal';
  /**
   * E-mail only: end the body with the previous message quoted under an "On … wrote:" line, as mail clients do (the
   * ticket's latest public technician comment, or else the ticket's description). Default false.
   */
  quotePrevious?: boolean;
}

export interface SandboxRequest {
  method: string;
  /** Path below /api/v3 (without query); control routes are not recorded. */
  path: string;
  query: string;
  /** 0 when the connection was dropped. */
  status: number;
  /** When the request arrived (host time, ms since the epoch). */
  at: number;
}

export type TicketDto = Record<string, unknown> & { TicketID: number };
export type CommentDto = Record<string, unknown>;

export interface AteraSandbox {
  /** Ends with /api/v3. */
  baseUrl: string;
  apiKey: string;
  close(): Promise<void>;
  createTicket(input: NewSandboxTicket): TicketDto;
  getTicket(id: number): TicketDto | null;
  comments(ticketId: number): CommentDto[];
  /**
   * A technician answers in Atera (a public reply, or an internal note with `internal: true`), stamped by Atera's
   * clock; the ticket counts as modified. Returns the comment as GET /tickets/{id}/comments serves it.
   * Throws AteraSandboxError (404 unknown ticket, 400 bad input).
   */
  addTechnicianReply(ticketId: number, reply: TechnicianReply): CommentDto;
  /** The ticket's end user answers (by e-mail unless `via: 'portal'`); otherwise as addTechnicianReply. */
  addEndUserReply(ticketId: number, reply: EndUserReply): CommentDto;
  requests: SandboxRequest[];
  resetRequests(): void;
  faults: SandboxFaults;
  /** Atera's clock (this host's plus the offset). */
  now(): Date;
  /** How far Atera's clock is from this host's (ms; positive: ahead). */
  readonly clockOffsetMs: number;
  /** Moves Atera's clock relative to this host's, from now on (data already written keeps its times). */
  setClockOffsetMs(offsetMs: number): void;
  /** Sets (or with null lifts) the per-account limit of `requestsPerMinute`, from now on. */
  setRequestsPerMinute(limit: number | null): void;
}

const API_PREFIX = '/api/v3';
const MAX_ITEMS_IN_PAGE = 50;
const MAX_CONTACTS_IN_PAGE = 500;
const MAX_BODY_BYTES = 1_000_000;

interface TicketRow {
  id: number;
  title: string;
  description: string;
  status: string;
  priority: string | number;
  impact: string | number;
  type: string | number;
  source: string;
  endUserId: number | null;
  endUserEmail: string | null;
  endUserFirstName: string;
  endUserLastName: string;
  endUserPhone: string | null;
  customerId: number;
  technicianId: number | null;
  createdAt: number;
  modifiedAt: number;
  resolvedAt: number | null;
  comments: CommentRow[];
}

interface CommentRow {
  date: number;
  html: string;
  endUserId: number | null;
  technicianId: number | null;
  internal: boolean;
}

interface Contact {
  EndUserID: number;
  CustomerID: number;
  Firstname: string;
  Lastname: string;
  Email: string;
  JobTitle: string | null;
  Phone: string | null;
  DepartmentName: string | null;
  createdAt: number;
}

/** A request the sandbox refuses, over HTTP (its status) or from its code API (thrown). */
export class AteraSandboxError extends Error {
  readonly code = 'atera_sandbox_refused';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Atera's dates carry 7 fractional digits (`2026-03-23T23:10:36.6372852Z`). The 4 digits below the millisecond are
 * derived from the moment itself, so a stored date reads back the same every time, as it does from Atera.
 */
function ateraDate(ms: number | null): string | null {
  if (ms === null) return null;
  const belowMs = ((ms % 10_000) * 7919 + 1237) % 10_000;
  return new Date(ms).toISOString().replace(/Z$/, `${String(belowMs).padStart(4, '0')}Z`);
}

/**
 * A date-time as Atera reads one: ISO 8601 with up to 7 fractional digits; without a zone it is UTC (a .NET server
 * on UTC), not this host's local time. NaN when unreadable.
 */
function parseUtc(raw: string): number {
  const trimmed = raw.trim();
  if (!/^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?)?([zZ]|[+-]\d\d:?\d\d)?$/.test(trimmed)) return NaN;
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(trimmed) || !trimmed.includes('T') ? trimmed : `${trimmed}Z`;
  return Date.parse(zoned.replace(/(\.\d{3})\d+/, '$1'));
}

/** A clock offset must be a finite number of milliseconds within a year either way. */
function checkedOffset(offsetMs: number): number {
  if (!Number.isFinite(offsetMs) || Math.abs(offsetMs) > 366 * 24 * 3_600_000) {
    throw new RangeError(`clockOffsetMs must be a number of milliseconds within a year, got ${offsetMs}`);
  }
  return Math.trunc(offsetMs);
}

/** A per-minute limit must be a positive whole number (or null: none). */
function checkedLimit(limit: number | null): number | null {
  if (limit === null) return null;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`requestsPerMinute must be a positive whole number, got ${limit}`);
  }
  return limit;
}

export async function startAteraSandbox(options: AteraSandboxOptions = {}): Promise<AteraSandbox> {
  const apiKey = options.apiKey ?? 'sandbox-atera-api-key';
  const host = options.host ?? '127.0.0.1';
  const fixture: SeedFixture =
    options.seed === undefined || options.seed === true
      ? defaultSeedFixture
      : options.seed === false
        ? { ...defaultSeedFixture, tickets: [] }
        : options.seed;
  let clockOffsetMs = checkedOffset(options.clockOffsetMs ?? 0);
  /** Atera's clock: every timestamp the sandbox writes or compares comes from here, never from Date.now(). */
  const now = () => Date.now() + clockOffsetMs;
  const startedAt = now();
  const minutesAgo = (m: number) => startedAt - m * 60_000;

  const customers = new Map(fixture.customers.map((c) => [c.CustomerID, c]));
  const technicians = new Map(fixture.technicians.map((t) => [t.TechnicianContactID, t]));
  const contacts = new Map<number, Contact>(
    fixture.contacts.map((c) => [c.EndUserID, { ...c, createdAt: minutesAgo(60 * 24 * 90) }]),
  );
  const tickets = new Map<number, TicketRow>();
  let nextTicketId = 1001;
  let nextContactId = 900;
  let nextCommentId = 1;
  const requests: SandboxRequest[] = [];
  const faults = new FaultSwitch();
  let requestsPerMinute = checkedLimit(options.requestsPerMinute ?? null);
  /** Host times (ms) of the API requests admitted in the last minute, oldest first. */
  const admitted: number[] = [];
  /** Seconds to wait when the rolling minute is full; 0 (and the request counted) when there is room. */
  const admit = (): number => {
    if (requestsPerMinute === null) return 0;
    const at = Date.now();
    while (admitted.length > 0 && admitted[0]! <= at - 60_000) admitted.shift();
    if (admitted.length < requestsPerMinute) {
      admitted.push(at);
      return 0;
    }
    return Math.max(1, Math.ceil((admitted[0]! + 60_000 - at) / 1000));
  };

  const contactByEmail = (email: string | null | undefined): Contact | undefined => {
    if (!email) return undefined;
    const e = email.toLowerCase();
    return [...contacts.values()].find((c) => c.Email.toLowerCase() === e);
  };

  for (const s of fixture.tickets) {
    const contact = contactByEmail(s.endUserEmail);
    const row: TicketRow = {
      id: s.TicketID,
      title: s.title,
      description: s.description,
      status: s.status,
      priority: s.priority,
      impact: s.impact ?? 'NoImpact',
      type: s.type ?? 'Incident',
      source: 'Email',
      endUserId: contact?.EndUserID ?? null,
      endUserEmail: s.endUserEmail,
      endUserFirstName: contact?.Firstname ?? s.endUserFirstName ?? '',
      endUserLastName: contact?.Lastname ?? s.endUserLastName ?? '',
      endUserPhone: contact?.Phone ?? null,
      customerId: s.customerId,
      technicianId: s.technicianId ?? null,
      createdAt: minutesAgo(s.createdMinutesAgo),
      modifiedAt: minutesAgo(s.createdMinutesAgo),
      resolvedAt:
        s.status === 'Resolved' || s.status === 'Closed' ? minutesAgo(s.createdMinutesAgo / 2) : null,
      comments: [],
    };
    for (const c of s.comments ?? []) {
      const by = 'endUserEmail' in c.by ? contactByEmail(c.by.endUserEmail) : undefined;
      row.comments.push({
        date: minutesAgo(c.minutesAgo),
        html: c.html,
        endUserId: by?.EndUserID ?? null,
        technicianId: 'technicianId' in c.by ? c.by.technicianId : null,
        internal: c.internal ?? false,
      });
      row.modifiedAt = Math.max(row.modifiedAt, minutesAgo(c.minutesAgo));
    }
    tickets.set(row.id, row);
    nextTicketId = Math.max(nextTicketId, row.id + 1);
  }

  // A kept account replaces the seed: what was written last time is what Atera holds now.
  const kept = options.stateFile && existsSync(options.stateFile) ? readState(options.stateFile) : null;
  if (kept) {
    tickets.clear();
    for (const t of kept.tickets) tickets.set(t.id, t);
    for (const c of kept.contacts) contacts.set(c.EndUserID, c);
    for (const t of kept.technicians) technicians.set(t.TechnicianContactID, t);
    nextTicketId = kept.nextTicketId;
    nextContactId = kept.nextContactId;
    nextCommentId = kept.nextCommentId;
  }
  /** Writes the account to the state file (write a temporary file, then rename: a crash leaves the old or the new). */
  const persist = () => {
    if (!options.stateFile) return;
    const state: SandboxState = {
      version: 1,
      nextTicketId,
      nextContactId,
      nextCommentId,
      tickets: [...tickets.values()],
      contacts: [...contacts.values()],
      technicians: [...technicians.values()],
    };
    const temporary = `${options.stateFile}.tmp`;
    writeFileSync(temporary, JSON.stringify(state));
    renameSync(temporary, options.stateFile);
  };
  /** Runs a change and keeps it. */
  const changing =
    <A extends unknown[], R>(change: (...args: A) => R) =>
    (...args: A): R => {
      const result = change(...args);
      persist();
      return result;
    };

  // DTOs ----------------------------------------------------------------------------------------------------
  const ticketDto = (t: TicketRow): TicketDto => {
    const customer = customers.get(t.customerId);
    const tech = t.technicianId === null ? undefined : technicians.get(t.technicianId);
    const lastEndUser = [...t.comments].reverse().find((c) => c.endUserId !== null);
    const lastTech = [...t.comments].reverse().find((c) => c.technicianId !== null && !c.internal);
    const firstTech = t.comments.find((c) => c.technicianId !== null);
    return {
      TicketID: t.id,
      TicketTitle: t.title,
      TicketNumber: String(t.id),
      TicketPriority: t.priority,
      TicketImpact: t.impact,
      TicketStatus: t.status,
      TicketSource: t.source,
      TicketType: t.type,
      EndUserID: t.endUserId,
      EndUserEmail: t.endUserEmail,
      EndUserFirstName: t.endUserFirstName,
      EndUserLastName: t.endUserLastName,
      EndUserPhone: t.endUserPhone,
      TicketResolvedDate: ateraDate(t.resolvedAt),
      TicketCreatedDate: ateraDate(t.createdAt),
      TechnicianFirstCommentDate: ateraDate(firstTech?.date ?? null),
      FirstResponseDueDate: ateraDate(t.createdAt + 4 * 3_600_000),
      ClosedTicketDueDate: ateraDate(t.createdAt + 48 * 3_600_000),
      FirstComment: t.description,
      LastEndUserComment: lastEndUser?.html ?? null,
      LastEndUserCommentTimestamp: ateraDate(lastEndUser?.date ?? null),
      LastTechnicianComment: lastTech?.html ?? null,
      LastTechnicianCommentTimestamp: ateraDate(lastTech?.date ?? null),
      OnSiteDurationMinutes: 0,
      OffSiteDurationMinutes: 0,
      TotalDurationMinutes: 0,
      CustomerID: t.customerId,
      CustomerName: customer?.CustomerName ?? '',
      CustomerBusinessNumber: customer?.BusinessNumber ?? null,
      TechnicianContactID: tech?.TechnicianContactID ?? null,
      TechnicianFullName: tech ? `${tech.FirstName} ${tech.LastName}` : null,
      TechnicianEmail: tech?.Email ?? null,
      ContractID: null,
      RelationType: 'None',
      RelatedTicketId: null,
    };
  };

  const commentDto = (c: CommentRow): CommentDto => {
    const contact = c.endUserId === null ? undefined : contacts.get(c.endUserId);
    const tech = c.technicianId === null ? undefined : technicians.get(c.technicianId);
    return {
      Date: ateraDate(c.date),
      Comment: c.html,
      EndUserID: c.endUserId,
      TechnicianContactID: c.technicianId,
      Email: contact?.Email ?? tech?.Email ?? null,
      FirstName: contact?.Firstname ?? tech?.FirstName ?? null,
      LastName: contact?.Lastname ?? tech?.LastName ?? null,
      IsInternal: c.internal,
    };
  };

  const contactDto = (c: Contact) => ({
    EndUserID: c.EndUserID,
    CustomerID: c.CustomerID,
    CustomerName: customers.get(c.CustomerID)?.CustomerName ?? '',
    Firstname: c.Firstname,
    Lastname: c.Lastname,
    JobTitle: c.JobTitle,
    Email: c.Email,
    Phone: c.Phone,
    MobilePhone: null,
    IsContactPerson: false,
    InIgnoreMode: false,
    CreatedOn: ateraDate(c.createdAt),
    LastModified: ateraDate(c.createdAt),
    Archived: false,
    DepartmentID: null,
    DepartmentName: c.DepartmentName,
  });

  const customerDto = (c: (typeof fixture.customers)[number]) => ({
    CustomerID: c.CustomerID,
    CustomerName: c.CustomerName,
    BusinessNumber: c.BusinessNumber,
    Domain: c.Domain,
    CreatedOn: ateraDate(minutesAgo(60 * 24 * 365)),
    LastModified: ateraDate(minutesAgo(60 * 24 * 30)),
  });

  const agentDto = (a: (typeof fixture.agents)[number]) => ({
    AgentID: a.AgentID,
    DeviceGuid: `00000000-0000-4000-8000-${String(a.AgentID).padStart(12, '0')}`,
    MachineName: a.MachineName,
    AgentName: a.MachineName,
    CustomerID: a.CustomerID,
    CustomerName: customers.get(a.CustomerID)?.CustomerName ?? '',
    Online: a.Online,
    LastSeen: ateraDate(minutesAgo(a.LastSeenMinutesAgo)),
    OS: a.OS,
    OSVersion: a.OSVersion,
    OSType: a.OS.startsWith('Windows Server') ? 'Server' : 'Work Station',
    LastLoginUser: a.LastLoginUser,
    CurrentLoggedUsers: a.CurrentLoggedUsers,
    Processor: 'Intel(R) Core(TM) i7',
    Memory: 16384,
  });

  // Writes --------------------------------------------------------------------------------------------------
  const resolveTechnician = (id: unknown, email: unknown): number | undefined => {
    if (id !== undefined && id !== null) {
      const n = Number(id);
      if (!technicians.has(n)) throw new AteraSandboxError(400, 'Technician not found');
      return n;
    }
    if (typeof email === 'string' && email !== '') {
      const t = [...technicians.values()].find((x) => x.Email.toLowerCase() === email.toLowerCase());
      if (!t) throw new AteraSandboxError(400, 'Technician not found');
      return t.TechnicianContactID;
    }
    return undefined;
  };

  /** `ageSeconds` is the control route's backdating; the API itself always stamps Atera's now. */
  const insertTicket = (b: Record<string, unknown>, ageSeconds = 0): TicketRow => {
    const title = typeof b.TicketTitle === 'string' ? b.TicketTitle.trim() : '';
    const description = typeof b.Description === 'string' ? b.Description : '';
    if (!title || !description) throw new AteraSandboxError(400, 'TicketTitle and Description are required');
    const email = typeof b.EndUserEmail === 'string' ? b.EndUserEmail.trim() : '';
    let contact =
      b.EndUserID !== undefined && b.EndUserID !== null ? contacts.get(Number(b.EndUserID)) : undefined;
    if (b.EndUserID !== undefined && b.EndUserID !== null && !contact) {
      throw new AteraSandboxError(400, 'End user not found');
    }
    contact ??= contactByEmail(email);
    const domain = email.split('@')[1]?.toLowerCase();
    const customerId =
      (b.CustomerID !== undefined ? Number(b.CustomerID) : undefined) ??
      contact?.CustomerID ??
      [...customers.values()].find((c) => c.Domain === domain)?.CustomerID ??
      fixture.customers[0]?.CustomerID ??
      101;
    if (!contact && email) {
      contact = {
        EndUserID: nextContactId++,
        CustomerID: customerId,
        Firstname: typeof b.EndUserFirstName === 'string' ? b.EndUserFirstName : '',
        Lastname: typeof b.EndUserLastName === 'string' ? b.EndUserLastName : '',
        Email: email,
        JobTitle: null,
        Phone: typeof b.EndUserPhone === 'string' ? b.EndUserPhone : null,
        DepartmentName: null,
        createdAt: now(),
      };
      contacts.set(contact.EndUserID, contact);
    }
    const createdAt = now() - (Number.isFinite(ageSeconds) && ageSeconds > 0 ? ageSeconds * 1000 : 0);
    const row: TicketRow = {
      id: nextTicketId++,
      title,
      description,
      status: typeof b.TicketStatus === 'string' ? b.TicketStatus : 'Open',
      priority: typeof b.TicketPriority === 'string' ? b.TicketPriority : 'Medium',
      impact: typeof b.TicketImpact === 'string' ? b.TicketImpact : 'NoImpact',
      type: typeof b.TicketType === 'string' ? b.TicketType : 'Incident',
      source: 'API',
      endUserId: contact?.EndUserID ?? null,
      endUserEmail: contact?.Email || email || '',
      endUserFirstName:
        contact?.Firstname ?? (typeof b.EndUserFirstName === 'string' ? b.EndUserFirstName : ''),
      endUserLastName: contact?.Lastname ?? (typeof b.EndUserLastName === 'string' ? b.EndUserLastName : ''),
      endUserPhone: contact?.Phone ?? null,
      customerId,
      technicianId: resolveTechnician(b.TechnicianContactID, b.TechnicianEmail) ?? null,
      createdAt,
      modifiedAt: createdAt,
      resolvedAt: null,
      comments: [],
    };
    tickets.set(row.id, row);
    return row;
  };

  const ticketOr404 = (raw: string): TicketRow => {
    const t = tickets.get(Number(raw));
    if (!t) throw new AteraSandboxError(404, 'Ticket not found');
    return t;
  };

  const updateTicket = (t: TicketRow, b: Record<string, unknown>): void => {
    if (typeof b.TicketTitle === 'string') t.title = b.TicketTitle;
    if (typeof b.TicketPriority === 'string') t.priority = b.TicketPriority;
    if (typeof b.TicketImpact === 'string') t.impact = b.TicketImpact;
    if (typeof b.TicketType === 'string') t.type = b.TicketType;
    if (typeof b.TicketStatus === 'string') {
      t.status = b.TicketStatus;
      t.resolvedAt = t.status === 'Resolved' || t.status === 'Closed' ? now() : null;
    }
    const tech = resolveTechnician(b.TechnicianContactID, b.TechnicianEmail);
    if (tech !== undefined) t.technicianId = tech;
    t.modifiedAt = now();
  };

  const addComment = (t: TicketRow, b: Record<string, unknown>): number => {
    const text = b.CommentText;
    const tech = b.TechnicianCommentDetails as Record<string, unknown> | undefined | null;
    const endUser = b.EnduserCommentDetails as Record<string, unknown> | undefined | null;
    // Atera answers a wrongly shaped comment body with 404 "Invalid input".
    if (typeof text !== 'string' || text === '' || Boolean(tech) === Boolean(endUser)) {
      throw new AteraSandboxError(404, 'Invalid input');
    }
    let endUserId: number | null = null;
    let technicianId: number | null = null;
    let internal = false;
    if (endUser) {
      const contact = contacts.get(Number(endUser.EnduserId));
      if (!contact) throw new AteraSandboxError(404, 'Invalid input');
      endUserId = contact.EndUserID;
    } else if (tech) {
      technicianId = resolveTechnician(tech.TechnicianId, tech.TechnicianEmail) ?? null;
      if (technicianId === null) throw new AteraSandboxError(404, 'Invalid input');
      internal = tech.IsInternal === true;
    }
    // The comment keeps the caller's timestamp (its clock, not Atera's); the ticket's modified time is Atera's.
    const stamp = typeof b.CommentTimestampUTC === 'string' ? parseUtc(b.CommentTimestampUTC) : NaN;
    t.comments.push({
      date: Number.isNaN(stamp) ? now() : stamp,
      html: text,
      endUserId,
      technicianId,
      internal,
    });
    t.modifiedAt = now();
    return nextCommentId++;
  };

  // Replies written in Atera by people (code API and control routes) --------------------------------------
  const ticketById = (ticketId: number): TicketRow => {
    const t = Number.isInteger(ticketId) ? tickets.get(ticketId) : undefined;
    if (!t) throw new AteraSandboxError(404, `Ticket ${ticketId} not found`);
    return t;
  };

  const replyText = (text: unknown): string => {
    if (typeof text !== 'string' || text.trim() === '') {
      throw new AteraSandboxError(400, 'text (a non-empty string) is required');
    }
    return text;
  };

  const defaultTechnicianFor = (t: TicketRow): number => {
    const assigned = t.technicianId === null ? undefined : technicians.get(t.technicianId);
    if (assigned && !assigned.automation) return assigned.TechnicianContactID;
    const person = [...technicians.values()].find((x) => !x.automation);
    if (!person) throw new AteraSandboxError(400, 'No technician to reply as: name one');
    return person.TechnicianContactID;
  };

  const technicianFor = (t: TicketRow, given: SandboxTechnician | undefined): number => {
    if (!given) return defaultTechnicianFor(t);
    const id = given.contactId;
    if (!Number.isInteger(id) || id <= 0) {
      throw new AteraSandboxError(400, 'technician.contactId must be a positive integer');
    }
    const known = technicians.get(id);
    if (known) {
      const differs =
        (given.email !== undefined && given.email.toLowerCase() !== known.Email.toLowerCase()) ||
        (given.firstName !== undefined && given.firstName !== known.FirstName) ||
        (given.lastName !== undefined && given.lastName !== known.LastName);
      if (differs) {
        throw new AteraSandboxError(
          400,
          `Technician ${id} is ${known.FirstName} ${known.LastName} <${known.Email}>, not the one given`,
        );
      }
      return id;
    }
    if (!given.email || !given.firstName || given.lastName === undefined) {
      throw new AteraSandboxError(400, `Technician ${id} is new: email, firstName and lastName are required`);
    }
    const email = given.email.toLowerCase();
    if ([...technicians.values()].some((x) => x.Email.toLowerCase() === email)) {
      throw new AteraSandboxError(400, `Another technician already has the e-mail ${given.email}`);
    }
    technicians.set(id, {
      TechnicianContactID: id,
      FirstName: given.firstName,
      LastName: given.lastName,
      Email: given.email,
    });
    return id;
  };

  /** The message an e-mail reply answers: the latest public technician comment, or else the ticket itself. */
  const previousMessage = (t: TicketRow): QuotedMessage => {
    const last = [...t.comments].reverse().find((c) => c.technicianId !== null && !c.internal);
    const tech = last?.technicianId == null ? undefined : technicians.get(last.technicianId);
    if (last && tech) {
      return {
        name: `${tech.FirstName} ${tech.LastName}`,
        email: tech.Email,
        at: last.date,
        html: last.html,
      };
    }
    const name = `${t.endUserFirstName} ${t.endUserLastName}`.trim() || (t.endUserEmail ?? '');
    return { name, email: t.endUserEmail || null, at: t.createdAt, html: t.description };
  };

  /** Stored like an API comment; the ticket is modified now by Atera's clock, as for any comment. */
  const appendComment = (t: TicketRow, row: Omit<CommentRow, 'date'>): CommentDto => {
    const stored: CommentRow = { ...row, date: now() };
    t.comments.push(stored);
    t.modifiedAt = stored.date;
    nextCommentId++;
    return commentDto(stored);
  };

  const addTechnicianReply = (ticketId: number, reply: TechnicianReply): CommentDto => {
    const t = ticketById(ticketId);
    const text = replyText(reply.text);
    const technicianId = technicianFor(t, reply.technician);
    return appendComment(t, {
      html: editorHtml(text),
      endUserId: null,
      technicianId,
      internal: reply.internal === true,
    });
  };

  const addEndUserReply = (ticketId: number, reply: EndUserReply): CommentDto => {
    const t = ticketById(ticketId);
    const text = replyText(reply.text);
    const via = reply.via ?? 'email';
    if (via !== 'email' && via !== 'portal')
      throw new AteraSandboxError(400, 'via must be "email" or "portal"');
    if (via === 'portal' && reply.quotePrevious) {
      throw new AteraSandboxError(400, 'Only an e-mail reply quotes the previous message');
    }
    if (t.endUserId === null || !contacts.has(t.endUserId)) {
      throw new AteraSandboxError(400, `Ticket ${ticketId} has no end user to reply as`);
    }
    const html =
      via === 'portal'
        ? editorHtml(text)
        : emailHtml(text, reply.quotePrevious ? previousMessage(t) : undefined);
    return appendComment(t, { html, endUserId: t.endUserId, technicianId: null, internal: false });
  };

  /** A control route's body, checked field by field so a wrong type is a 400 rather than a surprise. */
  const technicianReplyFromJson = (body: unknown): TechnicianReply => {
    const b = (body ?? {}) as Record<string, unknown>;
    if (b.internal !== undefined && typeof b.internal !== 'boolean') {
      throw new AteraSandboxError(400, 'internal must be a boolean');
    }
    let technician: SandboxTechnician | undefined;
    if (b.technician !== undefined && b.technician !== null) {
      const raw = b.technician as Record<string, unknown>;
      const optionalString = (key: string): string | undefined => {
        if (raw[key] === undefined) return undefined;
        if (typeof raw[key] !== 'string')
          throw new AteraSandboxError(400, `technician.${key} must be a string`);
        return raw[key];
      };
      if (typeof raw !== 'object' || typeof raw.contactId !== 'number') {
        throw new AteraSandboxError(400, 'technician.contactId (a number) is required');
      }
      technician = {
        contactId: raw.contactId,
        email: optionalString('email'),
        firstName: optionalString('firstName'),
        lastName: optionalString('lastName'),
      };
    }
    return { text: replyText(b.text), internal: b.internal === true, technician };
  };

  const endUserReplyFromJson = (body: unknown): EndUserReply => {
    const b = (body ?? {}) as Record<string, unknown>;
    if (b.via !== undefined && b.via !== 'email' && b.via !== 'portal') {
      throw new AteraSandboxError(400, 'via must be "email" or "portal"');
    }
    if (b.quotePrevious !== undefined && typeof b.quotePrevious !== 'boolean') {
      throw new AteraSandboxError(400, 'quotePrevious must be a boolean');
    }
    return {
      text: replyText(b.text),
      via: b.via as EndUserReply['via'],
      quotePrevious: b.quotePrevious === true,
    };
  };

  // Reads ---------------------------------------------------------------------------------------------------
  const page = <T>(url: URL, all: T[], max = MAX_ITEMS_IN_PAGE) => {
    const pageNo = Math.max(1, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1);
    const requested = Number.parseInt(url.searchParams.get('itemsInPage') ?? '20', 10) || 20;
    const size = Math.min(Math.max(1, requested), max);
    const totalPages = Math.max(1, Math.ceil(all.length / size));
    const link = (p: number) => {
      const u = new URL(url.href);
      u.searchParams.set('page', String(p));
      u.searchParams.set('itemsInPage', String(size));
      return u.href;
    };
    return {
      items: all.slice((pageNo - 1) * size, pageNo * size),
      totalItemCount: all.length,
      page: pageNo,
      itemsInPage: size,
      totalPages,
      prevLink: pageNo > 1 ? link(pageNo - 1) : '',
      nextLink: pageNo < totalPages ? link(pageNo + 1) : '',
    };
  };

  const newestFirst = () => [...tickets.values()].sort((a, b) => b.id - a.id);

  const sinceParam = (url: URL): number => {
    const raw = url.searchParams.get('date');
    if (!raw) {
      // "Today" by Atera's clock.
      const d = new Date(now());
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    }
    const ms = parseUtc(raw);
    if (Number.isNaN(ms)) throw new AteraSandboxError(400, 'The date is not valid');
    return ms;
  };

  type Route = [
    string,
    RegExp,
    (m: RegExpMatchArray, url: URL, body: Record<string, unknown>) => [number, unknown],
  ];
  const routes: Route[] = [
    [
      'GET',
      /^\/tickets$/,
      (_m, url) => {
        const status = url.searchParams.get('ticketStatus');
        const customerId = url.searchParams.get('customerId');
        const list = newestFirst().filter(
          (t) =>
            (!status || t.status.toLowerCase() === status.toLowerCase()) &&
            (!customerId || t.customerId === Number(customerId)),
        );
        return [200, page(url, list.map(ticketDto))];
      },
    ],
    [
      'GET',
      /^\/tickets\/lastmodified$/,
      (_m, url) => {
        const since = sinceParam(url);
        return [
          200,
          page(
            url,
            newestFirst()
              .filter((t) => t.modifiedAt >= since)
              .map(ticketDto),
          ),
        ];
      },
    ],
    [
      'GET',
      /^\/tickets\/statusmodified$/,
      (_m, url) => {
        const list = newestFirst().filter((t) => t.status === 'Resolved' || t.status === 'Closed');
        return [200, page(url, list.map(ticketDto))];
      },
    ],
    ['GET', /^\/tickets\/(\d+)$/, (m) => [200, ticketDto(ticketOr404(m[1]!))]],
    ['POST', /^\/tickets$/, (_m, _u, b) => [201, { ActionID: String(insertTicket(b).id) }]],
    [
      'PUT|POST',
      /^\/tickets\/(\d+)$/,
      (m, _u, b) => {
        const t = ticketOr404(m[1]!);
        updateTicket(t, b);
        return [200, { ActionID: String(t.id) }];
      },
    ],
    [
      'GET',
      /^\/tickets\/(\d+)\/comments$/,
      (m, url) => [200, page(url, ticketOr404(m[1]!).comments.map(commentDto))],
    ],
    [
      'POST',
      /^\/tickets\/(\d+)\/comments$/,
      (m, _u, b) => [201, { ActionID: String(addComment(ticketOr404(m[1]!), b)) }],
    ],
    [
      'GET',
      /^\/contacts$/,
      (_m, url) => {
        const email = url.searchParams.get('searchOptions.email')?.toLowerCase();
        const list = [...contacts.values()].filter((c) => !email || c.Email.toLowerCase() === email);
        return [200, page(url, list.map(contactDto), MAX_CONTACTS_IN_PAGE)];
      },
    ],
    [
      'GET',
      /^\/contacts\/(\d+)$/,
      (m) => {
        const c = contacts.get(Number(m[1]));
        if (!c) throw new AteraSandboxError(404, 'Contact not found');
        return [200, contactDto(c)];
      },
    ],
    ['GET', /^\/customers$/, (_m, url) => [200, page(url, [...customers.values()].map(customerDto))]],
    [
      'GET',
      /^\/customers\/(\d+)$/,
      (m) => {
        const c = customers.get(Number(m[1]));
        if (!c) throw new AteraSandboxError(404, 'Customer not found');
        return [200, customerDto(c)];
      },
    ],
    ['GET', /^\/agents$/, (_m, url) => [200, page(url, fixture.agents.map(agentDto))]],
    [
      'GET',
      /^\/agents\/customer\/(\d+)$/,
      (m, url) => [200, page(url, fixture.agents.filter((a) => a.CustomerID === Number(m[1])).map(agentDto))],
    ],
    [
      'GET',
      /^\/agents\/machine\/([^/]+)$/,
      (m, url) => {
        const name = decodeURIComponent(m[1]!).toLowerCase();
        return [
          200,
          page(url, fixture.agents.filter((a) => a.MachineName.toLowerCase() === name).map(agentDto)),
        ];
      },
    ],
  ];

  const dispatch = (
    method: string,
    apiPath: string,
    url: URL,
    body: Record<string, unknown>,
  ): [number, unknown] => {
    for (const [methods, pattern, handle] of routes) {
      const m = apiPath.match(pattern);
      if (m && methods.split('|').includes(method)) return handle(m, url, body);
    }
    throw new AteraSandboxError(
      404,
      `No HTTP resource was found that matches the request URI '${url.href}'.`,
    );
  };

  // Control routes (/_sandbox/…) ---------------------------------------------------------------------------
  const createTicket = (input: NewSandboxTicket): TicketDto =>
    ticketDto(
      insertTicket(
        {
          TicketTitle: input.title,
          Description: input.description,
          EndUserEmail: input.endUserEmail,
          EndUserFirstName: input.endUserFirstName,
          EndUserLastName: input.endUserLastName,
          CustomerID: input.customerId,
          TicketPriority: input.priority,
        },
        input.createdSecondsAgo,
      ),
    );

  const control = (method: string, path: string, body: unknown): [number, unknown] => {
    if (method === 'POST' && path === '/_sandbox/tickets') {
      const b = (body ?? {}) as Record<string, unknown>;
      return [
        201,
        createTicket({
          title: String(b.title ?? ''),
          description: String(b.description ?? ''),
          endUserEmail: typeof b.endUserEmail === 'string' ? b.endUserEmail : undefined,
          endUserFirstName: typeof b.endUserFirstName === 'string' ? b.endUserFirstName : undefined,
          endUserLastName: typeof b.endUserLastName === 'string' ? b.endUserLastName : undefined,
          customerId: typeof b.customerId === 'number' ? b.customerId : undefined,
          priority: typeof b.priority === 'string' ? b.priority : undefined,
          createdSecondsAgo: typeof b.createdSecondsAgo === 'number' ? b.createdSecondsAgo : undefined,
        }),
      ];
    }
    if (method === 'GET' && path === '/_sandbox/clock') {
      return [200, { now: new Date(now()).toISOString(), offsetSeconds: clockOffsetMs / 1000 }];
    }
    if (method === 'PUT' && path === '/_sandbox/clock') {
      const seconds = (body as Record<string, unknown> | undefined)?.offsetSeconds;
      if (typeof seconds !== 'number')
        throw new AteraSandboxError(400, 'offsetSeconds (a number) is required');
      try {
        sandbox.setClockOffsetMs(seconds * 1000);
      } catch (error) {
        throw new AteraSandboxError(400, error instanceof Error ? error.message : 'invalid offset');
      }
      return [200, { now: new Date(now()).toISOString(), offsetSeconds: clockOffsetMs / 1000 }];
    }
    const replyMatch = path.match(/^\/_sandbox\/tickets\/(\d+)\/(technician-replies|end-user-replies)$/);
    if (method === 'POST' && replyMatch) {
      const ticketId = Number(replyMatch[1]);
      return replyMatch[2] === 'technician-replies'
        ? [201, addTechnicianReply(ticketId, technicianReplyFromJson(body))]
        : [201, addEndUserReply(ticketId, endUserReplyFromJson(body))];
    }
    const commentsMatch = path.match(/^\/_sandbox\/tickets\/(\d+)\/comments$/);
    if (method === 'GET' && commentsMatch) return [200, sandbox.comments(Number(commentsMatch[1]))];
    if (method === 'POST' && path === '/_sandbox/faults') {
      try {
        faults.inject(faultFromJson(body));
      } catch (error) {
        throw new AteraSandboxError(400, error instanceof Error ? error.message : 'invalid fault');
      }
      return [201, { pending: faults.pending }];
    }
    if (method === 'DELETE' && path === '/_sandbox/faults') {
      faults.clear();
      return [200, { pending: 0 }];
    }
    if (method === 'GET' && path === '/_sandbox/requests') return [200, requests];
    if (method === 'DELETE' && path === '/_sandbox/requests') {
      requests.length = 0;
      return [200, { requests: 0 }];
    }
    if (method === 'GET' && path === '/_sandbox/state') {
      return [
        200,
        {
          tickets: tickets.size,
          comments: [...tickets.values()].reduce((n, t) => n + t.comments.length, 0),
          requests: requests.length,
          pendingFaults: faults.pending,
        },
      ];
    }
    throw new AteraSandboxError(404, 'Unknown sandbox control route');
  };

  // HTTP ----------------------------------------------------------------------------------------------------
  const send = (
    res: ServerResponse,
    status: number,
    payload: unknown,
    headers: Record<string, string> = {},
  ) => {
    if (res.destroyed) return;
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      // Like every HTTP server, Atera dates its answers by its own clock (whole seconds).
      date: new Date(now()).toUTCString(),
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };

  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  const readBody = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw new AteraSandboxError(413, 'Request entity too large');
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new AteraSandboxError(400, 'The request body is not valid JSON');
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', baseOrigin);
    const fullPath = url.pathname;

    if (fullPath.startsWith('/_sandbox/')) {
      try {
        const body = method === 'GET' || method === 'DELETE' ? undefined : await readBody(req);
        const [status, payload] = control(method, fullPath, body);
        if (method !== 'GET') persist();
        send(res, status, payload);
      } catch (error) {
        const status = error instanceof AteraSandboxError ? error.status : 500;
        send(res, status, { Message: error instanceof Error ? error.message : 'error' });
      }
      return;
    }

    const apiPath = fullPath.startsWith(API_PREFIX) ? fullPath.slice(API_PREFIX.length) || '/' : fullPath;
    const entry: SandboxRequest = { method, path: apiPath, query: url.search, status: 0, at: Date.now() };
    requests.push(entry);
    const reply = (status: number, payload: unknown, headers?: Record<string, string>) => {
      entry.status = status;
      send(res, status, payload, headers);
    };

    if (options.latencyMs) await sleep(options.latencyMs);
    const wait = admit();
    if (wait > 0) {
      reply(429, { Message: 'Too many requests' }, { 'retry-after': String(wait) });
      return;
    }
    const fault = faults.take(method, fullPath, apiPath);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === '429') {
      reply(429, { Message: 'Too many requests' }, { 'retry-after': String(fault.retryAfterSeconds ?? 1) });
      return;
    }
    if (fault?.kind === '500' || fault?.kind === '503') {
      reply(Number(fault.kind), { Message: 'An error has occurred.' });
      return;
    }
    if (fault?.kind === 'slow') await sleep(fault.delayMs ?? 2000);

    if (!fullPath.startsWith(`${API_PREFIX}/`)) {
      reply(404, { Message: 'Not found' });
      return;
    }
    if (req.headers['x-api-key'] !== apiKey) {
      reply(401, { Message: 'Authorization has been denied for this request.' });
      return;
    }
    try {
      const body = method === 'GET' || method === 'DELETE' ? {} : await readBody(req);
      const [status, payload] = dispatch(
        method,
        apiPath,
        url,
        body && typeof body === 'object' ? (body as Record<string, unknown>) : {},
      );
      if (method !== 'GET') persist();
      if (fault?.kind === 'store-then-drop') {
        req.socket.destroy();
        return;
      }
      reply(status, payload);
    } catch (error) {
      if (error instanceof AteraSandboxError) reply(error.status, { Message: error.message });
      else reply(500, { Message: 'An error has occurred.' });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { Message: 'An error has occurred.' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const baseOrigin = `http://${urlHost}:${port}`;

  const sandbox: AteraSandbox = {
    baseUrl: `${baseOrigin}${API_PREFIX}`,
    apiKey,
    close: () =>
      new Promise<void>((resolve, reject) => {
        faults.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    createTicket: changing(createTicket),
    getTicket: (id) => {
      const t = tickets.get(id);
      return t ? ticketDto(t) : null;
    },
    comments: (ticketId) => (tickets.get(ticketId)?.comments ?? []).map(commentDto),
    addTechnicianReply: changing(addTechnicianReply),
    addEndUserReply: changing(addEndUserReply),
    requests,
    resetRequests: () => {
      requests.length = 0;
    },
    faults,
    now: () => new Date(now()),
    get clockOffsetMs() {
      return clockOffsetMs;
    },
    setClockOffsetMs: (offsetMs) => {
      clockOffsetMs = checkedOffset(offsetMs);
    },
    setRequestsPerMinute: (limit) => {
      requestsPerMinute = checkedLimit(limit);
    },
  };
  return sandbox;
}

/** The account as the state file keeps it. */
interface SandboxState {
  version: 1;
  nextTicketId: number;
  nextContactId: number;
  nextCommentId: number;
  tickets: TicketRow[];
  contacts: Contact[];
  technicians: SeedFixture['technicians'];
}

/** Reads a state file written by `persist`; a file it cannot read is an error naming the file, never a fresh account. */
function readState(file: string): SandboxState {
  let state: Partial<SandboxState>;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as Partial<SandboxState>;
  } catch (error) {
    throw new Error(
      `Atera sandbox: cannot read its kept data in ${file} (${error instanceof Error ? error.message : String(error)}); move the file away to start with a new account`,
      { cause: error },
    );
  }
  if (
    state.version !== 1 ||
    !Array.isArray(state.tickets) ||
    !Array.isArray(state.contacts) ||
    !Array.isArray(state.technicians) ||
    typeof state.nextTicketId !== 'number' ||
    typeof state.nextContactId !== 'number' ||
    typeof state.nextCommentId !== 'number'
  ) {
    throw new Error(
      `Atera sandbox: ${file} is not a state file of this sandbox (version 1); move it away to start with a new account`,
    );
  }
  return state as SandboxState;
}
