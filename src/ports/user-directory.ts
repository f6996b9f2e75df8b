/**
 * UserDirectory: the customer's identity provider (Entra ID through Microsoft Graph) as the engine sees it.
 */

/** Which Microsoft 365 tenant serves a customer; credentials stay in the adapter, keyed by `key`. */
export interface TenantRef {
  /** Stable key from the tenant map (or "default"). */
  key: string;
  /** Entra tenant id (GUID). */
  tenantId: string;
}

export type ComplianceState =
  | 'unknown'
  | 'compliant'
  | 'noncompliant'
  | 'conflict'
  | 'error'
  | 'inGracePeriod'
  | 'configManager'
  | (string & {});

export interface ManagedDevice {
  name: string;
  operatingSystem: string;
  osVersion: string | null;
  complianceState: ComplianceState;
  lastSyncAt: string | null;
}

export interface EndUserProfile {
  /** Entra object id (aadObjectId in Teams activities). */
  id: string;
  tenant: TenantRef;
  displayName: string;
  mail: string | null;
  userPrincipalName: string;
  jobTitle: string | null;
  department: string | null;
  /** BCP 47, e.g. "de-DE"; null when unset. */
  preferredLanguage: string | null;
  officeLocation: string | null;
  /** Intune devices; `null` when the permission is not granted (not an error). */
  managedDevices: ManagedDevice[] | null;
}

export type UserLookup =
  | { status: 'found'; user: EndUserProfile }
  | { status: 'not_found' }
  | { status: 'disabled'; user: EndUserProfile }
  | { status: 'guest'; user: EndUserProfile };

export interface UserDirectory {
  /** Finds the user by mail, UPN or proxy address. Transient failures throw a coded error. */
  findByEmail(tenant: TenantRef, email: string): Promise<UserLookup>;
  /** True when the user is a member of the tenant's technicians' group (when one is configured). */
  isInGroup(tenant: TenantRef, userId: string, groupId: string): Promise<boolean>;
}

/** Maps an Atera customer to the tenant that serves it; `null` when the customer is not mapped. */
export interface TenantDirectory {
  tenantForCustomer(customerId: number | null): TenantRef | null;
  /** The tenant whose Entra id is given (inbound activities carry it). */
  tenantById(tenantId: string): TenantRef | null;
}
