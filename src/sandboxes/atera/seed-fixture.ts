/**
 * The Atera sandbox's starting data: a small MSP account with four customers, their end users, two technicians,
 * a few RMM agents and realistic tickets (no end-user e-mail, very long descriptions, non-ASCII text, HTML in
 * comments, numeric enum values as in Atera's own Swagger example).
 *
 * Times are minutes before the sandbox starts, so a watcher with a backfill window sees the seeded tickets as recent.
 */

export interface SeedCustomer {
  CustomerID: number;
  CustomerName: string;
  BusinessNumber: string;
  Domain: string;
}

export interface SeedContact {
  EndUserID: number;
  CustomerID: number;
  Firstname: string;
  Lastname: string;
  Email: string;
  JobTitle: string | null;
  Phone: string | null;
  DepartmentName: string | null;
}

export interface SeedTechnician {
  TechnicianContactID: number;
  FirstName: string;
  LastName: string;
  Email: string;
  /** An API identity (TicketZero's own), not a person: never the sandbox's default author of a technician reply. */
  automation?: boolean;
}

export interface SeedAgent {
  AgentID: number;
  MachineName: string;
  CustomerID: number;
  Online: boolean;
  LastSeenMinutesAgo: number;
  OS: string;
  OSVersion: string;
  LastLoginUser: string;
  CurrentLoggedUsers: string | null;
}

export interface SeedComment {
  minutesAgo: number;
  /** HTML as Atera's rich-text editor stores it. */
  html: string;
  by: { endUserEmail: string } | { technicianId: number };
  internal?: boolean;
}

export interface SeedTicket {
  TicketID: number;
  title: string;
  /** HTML or plain text, as it arrives in FirstComment. */
  description: string;
  /** `''` and `null` both occur in the live API for tickets without an end-user e-mail. */
  endUserEmail: string | null;
  endUserFirstName?: string;
  endUserLastName?: string;
  customerId: number;
  status: string;
  /** Atera's Swagger example answers numbers here instead of the enum names; the sandbox reproduces both. */
  priority: string | number;
  impact?: string | number;
  type?: string | number;
  technicianId?: number;
  createdMinutesAgo: number;
  comments?: SeedComment[];
}

export interface SeedFixture {
  customers: SeedCustomer[];
  contacts: SeedContact[];
  technicians: SeedTechnician[];
  agents: SeedAgent[];
  tickets: SeedTicket[];
}

const longDescription = [
  'Since the update last night Outlook keeps asking for my password every few minutes.',
  ...Array.from(
    { length: 60 },
    (_, i) =>
      `Step ${i + 1}: I closed Outlook, opened it again, entered the password, ticked "remember me", ` +
      'and after a while the prompt came back. I also tried the web version which works fine.',
  ),
  'Please help, I have a customer meeting at 3 pm.',
].join('\n');

