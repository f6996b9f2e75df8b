/** The technicians' team as the connector knows it: one member, or the whole roster (paged). */
import {
  TeamsInfo,
  type CloudAdapter,
  type ConversationReference,
  type TeamsChannelAccount,
} from 'botbuilder';
import type { Technician } from '../../ports/technicians.js';
import { connectorStatus, type ConnectorCall } from './connector-retry.js';
import type { ResolvedLocation } from './teams-technician-channel.js';

export interface TeamRosterDeps {
  adapter: CloudAdapter;
  appId: string | undefined;
  call: ConnectorCall;
}

function teamReference(where: ResolvedLocation, appId: string | undefined): Partial<ConversationReference> {
  return {
    channelId: 'msteams',
    serviceUrl: where.serviceUrl,
    bot: { id: `28:${appId ?? 'ticketzero'}`, name: 'TicketZero' },
    conversation: {
      id: where.channelId,
      isGroup: true,
      conversationType: 'channel',
      name: '',
      ...(where.tenantId ? { tenantId: where.tenantId } : {}),
    },
  };
}

export function createTeamRoster(deps: TeamRosterDeps) {
  return {
    /** GET /v3/conversations/{teamId}/members/{userId}: 404 means not a member. */
    async isMember(where: ResolvedLocation, userId: string): Promise<boolean> {
      let member: TeamsChannelAccount | null = null;
      try {
        await deps.call('getTeamMember', () =>
          deps.adapter.continueConversationAsync(
            deps.appId ?? '',
            teamReference(where, deps.appId),
            async (ctx) => {
              member = await TeamsInfo.getTeamMember(ctx, where.teamId, userId);
            },
          ),
        );
      } catch (error) {
        if (connectorStatus(error) === 404 || connectorStatus((error as { cause?: unknown }).cause) === 404) {
          return false;
        }
        throw error;
      }
      return member !== null;
    },

    /** Every member of the team, as technicians (those without an e-mail address are left out). */
    async members(where: ResolvedLocation): Promise<Technician[]> {
      const all: TeamsChannelAccount[] = [];
      await deps.call('getTeamMembers', () =>
        deps.adapter.continueConversationAsync(
          deps.appId ?? '',
          teamReference(where, deps.appId),
          async (ctx) => {
            let token: string | undefined;
            let pages = 0;
            do {
              const page = await TeamsInfo.getPagedTeamMembers(ctx, where.teamId, 500, token);
              all.push(...page.members);
              token = page.continuationToken || undefined;
              pages += 1;
            } while (token && pages < 20);
          },
        ),
      );
      return all
        .map((m) => ({
          name: m.name ?? '',
          email: m.email ?? m.userPrincipalName ?? '',
          userId: m.aadObjectId ?? null,
        }))
        .filter((m) => m.email.includes('@'))
        .map((m) => ({ ...m, ateraContactId: null }));
    },
  };
}
