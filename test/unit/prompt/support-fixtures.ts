/** Tickets and profiles for the prompt and AI tests. */
import type { Device, Ticket } from '../../../src/ports/ticket-desk.js';
import type { EndUserProfile } from '../../../src/ports/user-directory.js';

export function vpnTicket(overrides: Partial<Ticket> = {}): Ticket {
  return {
    id: 4711,
    number: '4711',
    title: 'VPN does not connect',
    description:
      'Since this morning the VPN client says "connection failed" when I try to connect from home.',
    priority: 'High',
    status: 'Open',
    type: 'Incident',
    createdAt: '2026-11-25T08:59:00.000Z',
    modifiedAt: null,
    customer: { id: 101, name: 'Contoso Ltd' },
    endUser: {
      id: 501,
      email: 'megan.bowen@contoso.example',
      firstName: 'Megan',
      lastName: 'Bowen',
      phone: null,
    },
    technician: { contactId: null, email: null, fullName: null },
    ...overrides,
  };
}

export function megan(overrides: Partial<EndUserProfile> = {}): EndUserProfile {
  return {
    id: 'aad-megan',
    tenant: { key: 'contoso', tenantId: '00000000-0000-0000-0000-000000000001' },
    displayName: 'Megan Bowen',
    mail: 'megan.bowen@contoso.example',
    userPrincipalName: 'megan.bowen@contoso.example',
    jobTitle: 'Marketing Manager',
    department: 'Marketing',
    preferredLanguage: 'en-US',
    officeLocation: null,
    managedDevices: [
      {
        name: 'CONTOSO-LT-042',
        operatingSystem: 'Windows',
        osVersion: '10.0.22631',
        complianceState: 'noncompliant',
        lastSyncAt: null,
      },
    ],
    ...overrides,
  };
}

export const rmmDevices: Device[] = [
  {
    name: 'CONTOSO-LT-042',
    os: 'Windows 11 Pro',
    online: true,
    lastSeen: null,
    loggedInUsers: ['megan.bowen'],
  },
];
