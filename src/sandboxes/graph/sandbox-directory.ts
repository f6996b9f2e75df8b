/**
 * What the Graph sandbox knows: tenants (with the credentials and application permissions they accept), their
 * users, groups, Intune devices and the TicketZero app in each tenant's catalogue. The default fixture mirrors the
 * customers in `test/fixtures/graph/tenants.sandbox.json`.
 */

/** Graph application permissions the sandbox enforces (names as in Microsoft's permissions reference). */
export type GraphPermission =
  | 'User.Read.All'
  | 'TeamsAppInstallation.ReadWriteSelfForUser.All'
  | 'AppCatalog.Read.All'
  | 'DeviceManagementManagedDevices.Read.All'
  | 'GroupMember.Read.All';

export interface SandboxTeamsApp {
  /** The app's id in this tenant's catalogue (differs from the manifest id for org-published apps). */
  catalogId: string;
  /** The manifest id (`externalId` in Graph). */
  externalId: string;
  displayName: string;
  /** The bot registration serving this tenant (chat ids are `19:<user>_<bot>@unq.gbl.spaces`). */
  botId: string;
}

export interface SandboxGroup {
  id: string;
  displayName: string;
  memberIds: string[];
}

export interface SandboxTenant {
  key: string;
  tenantId: string;
  displayName: string;
  /** The app registration TicketZero uses in this tenant (client-credentials grant). */
  clientId: string;
  clientSecret: string;
  permissions: GraphPermission[];
  groups: SandboxGroup[];
  teamsApps: SandboxTeamsApp[];
}

export interface SandboxDevice {
  id: string;
  deviceName: string;
  operatingSystem: string;
  osVersion: string | null;
  complianceState: string;
  lastSyncDateTime: string | null;
}

export interface SandboxUser {
  id: string;
  /** The tenant (Entra id) the user belongs to. */
  tenantId: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  mail: string | null;
  userPrincipalName: string;
  /** As Graph stores them: `SMTP:` marks the primary address, `smtp:` the aliases. */
  proxyAddresses: string[];
  jobTitle: string | null;
  department: string | null;
  preferredLanguage: string | null;
  officeLocation: string | null;
  accountEnabled: boolean;
  userType: 'Member' | 'Guest';
  devices: SandboxDevice[];
  /** Overrides the 1:1 chat id reported after installation (e.g. the Agents Playground's personal chat). */
  chatId?: string;
}

/** The TicketZero Teams app's manifest id in the sandbox tenants (TEAMS_APP_ID for local runs). */
export const SANDBOX_TEAMS_APP_ID = '7c5e2f1a-3b4d-4e6f-8a9b-0c1d2e3f4a5b';

/** Agents Playground defaults (from its built-in config in `@microsoft/m365agentsplayground` 0.2.x). */
export const PLAYGROUND = {
  tenantId: '00000000-0000-0000-0000-0000000000001',
  botId: '00000000-0000-0000-0000-00000000000011',
  user: {
    id: 'user-id-0',
    name: 'Alex Wilber',
    aadObjectId: '00000000-0000-0000-0000-0000000000020',
    email: 'alexw@example.com',
  },
} as const;

const ALL_PERMISSIONS: GraphPermission[] = [
  'User.Read.All',
  'TeamsAppInstallation.ReadWriteSelfForUser.All',
  'AppCatalog.Read.All',
  'DeviceManagementManagedDevices.Read.All',
  'GroupMember.Read.All',
];

function teamsApp(catalogId: string, botId: string): SandboxTeamsApp {
  return { catalogId, externalId: SANDBOX_TEAMS_APP_ID, displayName: 'TicketZero', botId };
}