export const defaultSeedFixture: SeedFixture = {
  customers: [
    { CustomerID: 101, CustomerName: 'Contoso Ltd', BusinessNumber: 'CH-101', Domain: 'contoso.example' },
    { CustomerID: 102, CustomerName: 'Fabrikam Inc', BusinessNumber: 'US-102', Domain: 'fabrikam.example' },
    {
      CustomerID: 103,
      CustomerName: 'Tailspin Toys SARL',
      BusinessNumber: 'FR-103',
      Domain: 'tailspin.example',
    },
    {
      CustomerID: 104,
      CustomerName: 'Northwind Traders',
      BusinessNumber: 'UK-104',
      Domain: 'northwind.example',
    },
  ],
  contacts: [
    {
      EndUserID: 501,
      CustomerID: 101,
      Firstname: 'Megan',
      Lastname: 'Bowen',
      Email: 'megan.bowen@contoso.example',
      JobTitle: 'Marketing Manager',
      Phone: '+41 44 555 01 01',
      DepartmentName: 'Marketing',
    },
    {
      EndUserID: 502,
      CustomerID: 101,
      Firstname: 'Lukas',
      Lastname: 'Schmidt',
      Email: 'lukas.schmidt@contoso.example',
      JobTitle: 'Buchhalter',
      Phone: '+41 44 555 01 02',
      DepartmentName: 'Finanzen',
    },
    {
      EndUserID: 503,
      CustomerID: 101,
      Firstname: 'Diego',
      Lastname: 'Siciliani',
      Email: 'diego.siciliani@contoso.example',
      JobTitle: 'HR Manager',
      Phone: null,
      DepartmentName: 'HR',
    },
    {
      EndUserID: 504,
      CustomerID: 101,
      Firstname: 'Ghost',
      Lastname: 'User',
      Email: 'ghost.user@contoso.example',
      JobTitle: null,
      Phone: null,
      DepartmentName: null,
    },
    {
      EndUserID: 511,
      CustomerID: 102,
      Firstname: 'Adele',
      Lastname: 'Vance',
      Email: 'adele.vance@fabrikam.example',
      JobTitle: 'Retail Manager',
      Phone: '+1 425 555 0111',
      DepartmentName: 'Retail',
    },
    {
      EndUserID: 512,
      CustomerID: 102,
      Firstname: 'Pradeep',
      Lastname: 'Gupta',
      Email: 'pradeep.gupta@fabrikam.example',
      JobTitle: 'Accountant',
      Phone: '+1 425 555 0112',
      DepartmentName: 'Finance',
    },
    {
      EndUserID: 521,
      CustomerID: 103,
      Firstname: 'Isabelle',
      Lastname: 'Dubois',
      Email: 'isabelle.dubois@tailspin.example',
      JobTitle: 'Chargée de clientèle',
      Phone: '+33 1 55 55 01 21',
      DepartmentName: 'Ventes',
    },
    {
      EndUserID: 531,
      CustomerID: 104,
      Firstname: 'Reception',
      Lastname: 'Desk',
      Email: '',
      JobTitle: null,
      Phone: '+44 20 5555 0131',
      DepartmentName: null,
    },
  ],
  technicians: [
    { TechnicianContactID: 7, FirstName: 'Dana', LastName: 'Tech', Email: 'dana.tech@msp.example' },
    { TechnicianContactID: 8, FirstName: 'Sam', LastName: 'Support', Email: 'sam.support@msp.example' },
    // The identity TicketZero writes its comments as in local runs (ATERA_TECHNICIAN_ID=9).
    {
      TechnicianContactID: 9,
      FirstName: 'TicketZero',
      LastName: 'Bot',
      Email: 'ticketzero@msp.example',
      automation: true,
    },
  ],
  agents: [
    {
      AgentID: 9001,
      MachineName: 'CONTOSO-LT-MB01',
      CustomerID: 101,
      Online: true,
      LastSeenMinutesAgo: 1,
      OS: 'Windows 11 Pro',
      OSVersion: '10.0.22631',
      LastLoginUser: 'CONTOSO\\megan.bowen',
      CurrentLoggedUsers: 'CONTOSO\\megan.bowen',
    },
    {
      AgentID: 9002,
      MachineName: 'CONTOSO-LT-LS02',
      CustomerID: 101,
      Online: false,
      LastSeenMinutesAgo: 2880,
      OS: 'Windows 10 Pro',
      OSVersion: '10.0.19045',
      LastLoginUser: 'CONTOSO\\lukas.schmidt',
      CurrentLoggedUsers: null,
    },
    {
      AgentID: 9003,
      MachineName: 'FAB-DT-AV01',
      CustomerID: 102,
      Online: true,
      LastSeenMinutesAgo: 0,
      OS: 'Windows 11 Enterprise',
      OSVersion: '10.0.22631',
      LastLoginUser: 'adele.vance@fabrikam.example',
      CurrentLoggedUsers: 'adele.vance@fabrikam.example',
    },
    {
      AgentID: 9004,
      MachineName: 'TAILSPIN-MAC-ID',
      CustomerID: 103,
      Online: true,
      LastSeenMinutesAgo: 5,
      OS: 'macOS 14.5',
      OSVersion: '14.5',
      LastLoginUser: 'isabelle.dubois',
      CurrentLoggedUsers: 'isabelle.dubois',
    },
    {
      AgentID: 9005,
      MachineName: 'CONTOSO-SRV-FS01',
      CustomerID: 101,
      Online: true,
      LastSeenMinutesAgo: 0,
      OS: 'Windows Server 2022',
      OSVersion: '10.0.20348',
      LastLoginUser: 'CONTOSO\\administrator',
      CurrentLoggedUsers: null,
    },
  ],
  tickets: [
    {
      TicketID: 1001,
      title: 'Outlook keeps asking for my password',
      description: longDescription,
      endUserEmail: 'megan.bowen@contoso.example',
      customerId: 101,
      status: 'Open',
      priority: 'Medium',
      impact: 'Minor',
      type: 'Incident',
      createdMinutesAgo: 240,
    },
    {
      TicketID: 1002,
      title: 'Drucker im 2. Stock druckt nur leere Seiten',
      description:
        '<p>Grüß Gott,</p><p>der Drucker im 2. Stock (HP LaserJet) druckt seit heute früh nur leere Seiten. ' +
        'Tonerstand laut Anzeige 80&nbsp;%. Können Sie bitte nachsehen?</p><p>Danke, Lukas</p>',
      endUserEmail: 'lukas.schmidt@contoso.example',
      customerId: 101,
      status: 'Open',
      priority: 'Low',
      type: 'Incident',
      createdMinutesAgo: 180,
      comments: [
        {
          minutesAgo: 170,
          html: '<div>Ich habe den Drucker schon <b>aus- und eingeschaltet</b>, leider ohne Erfolg.</div>',
          by: { endUserEmail: 'lukas.schmidt@contoso.example' },
        },
      ],
    },
    {
      TicketID: 1003,
      title: 'VPN disconnects every 10 minutes',
      description: 'The GlobalProtect VPN drops every ~10 minutes when I work from home. Started Monday.',
      endUserEmail: 'adele.vance@fabrikam.example',
      customerId: 102,
      status: 'Pending',
      priority: 'High',
      impact: 'Major',
      type: 'Incident',
      technicianId: 7,
      createdMinutesAgo: 1500,
      comments: [
        {
          minutesAgo: 1400,
          html: '<p>Hi Adele, could you send us the output of <code>ipconfig /all</code>?</p>',
          by: { technicianId: 7 },
        },
        {
          minutesAgo: 1390,
          html: '<p>Internal: check the ISP&#39;s MTU &amp; the GP gateway logs &lt;fw-02&gt;.</p>',
          by: { technicianId: 7 },
          internal: true,
        },
      ],
    },
    {
      TicketID: 1004,
      title: 'Excel crashes when opening the Q3 budget workbook',
      description: 'Excel closes without an error message as soon as I open Budget_Q3.xlsx from SharePoint.',
      endUserEmail: 'pradeep.gupta@fabrikam.example',
      customerId: 102,
      status: 'Open',
      // As in the example answer of Atera's Swagger document: numbers where the schema says enum names.
      priority: 3,
      impact: 11,
      type: 1,
      createdMinutesAgo: 95,
    },
    {
      TicketID: 1005,
      title: "Impossible d'accéder au dossier partagé « Clients »",
      description:
        "Bonjour,\n\ndepuis ce matin je n'arrive plus à ouvrir le dossier partagé « Clients » (accès refusé). " +
        'Mes collègues y ont accès. Merci de votre aide !\n\nIsabelle',
      endUserEmail: 'isabelle.dubois@tailspin.example',
      customerId: 103,
      status: 'Open',
      priority: 'Medium',
      type: 'Request',
      createdMinutesAgo: 60,
    },
    {
      TicketID: 1006,
      title: 'Reception PC very slow',
      description: 'Called in by phone: the reception PC takes 10 minutes to start.',
      endUserEmail: '',
      endUserFirstName: 'Reception',
      endUserLastName: 'Desk',
      customerId: 104,
      status: 'Open',
      priority: 'Low',
      createdMinutesAgo: 45,
    },
    {
      TicketID: 1007,
      title: 'Alert: Disk C: on CONTOSO-SRV-FS01 below 10% free',
      description: 'Threshold alert raised by the Atera agent.',
      endUserEmail: null,
      customerId: 101,
      status: 'Open',
      priority: 'Critical',
      impact: 'ServerIssue',
      type: 'Problem',
      createdMinutesAgo: 30,
    },
    {
      TicketID: 1008,
      title: 'New starter needs a laptop',
      description: '<p>Please prepare a laptop for our new colleague starting on the 1st.</p>',
      endUserEmail: 'diego.siciliani@contoso.example',
      customerId: 101,
      status: 'Resolved',
      priority: 'Low',
      type: 'Request',
      technicianId: 8,
      createdMinutesAgo: 4000,
      comments: [
        {
          minutesAgo: 3000,
          html: '<p>Laptop is ready &#x2714; &mdash; pick it up at the front desk.</p>',
          by: { technicianId: 8 },
        },
      ],
    },
    {
      TicketID: 1009,
      title: 'Teams meetings: camera not detected',
      description: 'My camera works in the Windows camera app but Teams says no camera found.',
      endUserEmail: 'ghost.user@contoso.example',
      customerId: 101,
      status: 'Open',
      priority: 'Medium',
      type: 'Incident',
      createdMinutesAgo: 20,
    },
    {
      TicketID: 1010,
      title: 'Old ticket closed last week',
      description: 'Mailbox full.',
      endUserEmail: 'megan.bowen@contoso.example',
      customerId: 101,
      status: 'Closed',
      priority: 'Low',
      technicianId: 7,
      createdMinutesAgo: 10_000,
    },
  ],
};
