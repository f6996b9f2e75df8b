/** Tickets and profiles for the prompt and AI tests. */
import type { Device, Ticket } from '../../../src/ports/ticket-desk.js';
import type { EndUserProfile } from '../../../src/ports/user-directory.js';
import { makeTicket, makeUser } from '../../support/in-memory-ports.js';

export function vpnTicket(overrides: Partial<Ticket> = {}): Ticket {
  return makeTicket({
    id: 4711,
    title: 'VPN does not connect',
    description:
      'Since this morning the VPN client says "connection failed" when I try to connect from home.',
    priority: 'High',
    modifiedAt: null,
    ...overrides,
  });
}

export function megan(overrides: Partial<EndUserProfile> = {}): EndUserProfile {
  return makeUser({
    tenant: { key: 'contoso', tenantId: '00000000-0000-0000-0000-000000000001' },
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
  });
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