export const SANDBOX_TENANTS: readonly SandboxTenant[] = [
  {
    key: 'contoso',
    tenantId: '11111111-1111-4111-8111-111111111111',
    displayName: 'Contoso',
    clientId: 'c0000001-0000-4000-8000-000000000001',
    clientSecret: 'contoso-sandbox-graph-secret',
    permissions: ALL_PERMISSIONS,
    groups: [],
    teamsApps: [teamsApp('a1000001-0000-4000-8000-000000000001', 'b0000001-0000-4000-8000-000000000001')],
  },
  {
    key: 'fabrikam',
    tenantId: '22222222-2222-4222-8222-222222222222',
    displayName: 'Fabrikam',
    clientId: 'c0000002-0000-4000-8000-000000000002',
    clientSecret: 'fabrikam-sandbox-graph-secret',
    // Fabrikam never consented to Intune: managed devices answer 403.
    permissions: ALL_PERMISSIONS.filter((p) => p !== 'DeviceManagementManagedDevices.Read.All'),
    groups: [],
    teamsApps: [teamsApp('a1000002-0000-4000-8000-000000000002', 'b0000002-0000-4000-8000-000000000002')],
  },
  {
    key: 'msp',
    tenantId: '33333333-3333-4333-8333-333333333333',
    displayName: 'The MSP',
    clientId: 'c0000003-0000-4000-8000-000000000003',
    clientSecret: 'msp-sandbox-graph-secret',
    permissions: ALL_PERMISSIONS,
    groups: [
      {
        id: '44444444-4444-4444-8444-444444444444',
        displayName: 'TicketZero Technicians',
        memberIds: ['d0000301-0000-4000-8000-000000000301', 'd0000302-0000-4000-8000-000000000302'],
      },
    ],
    teamsApps: [teamsApp('a1000003-0000-4000-8000-000000000003', 'b0000003-0000-4000-8000-000000000003')],
  },
  {
    key: 'tailspin',
    tenantId: '55555555-5555-4555-8555-555555555555',
    displayName: 'Tailspin Toys',
    clientId: 'c0000005-0000-4000-8000-000000000005',
    clientSecret: 'tailspin-sandbox-graph-secret',
    permissions: ALL_PERMISSIONS,
    groups: [],
    teamsApps: [teamsApp('a1000005-0000-4000-8000-000000000005', 'b0000005-0000-4000-8000-000000000005')],
  },
  {
    key: 'playground',
    tenantId: PLAYGROUND.tenantId,
    displayName: 'Agents Playground',
    clientId: 'c0000000-0000-4000-8000-000000000000',
    clientSecret: 'playground-sandbox-graph-secret',
    permissions: ALL_PERMISSIONS,
    groups: [],
    teamsApps: [teamsApp('a1000000-0000-4000-8000-000000000000', PLAYGROUND.botId)],
  },
];

interface UserSeed {
  id: string;
  tenantId: string;
  displayName: string;
  mail: string | null;
  userPrincipalName?: string;
  aliases?: string[];
  jobTitle?: string;
  department?: string;
  preferredLanguage?: string;
  officeLocation?: string;
  accountEnabled?: boolean;
  userType?: 'Member' | 'Guest';
  devices?: SandboxDevice[];
  chatId?: string;
}

function user(seed: UserSeed): SandboxUser {
  const [givenName = null, ...rest] = seed.displayName.split(' ');
  const upn = seed.userPrincipalName ?? seed.mail ?? `${seed.id}@sandbox.example`;
  return {
    id: seed.id,
    tenantId: seed.tenantId,
    displayName: seed.displayName,
    givenName,
    surname: rest.length > 0 ? rest.join(' ') : null,
    mail: seed.mail,
    userPrincipalName: upn,
    proxyAddresses: [
      ...(seed.mail ? [`SMTP:${seed.mail}`] : []),
      ...(seed.aliases ?? []).map((a) => `smtp:${a}`),
    ],
    jobTitle: seed.jobTitle ?? null,
    department: seed.department ?? null,
    preferredLanguage: seed.preferredLanguage ?? null,
    officeLocation: seed.officeLocation ?? null,
    accountEnabled: seed.accountEnabled ?? true,
    userType: seed.userType ?? 'Member',
    devices: seed.devices ?? [],
    ...(seed.chatId ? { chatId: seed.chatId } : {}),
  };
}

const CONTOSO = '11111111-1111-4111-8111-111111111111';
const FABRIKAM = '22222222-2222-4222-8222-222222222222';
const MSP = '33333333-3333-4333-8333-333333333333';
const TAILSPIN = '55555555-5555-4555-8555-555555555555';

