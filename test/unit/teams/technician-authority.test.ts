import { describe, expect, it } from 'vitest';
import { createTeamsTechnicianAuthority } from '../../../src/adapters/teams/teams-technician-authority.js';
import type { ResolvedLocation } from '../../../src/adapters/teams/teams-technician-channel.js';
import { silentLog } from '../../../src/ports/log.js';
import type { TechnicianIdentity } from '../../../src/ports/support-engine.js';

const TEAM: ResolvedLocation = {
  teamId: '19:tech',
  channelId: '19:desk',
  tenantId: 'msp',
  serviceUrl: 'http://x/',
};
const who = (userId: string, tenantId = 'msp'): TechnicianIdentity => ({
  userId,
  name: userId,
  email: null,
  tenantId,
});

function authority(
  options: { members?: string[]; group?: string[]; location?: ResolvedLocation | null } = {},
) {
  const lookups: string[] = [];
  let clock = 0;
  const members = new Set(options.members ?? []);
  const group = new Set(options.group ?? []);
  const subject = createTeamsTechnicianAuthority({
    location: async () => (options.location === undefined ? TEAM : options.location),
    candidateTeam: async (teamId) => (teamId === '19:new' ? { ...TEAM, teamId } : null),
    isTeamMember: async (where, userId) => {
      lookups.push(`${where.teamId}/${userId}`);
      return members.has(userId);
    },
    groupCheck: {
      membership: { isInGroup: async (_tenant, userId) => group.has(userId) },
      groupId: 'techs',
      tenantFor: (tenantId) => (tenantId === 'msp' ? { key: 'default', tenantId } : null),
    },
    cacheMs: 1000,
    now: () => clock,
    log: silentLog,
  });
  return { subject, lookups, advance: (ms: number) => (clock += ms) };
}

describe('who counts as a technician', () => {
  it('a member of the technicians’ team, asked of the connector by Entra object id', async () => {
    const { subject, lookups } = authority({ members: ['aad-adele'] });
    expect(await subject.isTechnician(who('aad-adele'), { teamId: '19:tech' })).toBe(true);
    expect(await subject.isTechnician(who('aad-adele'), { teamId: null })).toBe(true);
    expect(lookups).toEqual(['19:tech/aad-adele']);
  });

  it('not a technician speaking in another team’s channel, where non-technicians would read the answer', async () => {
    const { subject, lookups } = authority({ members: ['aad-adele'], group: ['aad-adele'] });
    expect(await subject.isTechnician(who('aad-adele'), { teamId: '19:elsewhere' })).toBe(false);
    expect(lookups).toEqual([]);
  });

  it('a member of the technicians’ Entra group, in their own tenant', async () => {
    const { subject } = authority({ group: ['aad-dana'] });
    expect(await subject.isTechnician(who('aad-dana'), { teamId: null })).toBe(true);
    expect(await subject.isTechnician(who('aad-dana', 'customer-tenant'), { teamId: null })).toBe(false);
  });

  it('not someone from another tenant, even with the same object id', async () => {
    const { subject } = authority({ members: ['aad-adele'] });
    expect(await subject.isTechnician(who('aad-adele', 'customer-tenant'), { teamId: '19:tech' })).toBe(
      false,
    );
  });

  it('not someone without an Entra identity on the activity', async () => {
    const { subject, lookups } = authority({ members: [''] });
    expect(await subject.isTechnician(who(''), { teamId: '19:tech' })).toBe(false);
    expect(lookups).toEqual([]);
  });

  it('before any technicians’ team is known, a member of the team the command is said in (to capture it)', async () => {
    const { subject } = authority({ members: ['aad-adele'], location: null });
    expect(await subject.isTechnician(who('aad-adele'), { teamId: '19:new' })).toBe(true);
    expect(await subject.isTechnician(who('aad-adele'), { teamId: '19:unknown-team' })).toBe(false);
  });

  it('asks the roster once per person for a short while, then again', async () => {
    const { subject, lookups, advance } = authority({ members: ['aad-adele'] });
    await subject.isTechnician(who('aad-adele'), { teamId: null });
    await subject.isTechnician(who('aad-adele'), { teamId: null });
    expect(lookups).toHaveLength(1);
    advance(1001);
    await subject.isTechnician(who('aad-adele'), { teamId: null });
    expect(lookups).toHaveLength(2);
  });
});
