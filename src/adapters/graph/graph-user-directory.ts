import type {
  EndUserProfile,
  ManagedDevice,
  TenantRef,
  UserDirectory,
  UserLookup,
} from '../../ports/user-directory.js';
import { GraphError } from './graph-error.js';
import { gatewayFor, type GraphAdapterOptions } from './shared-gateway.js';

/** Graph's user as TicketZero selects it (`accountEnabled` and `userType` come back only when selected). */
interface GraphUser {
  id: string;
  displayName: string | null;
  mail: string | null;
  userPrincipalName: string;
  jobTitle: string | null;
  department: string | null;
  preferredLanguage: string | null;
  officeLocation: string | null;
  accountEnabled?: boolean | null;
  userType?: string | null;
}

interface GraphManagedDevice {
  deviceName: string | null;
  operatingSystem: string | null;
  osVersion: string | null;
  complianceState: string | null;
  lastSyncDateTime: string | null;
}

const USER_SELECT = [
  'id',
  'displayName',
  'mail',
  'userPrincipalName',
  'jobTitle',
  'department',
  'preferredLanguage',
  'officeLocation',
  'accountEnabled',
  'userType',
].join(',');
const DEVICE_SELECT = 'deviceName,operatingSystem,osVersion,complianceState,lastSyncDateTime';

/** An OData string literal: single quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The end user's directory entry in Entra ID through Microsoft Graph: by mail, then UPN, then proxy address, with
 * Intune devices where the tenant granted the permission (any 403 there means "not available", not a failure).
 */
export function createGraphUserDirectory(options: GraphAdapterOptions): UserDirectory {
  const gateway = gatewayFor(options);
  const log = options.log.child({ component: 'graph-user-directory' });

  async function firstUser(tenant: TenantRef, filter: string): Promise<GraphUser | null> {
    const page = await gateway.call<{ value: GraphUser[] }>(tenant, {
      method: 'GET',
      path: '/users',
      query: { $filter: filter, $select: USER_SELECT },
    });
    if (page.value.length > 1)
      log.warn({ tenant: tenant.key, matches: page.value.length }, 'several users match');
    return page.value[0] ?? null;
  }

  async function managedDevices(tenant: TenantRef, userId: string): Promise<ManagedDevice[] | null> {
    try {
      const page = await gateway.call<{ value: GraphManagedDevice[] }>(tenant, {
        method: 'GET',
        path: `/users/${encodeURIComponent(userId)}/managedDevices`,
        query: { $select: DEVICE_SELECT },
      });
      return page.value.map((d) => ({
        name: d.deviceName ?? '(unnamed device)',
        operatingSystem: d.operatingSystem ?? 'unknown',
        osVersion: d.osVersion ?? null,
        complianceState: d.complianceState ?? 'unknown',
        lastSyncAt: d.lastSyncDateTime ?? null,
      }));
    } catch (error) {
      if (error instanceof GraphError && error.status === 403) {
        log.info({ tenant: tenant.key, graphCode: error.graphCode }, 'managed devices not permitted');
        return null;
      }
      throw error;
    }
  }

  return {
    async findByEmail(tenant: TenantRef, email: string): Promise<UserLookup> {
      const address = email.trim();
      if (!address.includes('@') || /\s/.test(address) || hasControlCharacter(address))
        return { status: 'not_found' };
      const literal = odataString(address);
      const user =
        (await firstUser(tenant, `mail eq ${literal}`)) ??
        (await firstUser(tenant, `userPrincipalName eq ${literal}`)) ??
        (await firstUser(tenant, `proxyAddresses/any(p:p eq ${odataString(`smtp:${address}`)})`));
      if (!user) return { status: 'not_found' };

      if (user.accountEnabled === false) return { status: 'disabled', user: profile(tenant, user, null) };
      if (user.userType === 'Guest') return { status: 'guest', user: profile(tenant, user, null) };
      return { status: 'found', user: profile(tenant, user, await managedDevices(tenant, user.id)) };
    },

    async isInGroup(tenant: TenantRef, userId: string, groupId: string): Promise<boolean> {
      try {
        const result = await gateway.call<{ value: string[] }>(tenant, {
          method: 'POST',
          path: `/users/${encodeURIComponent(userId)}/checkMemberGroups`,
          body: { groupIds: [groupId] },
        });
        return result.value.some((id) => id.toLowerCase() === groupId.toLowerCase());
      } catch (error) {
        // Someone who is not in the tenant at all is not in its group.
        if (error instanceof GraphError && error.status === 404) return false;
        throw error;
      }
    },
  };
}

function profile(tenant: TenantRef, user: GraphUser, devices: ManagedDevice[] | null): EndUserProfile {
  return {
    id: user.id,
    tenant: { key: tenant.key, tenantId: tenant.tenantId },
    displayName: user.displayName ?? user.userPrincipalName,
    mail: user.mail ?? null,
    userPrincipalName: user.userPrincipalName,
    jobTitle: user.jobTitle ?? null,
    department: user.department ?? null,
    preferredLanguage: user.preferredLanguage ?? null,
    officeLocation: user.officeLocation ?? null,
    managedDevices: devices,
  };
}

function hasControlCharacter(text: string): boolean {
  return [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}