export const SANDBOX_USERS: readonly SandboxUser[] = [
  user({
    id: 'a7f3c2e1-5b6d-4c8e-9f01-23456789ab01',
    tenantId: CONTOSO,
    displayName: 'Megan Bowen',
    mail: 'megan.bowen@contoso.example',
    aliases: ['megan+support@contoso.example'],
    jobTitle: 'Marketing Manager',
    department: 'Marketing',
    preferredLanguage: 'en-US',
    officeLocation: 'Seattle 12/1110',
    devices: [
      {
        id: '5c1f9a7e-0d2b-4e3c-8a6f-9b8c7d6e5f01',
        deviceName: 'CONTOSO-LT-MEGAN',
        operatingSystem: 'Windows',
        osVersion: '10.0.22631.4317',
        complianceState: 'compliant',
        lastSyncDateTime: '2025-01-14T08:12:44Z',
      },
    ],
  }),
  user({
    id: 'b2e4d6f8-1a3c-4e5f-8071-92a3b4c5d602',
    tenantId: CONTOSO,
    displayName: 'Lukas Schmidt',
    mail: 'lukas.schmidt@contoso.example',
    jobTitle: 'Buchhalter',
    department: 'Finance',
    preferredLanguage: 'de-DE',
    officeLocation: 'München 3.14',
    devices: [
      {
        id: '6d2a0b8f-1e3c-4f4d-9b7a-0c9d8e7f6a02',
        deviceName: 'CONTOSO-PC-LUKAS',
        operatingSystem: 'Windows',
        osVersion: '10.0.19045.5131',
        complianceState: 'noncompliant',
        lastSyncDateTime: '2024-12-02T16:40:03Z',
      },
    ],
  }),
  user({
    id: 'c3f5e7a9-2b4d-4f60-9182-a3b4c5d6e703',
    tenantId: CONTOSO,
    displayName: 'Diego Siciliani',
    mail: 'diego.siciliani@contoso.example',
    aliases: ['d.siciliani@contoso.example'],
    jobTitle: 'HR Manager',
    department: 'HR',
    preferredLanguage: 'en-GB',
    officeLocation: 'London 2/201',
  }),
  user({
    id: 'd4a6f8b0-3c5e-4071-8293-b4c5d6e7f804',
    tenantId: CONTOSO,
    displayName: "Liam O'Connor",
    mail: 'liam.oconnor@contoso.example',
    aliases: ["liam.o'connor@contoso.example"],
    jobTitle: 'Sales Representative',
    department: 'Sales',
    preferredLanguage: 'en-IE',
  }),
  // Unlicensed for mail: found only by UPN.
  user({
    id: '9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a50a',
    tenantId: CONTOSO,
    displayName: 'Nestor Wilke',
    mail: null,
    userPrincipalName: 'nestor.wilke@contoso.example',
    jobTitle: 'Warehouse Operator',
    department: 'Operations',
    preferredLanguage: 'en-US',
  }),
  user({
    id: 'e5b7a9c1-4d6f-4182-93a4-c5d6e7f80905',
    tenantId: CONTOSO,
    displayName: 'Former Employee',
    mail: 'former.employee@contoso.example',
    jobTitle: 'Analyst',
    department: 'Finance',
    preferredLanguage: 'en-US',
    accountEnabled: false,
  }),
  user({
    id: 'f6c8b0d2-5e70-4293-a4b5-d6e7f8091a06',
    tenantId: CONTOSO,
    displayName: 'Partner Guest',
    mail: 'partner.guest@contoso.example',
    userPrincipalName: 'partner.guest_contoso.example#EXT#@contoso.onmicrosoft.com',
    userType: 'Guest',
  }),
  user({
    id: '0a1b2c3d-6f81-43a4-b5c6-e7f8091a2b07',
    tenantId: FABRIKAM,
    displayName: 'Adele Vance',
    mail: 'adele.vance@fabrikam.example',
    jobTitle: 'Retail Manager',
    department: 'Retail',
    preferredLanguage: 'en-US',
    devices: [
      {
        id: '7e3b1c9a-2f4d-4a5e-8c8b-1d0e9f8a7b03',
        deviceName: 'FABRIKAM-LT-ADELE',
        operatingSystem: 'Windows',
        osVersion: '10.0.22631.4317',
        complianceState: 'compliant',
        lastSyncDateTime: '2025-01-13T09:00:00Z',
      },
    ],
  }),
  user({
    id: '1b2c3d4e-7092-44b5-86d7-f8091a2b3c08',
    tenantId: FABRIKAM,
    displayName: 'Pradeep Gupta',
    mail: 'pradeep.gupta@fabrikam.example',
    jobTitle: 'Accountant',
    department: 'Finance',
    preferredLanguage: 'en-IN',
  }),
  user({
    id: '2c3d4e5f-81a3-45c6-97e8-091a2b3c4d09',
    tenantId: TAILSPIN,
    displayName: 'Isabelle Dubois',
    mail: 'isabelle.dubois@tailspin.example',
    jobTitle: 'Cheffe de projet',
    department: 'Opérations',
    preferredLanguage: 'fr-FR',
    officeLocation: 'Lyon',
  }),
  user({
    id: 'd0000301-0000-4000-8000-000000000301',
    tenantId: MSP,
    displayName: 'Dana Tech',
    mail: 'dana.tech@msp.example',
    jobTitle: 'Service Desk Technician',
    department: 'Service Desk',
    preferredLanguage: 'en-US',
  }),
  user({
    id: 'd0000302-0000-4000-8000-000000000302',
    tenantId: MSP,
    displayName: 'Sam Support',
    mail: 'sam.support@msp.example',
    jobTitle: 'Senior Technician',
    department: 'Service Desk',
    preferredLanguage: 'en-US',
  }),
  user({
    id: 'd0000303-0000-4000-8000-000000000303',
    tenantId: MSP,
    displayName: 'Riley Sales',
    mail: 'riley.sales@msp.example',
    jobTitle: 'Account Manager',
    department: 'Sales',
    preferredLanguage: 'en-US',
  }),
  // The Agents Playground's default signed-in user, so a local run's tickets reach the Playground chat.
  user({
    id: PLAYGROUND.user.aadObjectId,
    tenantId: PLAYGROUND.tenantId,
    displayName: PLAYGROUND.user.name,
    mail: PLAYGROUND.user.email,
    jobTitle: 'Retail Manager',
    department: 'Retail',
    preferredLanguage: 'en-US',
  }),
];
