/**
 * TechnicianChannel over the connector: one thread per ticket in the technicians' channel, the ticket card at
 * its top (updated in place), replies and @mentions in the thread.
 */
import type { Activity, CloudAdapter, ConversationReference, TurnContext } from 'botbuilder';
import type { CardSpec, Mention, OutgoingMessage, TechnicianChannel, ThreadRef } from '../../ports/chat.js';
import type { Log } from '../../ports/log.js';
import { cardAttachment, renderCard } from './cards/render-card.js';
import type { ConnectorCall } from './connector-retry.js';
import { sendAsNewMessages } from './proactive-send.js';
import { toActivity } from './outgoing-activity.js';
import type { TeamsKv, TechniciansChannelLocation } from './teams-kv.js';
import { TeamsConnectorError, TeamsNotReadyError } from './teams-errors.js';

export interface TechnicianChannelDeps {
  adapter: CloudAdapter;
  appId: string | undefined;
  audience: string | undefined;
  kv: TeamsKv;
  /** From settings; a channel captured with "use this channel" takes over when these are unset. */
  configured: { teamId?: string | undefined; channelId?: string | undefined };
  defaultServiceUrl: string;
  /** Technicians for whom Teams refreshes the thread card automatically. */
  refreshUserIds: () => Promise<string[]>;
  call: ConnectorCall;
  log: Log;
}

export interface ResolvedLocation {
  teamId: string;
  channelId: string;
  tenantId: string | null;
  serviceUrl: string;
}

export const THREAD_SUFFIX = ';messageid=';

export function splitThreadId(threadId: string): { channelId: string; rootActivityId: string | null } {
  const at = threadId.indexOf(THREAD_SUFFIX);
  if (at < 0) return { channelId: threadId, rootActivityId: null };
  return {
    channelId: threadId.slice(0, at),
    rootActivityId: threadId.slice(at + THREAD_SUFFIX.length) || null,
  };
}

/** Where the technicians work: the channel captured with "use this channel", else the one in the settings. */
export async function resolveTechniciansLocation(
  kv: TeamsKv,
  configured: { teamId?: string | undefined; channelId?: string | undefined },
  defaultServiceUrl: string,
): Promise<ResolvedLocation | null> {
  // A channel captured with "use this channel" (by a technician, later than start-up) wins over the settings.
  let location: TechniciansChannelLocation | null = await kv.capturedTechniciansChannel();
  if (!location && configured.teamId && configured.channelId) {
    location = {
      teamId: configured.teamId,
      channelId: configured.channelId,
      tenantId: null,
      serviceUrl: null,
    };
  }
  if (!location) return null;
  // A team configured by its Microsoft 365 group id is known to the connector by its thread id.
  const team = await kv.team(location.teamId);
  const tenantId = location.tenantId ?? team?.tenantId ?? null;
  const serviceUrl =
    location.serviceUrl ??
    team?.serviceUrl ??
    (tenantId ? await kv.serviceUrlFor(tenantId) : null) ??
    defaultServiceUrl;
  return { teamId: team?.teamId ?? location.teamId, channelId: location.channelId, tenantId, serviceUrl };
}

export function createTeamsTechnicianChannel(deps: TechnicianChannelDeps): TechnicianChannel {
  const { adapter, call } = deps;
  const botId = `28:${deps.appId ?? 'ticketzero'}`;

  async function location(): Promise<ResolvedLocation> {
    const where = await resolveTechniciansLocation(deps.kv, deps.configured, deps.defaultServiceUrl);
    if (!where) throw new TeamsNotReadyError('no technicians channel is configured or captured yet');
    return where;
  }

  function threadReference(where: ResolvedLocation, threadId: string): Partial<ConversationReference> {
    return {
      channelId: 'msteams',
      serviceUrl: where.serviceUrl,
      bot: { id: botId, name: 'TicketZero' },
      conversation: {
        id: threadId,
        isGroup: true,
        conversationType: 'channel',
        name: '',
        ...(where.tenantId ? { tenantId: where.tenantId } : {}),
      },
    };
  }

  async function inThread(
    thread: ThreadRef,
    operation: string,
    act: (context: TurnContext) => Promise<unknown>,
  ) {
    const where = await location();
    await call(operation, () =>
      adapter.continueConversationAsync(
        deps.appId ?? '',
        threadReference(where, thread.threadId),
        async (context) => {
          await act(context);
        },
      ),
    );
  }

  async function cardActivity(card: CardSpec): Promise<Partial<Activity>> {
    const refreshUserIds = card.kind === 'ticket_thread' ? await deps.refreshUserIds() : [];
    return { type: 'message', attachments: [cardAttachment(renderCard(card, { refreshUserIds }))] };
  }

  return {
    async isConfigured() {
      return (await resolveTechniciansLocation(deps.kv, deps.configured, deps.defaultServiceUrl)) !== null;
    },

    async useChannel(where) {
      const team = await deps.kv.team(where.teamId);
      await deps.kv.captureTechniciansChannel({
        teamId: where.teamId,
        channelId: where.channelId,
        tenantId: where.tenantId,
        serviceUrl: team?.serviceUrl ?? (await deps.kv.serviceUrlFor(where.tenantId)),
      });
      deps.log.info({ teamId: where.teamId, channelId: where.channelId }, 'technicians channel captured');
    },

    async openThread(card) {
      const where = await location();
      let threadId: string | null = null;
      const activity = await cardActivity(card);
      await call('createThread', () =>
        adapter.createConversationAsync(
          deps.appId ?? '',
          'msteams',
          where.serviceUrl,
          deps.audience as string,
          {
            isGroup: true,
            bot: { id: botId, name: 'TicketZero' },
            channelData: { channel: { id: where.channelId }, team: { id: where.teamId } },
            activity: activity as Activity,
            ...(where.tenantId ? { tenantId: where.tenantId } : {}),
          },
          async (context) => {
            threadId = context.activity.conversation?.id ?? null;
          },
        ),
      );
      const created = threadId as string | null;
      const root = created ? splitThreadId(created).rootActivityId : null;
      if (!created || !root) {
        throw new TeamsConnectorError('the connector did not return a thread id with its root message id');
      }
      deps.log.info({ threadId: created }, 'technicians thread opened');
      return { threadId: created, cardActivityId: root };
    },

    async updateCard(thread, card) {
      const activity = await cardActivity(card);
      await inThread(thread, 'updateCard', (context) =>
        context.updateActivity({ ...activity, id: thread.cardActivityId }),
      );
    },

    async post(thread, message: OutgoingMessage, mention?: Mention) {
      const activity = toActivity(message, { foldLongText: true, ...(mention ? { mention } : {}) });
      await inThread(thread, 'postInThread', (context) => sendAsNewMessages(context).sendActivity(activity));
    },
  };
}
