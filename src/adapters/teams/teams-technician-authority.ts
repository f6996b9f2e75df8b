/**
 * Who is a technician: a member of the technicians' team (asked of the connector, by the Entra object id from the
 * authenticated activity) or of the technicians' Entra group. Nothing in message text counts. Answers are cached
 * briefly so a burst of commands costs one roster look-up.
 */
import type { TechnicianAuthority } from '../../ports/technicians.js';
import type { TechnicianIdentity } from '../../ports/support-engine.js';
import type { Log } from '../../ports/log.js';
import type { TenantRef } from '../../ports/user-directory.js';
import type { ResolvedLocation } from './teams-technician-channel.js';

/** Structural: the Graph adapter's group check. */
export interface GroupMembership {
  isInGroup(tenant: TenantRef, userId: string, groupId: string): Promise<boolean>;
}

export interface TechnicianAuthorityDeps {
  /** The technicians' team (configured or captured); null when there is none yet. */
  location: () => Promise<ResolvedLocation | null>;
  /**
   * Before any technicians' team is known, the team a command is said in (one the bot was added to) is the one
   * whose members may capture a channel with "use this channel". Null when the bot does not know that team.
   */
  candidateTeam: (teamId: string) => Promise<ResolvedLocation | null>;
  /** Whether `userId` is a member of the team (connector roster); false when the connector says 404. */
  isTeamMember: (where: ResolvedLocation, userId: string) => Promise<boolean>;
  /** The technicians' Entra group, checked in the tenant the person belongs to (when TicketZero knows it). */
  groupCheck?:
    | { membership: GroupMembership; groupId: string; tenantFor: (tenantId: string) => TenantRef | null }
    | undefined;
  cacheMs?: number;
  now?: () => number;
  log: Log;
}

export function createTeamsTechnicianAuthority(deps: TechnicianAuthorityDeps): TechnicianAuthority {
  const cacheMs = deps.cacheMs ?? 60_000;
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { value: boolean; until: number }>();

  async function cached(key: string, compute: () => Promise<boolean>): Promise<boolean> {
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.value;
    const value = await compute();
    cache.set(key, { value, until: now() + cacheMs });
    if (cache.size > 5000) cache.delete(cache.keys().next().value as string);
    return value;
  }

  return {
    async isTechnician(who: TechnicianIdentity, said: { teamId: string | null }) {
      if (!who.userId) return false;
      const known = await deps.location();
      if (known && said.teamId) {
        // Ticket details are for the technicians' team: a command said in another team's channel is refused,
        // even from a technician, so nothing about a ticket is posted where non-technicians read it.
        const saidTeam = (await deps.candidateTeam(said.teamId))?.teamId ?? said.teamId;
        if (saidTeam !== known.teamId) {
          deps.log.info(
            { userId: who.userId, teamId: said.teamId },
            'command refused outside the technicians’ team',
          );
          return false;
        }
      }
      const where = known ?? (said.teamId ? await deps.candidateTeam(said.teamId) : null);
      if (where) {
        const sameTenant = !where.tenantId || !who.tenantId || where.tenantId === who.tenantId;
        if (
          sameTenant &&
          (await cached(`team:${where.teamId}:${who.userId}`, () => deps.isTeamMember(where, who.userId)))
        ) {
          return true;
        }
      }
      const group = deps.groupCheck;
      const tenant = group ? group.tenantFor(who.tenantId) : null;
      if (group && tenant) {
        return cached(`group:${tenant.tenantId}:${group.groupId}:${who.userId}`, () =>
          group.membership.isInGroup(tenant, who.userId, group.groupId),
        );
      }
      deps.log.debug({ userId: who.userId }, 'not a technician');
      return false;
    },
  };
}
