/**
 * Extra Contoso users for load-shaped tests: each is known to the Graph sandbox (a member with a mailbox) and to
 * the connector sandbox (a Teams identity), so one ticket per user gets its own 1:1 chat.
 */
import type { LocalStack } from '../../../src/sandboxes/local-stack.js';
import { CONTOSO_TENANT } from '../../../src/sandboxes/local-stack.js';
import type { TeamsUser } from '../../../src/sandboxes/connector/connector-sandbox.js';

export interface LoadUser extends TeamsUser {
  email: string;
}

export function addContosoUsers(stack: LocalStack, count: number): LoadUser[] {
  const users: LoadUser[] = [];
  for (let i = 1; i <= count; i += 1) {
    const n = String(i).padStart(4, '0');
    const aadObjectId = `e0000000-0000-4000-8000-00000000${n}`;
    const email = `load.user${n}@contoso.example`;
    const name = `Load User ${n}`;
    stack.graph.addUser({
      id: aadObjectId,
      tenantId: CONTOSO_TENANT.tenantId,
      displayName: name,
      givenName: 'Load',
      surname: `User ${n}`,
      mail: email,
      userPrincipalName: email,
      proxyAddresses: [`SMTP:${email}`],
      jobTitle: null,
      department: null,
      preferredLanguage: 'en-US',
      officeLocation: null,
      accountEnabled: true,
      userType: 'Member',
      devices: [],
    });
    const user: LoadUser = {
      id: `29:load-user-${n}`,
      aadObjectId,
      name,
      tenantId: CONTOSO_TENANT.tenantId,
      email,
    };
    stack.connector?.addUser(user);
    users.push(user);
  }
  return users;
}
