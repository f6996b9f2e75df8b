/**
 * What the Teams adapter remembers, in the store's small key-value space: conversation references (to reach a
 * user or thread proactively), connector service URLs per tenant, teams the bot was added to, and the captured
 * technicians' channel. Every value is plain JSON.
 */
import type { ConversationReference } from 'botbuilder';
import type { ConversationStore } from '../../ports/conversation-store.js';

export type AdapterKv = Pick<ConversationStore, 'getValue' | 'setValue'>;

const NS = {
  userChat: 'teams.user-chat',
  conversation: 'teams.conversation',
  serviceUrl: 'teams.service-url',
  team: 'teams.team',
  techChannel: 'teams.technicians-channel',
} as const;

export interface StoredChat {
  reference: Partial<ConversationReference>;
  tenantId: string;
  userId: string;
  /**
   * The bot registration (app id) the conversation belongs to: proactive messages go out as that bot. Absent in
   * chats stored before there were several registrations; those use the tenant's registration.
   */
  appId?: string;
}

export interface KnownTeam {
  /** The team's thread id as the connector knows it (`19:…@thread.tacv2`). */
  teamId: string;
  /** The Microsoft 365 group id (GUID) of the team, when Teams sent it. */
  aadGroupId: string | null;
  name: string | null;
  tenantId: string;
  serviceUrl: string;
}

export interface TechniciansChannelLocation {
  teamId: string;
  channelId: string;
  tenantId: string | null;
  serviceUrl: string | null;
}

export function createTeamsKv(store: AdapterKv) {
  return {
    async chatForUser(userId: string): Promise<StoredChat | null> {
      return store.getValue<StoredChat>(NS.userChat, userId);
    },
    async chatForConversation(conversationId: string): Promise<StoredChat | null> {
      return store.getValue<StoredChat>(NS.conversation, conversationId);
    },
    async rememberChat(chat: StoredChat): Promise<void> {
      const conversationId = chat.reference.conversation?.id;
      if (!conversationId) return;
      // Without an activity id, proactive sends are new messages (sendToConversation), not replies to an old one.
      const { activityId: _replyTo, ...reference } = chat.reference;
      chat = { ...chat, reference };
      await store.setValue(NS.userChat, chat.userId, chat);
      await store.setValue(NS.conversation, conversationId, chat);
    },
    async serviceUrlFor(tenantId: string): Promise<string | null> {
      return store.getValue<string>(NS.serviceUrl, tenantId);
    },
    async rememberServiceUrl(tenantId: string, serviceUrl: string): Promise<void> {
      if ((await store.getValue<string>(NS.serviceUrl, tenantId)) !== serviceUrl) {
        await store.setValue(NS.serviceUrl, tenantId, serviceUrl);
      }
    },
    async team(teamIdOrGroupId: string): Promise<KnownTeam | null> {
      return store.getValue<KnownTeam>(NS.team, teamIdOrGroupId);
    },
    async rememberTeam(team: KnownTeam): Promise<void> {
      await store.setValue(NS.team, team.teamId, team);
      if (team.aadGroupId) await store.setValue(NS.team, team.aadGroupId, team);
    },
    async capturedTechniciansChannel(): Promise<TechniciansChannelLocation | null> {
      return store.getValue<TechniciansChannelLocation>(NS.techChannel, 'current');
    },
    async captureTechniciansChannel(location: TechniciansChannelLocation): Promise<void> {
      await store.setValue(NS.techChannel, 'current', location);
    },
  };
}

export type TeamsKv = ReturnType<typeof createTeamsKv>;
