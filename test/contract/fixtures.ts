/**
 * Realistic records for store tests (and anyone else who needs a conversation): a ticket from an Atera customer,
 * an end user found in Entra ID, a 1:1 chat, a technicians' thread and a few turns.
 */
import type { ConversationRecord, Turn } from '../../src/ports/conversation-store.js';
import type { NewComment } from '../../src/ports/ticket-desk.js';

export function makeConversationRecord(overrides: Partial<ConversationRecord> = {}): ConversationRecord {
  const ticketId = overrides.ticketId ?? 4711;
  const createdAt = overrides.createdAt ?? '2026-03-02T08:15:00.000Z';
  return {
    ticketId,
    version: 0,
    tenantKey: 'contoso',
    ticket: {
      id: ticketId,
      number: String(ticketId),
      title: 'Outlook keeps asking for my password',
      description:
        'Since this morning Outlook asks for my password every few minutes. I typed it in, it is accepted, then it asks again. Teams works.',
      priority: 'Medium',
      status: 'Open',
      type: 'Problem',
      createdAt,
      modifiedAt: null,
      customer: { id: 12, name: 'Contoso Ltd' },
      endUser: {
        id: 301,
        email: 'megan.bowen@contoso.example',
        firstName: 'Megan',
        lastName: 'Bowen',
        phone: '+49 30 1234567',
      },
      technician: { contactId: null, email: null, fullName: null },
    },
    user: {
      id: 'f3a9c2d1-7b4e-4c1a-9e0f-2d6b8a5c4e11',
      tenant: { key: 'contoso', tenantId: '6e2f1b8a-1c3d-4e5f-9a7b-0c1d2e3f4a5b' },
      displayName: 'Megan Bowen',
      mail: 'megan.bowen@contoso.example',
      userPrincipalName: 'meganb@contoso.example',
      jobTitle: 'Marketing Manager',
      department: 'Marketing',
      preferredLanguage: 'de-DE',
      officeLocation: 'Berlin',
      managedDevices: [
        {
          name: 'CONTOSO-LT-042',
          operatingSystem: 'Windows',
          osVersion: '10.0.22631',
          complianceState: 'compliant',
          lastSyncAt: '2026-03-02T07:55:00.000Z',
        },
      ],
    },
    devices: [
      {
        name: 'CONTOSO-LT-042',
        os: 'Windows 11 Pro',
        online: true,
        lastSeen: '2026-03-02T08:10:00.000Z',
        loggedInUsers: ['CONTOSO\\meganb'],
      },
    ],
    state: 'active',
    chatConversationId: `a:1Xk${ticketId}mQ8zP`,
    thread: {
      threadId: `19:7c1b2a3d4e5f60718293a4b5c6d7e8f9@thread.tacv2;messageid=17093712000${ticketId}`,
      cardActivityId: `17093712000${ticketId}`,
    },
    createdAt,
    startedAt: '2026-03-02T08:15:05.000Z',
    deadlineAt: '2026-03-02T08:45:05.000Z',
    rounds: 1,
    turns: [
      makeTurn(
        1,
        'assistant',
        'Hello Megan, I am TicketZero. Does the prompt appear in Outlook only, or also in Word?',
      ),
      makeTurn(2, 'user', 'Only in Outlook, the little window with my email address in it', 'inbound-1'),
    ],
    awaitingAnswer: true,
    outcome: null,
    takenOverBy: null,
    category: null,
    lastProvider: 'local',
    pendingTicketChange: null,
    updatedAt: '2026-03-02T08:16:00.000Z',
    ...overrides,
  };
}

export function makeTurn(seq: number, role: Turn['role'], text: string, inboundId?: string): Turn {
  return {
    seq,
    role,
    text,
    at: new Date(Date.parse('2026-03-02T08:15:00.000Z') + seq * 30_000).toISOString(),
    ...(inboundId ? { inboundId } : {}),
    ...(role === 'assistant' ? { provider: 'local' } : {}),
  };
}

/** An ended conversation (resolved by default), as retention and reports see it. */
export function makeEndedRecord(
  ticketId: number,
  endedAt: string,
  overrides: Partial<ConversationRecord> = {},
): ConversationRecord {
  return makeConversationRecord({
    ticketId,
    state: 'resolved',
    outcome: { kind: 'resolved', reason: 'user_asked', at: endedAt },
    updatedAt: endedAt,
    awaitingAnswer: false,
    ...overrides,
  });
}

export function makeComment(text: string, overrides: Partial<NewComment> = {}): NewComment {
  return {
    text,
    visibility: 'internal',
    author: 'end_user',
    endUserId: 301,
    timestampUtc: '2026-03-02T08:16:00.000Z',
    marker: `tz-${Math.random().toString(36).slice(2, 10)}`,
    ...overrides,
  };
}
