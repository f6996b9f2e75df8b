/** Atera DTOs → TicketDesk's plain data, tolerant of what the live API really sends. */
import type { Device, Ticket, TicketComment } from '../../ports/ticket-desk.js';
import type { AteraAgentDto, AteraCommentDto, AteraTicketDto } from './atera-dto.js';
import { htmlToText } from './comment-html.js';

/**
 * Atera dates: ISO 8601 with up to 7 fractional digits, normally with `Z`; a date without a zone is UTC.
 * Returns ISO 8601 UTC with milliseconds, or null when absent or unreadable.
 */
export function toIsoUtc(value: string | null | undefined): string | null {
  if (!value) return null;
  const trimmed = value.trim();
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(trimmed) ? trimmed : `${trimmed}Z`;
  const ms = Date.parse(zoned.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** The schema says enum names, Atera's own example answers numbers: keep names, keep unknown numbers as text. */
function enumText(value: string | number | null | undefined, fallback: string): string {
  if (value === null || value === undefined || value === '') return fallback;
  return String(value);
}

function text(value: string | null | undefined): string {
  return typeof value === 'string' ? value.trim() : '';
}

function optionalText(value: string | null | undefined): string | null {
  const t = text(value);
  return t === '' ? null : t;
}

function optionalId(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : null;
}

export function toTicket(dto: AteraTicketDto): Ticket {
  const createdAt = toIsoUtc(dto.TicketCreatedDate) ?? new Date(0).toISOString();
  const modifiedCandidates = [
    createdAt,
    toIsoUtc(dto.LastEndUserCommentTimestamp),
    toIsoUtc(dto.LastTechnicianCommentTimestamp),
    toIsoUtc(dto.TicketResolvedDate),
  ].filter((d): d is string => d !== null);
  const email = optionalText(dto.EndUserEmail);
  return {
    id: Number(dto.TicketID),
    number: text(String(dto.TicketNumber ?? dto.TicketID)),
    title: text(dto.TicketTitle),
    description: htmlToText(dto.FirstComment ?? ''),
    priority: enumText(dto.TicketPriority, 'Medium'),
    status: enumText(dto.TicketStatus, 'Open'),
    type: dto.TicketType === null || dto.TicketType === undefined ? null : String(dto.TicketType),
    createdAt,
    modifiedAt: modifiedCandidates.sort().at(-1) ?? null,
    lastComments: {
      endUser: dto.LastEndUserComment ? htmlToText(dto.LastEndUserComment) : null,
      technician: dto.LastTechnicianComment ? htmlToText(dto.LastTechnicianComment) : null,
    },
    commentedAt:
      [toIsoUtc(dto.LastEndUserCommentTimestamp), toIsoUtc(dto.LastTechnicianCommentTimestamp)]
        .join(' ')
        .trim() || null,
    customer: { id: optionalId(dto.CustomerID), name: text(dto.CustomerName) },
    endUser: {
      id: optionalId(dto.EndUserID),
      email: email && email.includes('@') ? email.toLowerCase() : null,
      firstName: text(dto.EndUserFirstName),
      lastName: text(dto.EndUserLastName),
      phone: optionalText(dto.EndUserPhone),
    },
    technician: {
      contactId: optionalId(dto.TechnicianContactID),
      email: optionalText(dto.TechnicianEmail),
      fullName: optionalText(dto.TechnicianFullName),
    },
  };
}

export function toTicketComment(dto: AteraCommentDto): TicketComment {
  const byEndUser = optionalId(dto.EndUserID) !== null && optionalId(dto.TechnicianContactID) === null;
  return {
    text: htmlToText(dto.Comment ?? ''),
    date: toIsoUtc(dto.Date) ?? new Date(0).toISOString(),
    author: byEndUser ? 'end_user' : 'technician',
    authorEmail: optionalText(dto.Email),
    authorName: [optionalText(dto.FirstName), optionalText(dto.LastName)].filter(Boolean).join(' ') || null,
    internal: dto.IsInternal === true,
  };
}

export function toDevice(dto: AteraAgentDto): Device {
  const users = text(dto.CurrentLoggedUsers)
    .split(/[,;]/)
    .map((u) => u.trim())
    .filter((u) => u !== '');
  return {
    name: text(dto.MachineName),
    os: [text(dto.OS), text(dto.OSVersion)].filter((s) => s !== '').join(' '),
    online: dto.Online === true,
    lastSeen: toIsoUtc(dto.LastSeen),
    loggedInUsers: users,
  };
}

/** Whether an agent's logged-in users name this person (DOMAIN\\user, user@domain, or the display name). */
export function agentBelongsTo(dto: AteraAgentDto, who: { email: string; displayName: string }): boolean {
  const email = who.email.toLowerCase();
  const local = email.split('@')[0] ?? '';
  const name = who.displayName.trim().toLowerCase();
  const users = [text(dto.LastLoginUser), ...text(dto.CurrentLoggedUsers).split(/[,;]/)]
    .map((u) => u.trim().toLowerCase())
    .filter((u) => u !== '');
  return users.some((u) => {
    const account = u.includes('\\') ? u.split('\\').pop()! : u;
    return account === email || (local !== '' && account === local) || (name !== '' && account === name);
  });
}
