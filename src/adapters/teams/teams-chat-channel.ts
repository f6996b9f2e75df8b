/**
 * ChatChannel over the Bot Framework connector: the end user's 1:1 chat with TicketZero.
 * Opening a chat reuses a stored conversation reference, or installs the app for the user (through Graph) and
 * creates the 1:1 conversation; messages are then sent proactively with the stored reference.
 */
import { TurnContext, type CloudAdapter, type ConversationReference } from 'botbuilder';
import { ChatGoneError, NotFoundError } from '../../errors.js';
import type { ChatChannel, ChatTarget, OutgoingMessage } from '../../ports/chat.js';
import type { Log } from '../../ports/log.js';
import type { TenantRef } from '../../ports/user-directory.js';
import { connectorStatus, type ConnectorCall } from './connector-retry.js';
import { sendAsNewMessages } from './proactive-send.js';
import { toActivity } from './outgoing-activity.js';
import type { TeamsKv } from './teams-kv.js';
import { TeamsConnectorError } from './teams-errors.js';

/** Installs TicketZero for a user through Graph (structural: the Graph adapter's AppInstaller). */
export interface AppInstaller {
  ensureInstalled(
    tenant: TenantRef,
    userId: string,
  ): Promise<{ installed: 'already' | 'now'; chatId: string | null }>;
}

/**
 * A 1:1 turn being handled right now: the typing indicator goes out through it, and the turn does not end (its
 * context is revoked when it does) before what was sent through it has gone.
 */
export interface ActiveTurn {
  context: TurnContext;
  sending: Promise<void>[];
}

export interface ActiveTurns {
  get(conversationId: string): ActiveTurn | undefined;
}

export interface TeamsChatChannelDeps {
  adapter: CloudAdapter;
  /** The default bot registration (MICROSOFT_APP_ID). */
  appId: string | undefined;
  /** The registration serving a customer tenant (its own single-tenant bot); null: the default one. */
  appIdForTenant?: (tenantId: string) => string | null;
  /** Token audience for outbound calls; undefined uses the authentication's configured scope. */
  audience: string | undefined;
  kv: TeamsKv;
  appInstaller: AppInstaller;
  defaultServiceUrl: string;
  activeTurns: ActiveTurns;
  call: ConnectorCall;
  log: Log;
}

export function createTeamsChatChannel(deps: TeamsChatChannelDeps): ChatChannel {
  const { adapter, kv, call, log } = deps;
  const appIdFor = (tenantId: string): string | undefined => deps.appIdForTenant?.(tenantId) ?? deps.appId;

  async function sendActivity(conversationId: string, activity: Parameters<TurnContext['sendActivity']>[0]) {
    const chat = await kv.chatForConversation(conversationId);
    if (!chat) throw new NotFoundError(`no Teams conversation reference is stored for ${conversationId}`);
    // Teams may move a tenant to another service URL; the latest one an inbound activity came from wins over the one
    // stored with the chat.
    const latest = await kv.serviceUrlFor(chat.tenantId);
    const reference = latest ? { ...chat.reference, serviceUrl: latest } : chat.reference;
    // The conversation's own registration: a customer tenant's single-tenant bot cannot write in another tenant.
    const appId = chat.appId ?? appIdFor(chat.tenantId);
    try {
      await call('sendToConversation', () =>
        adapter.continueConversationAsync(appId ?? '', reference, async (context) => {
          await sendAsNewMessages(context).sendActivity(activity);
        }),
      );
    } catch (error) {
      if (error instanceof TeamsConnectorError && error.status === 404) {
        throw new ChatGoneError(conversationId, { cause: error });
      }
      throw error;
    }
  }

  async function send(conversationId: string, message: OutgoingMessage): Promise<void> {
    await typing.get(conversationId);
    await sendActivity(conversationId, toActivity(message));
  }

  /** Typing indicators sent in a user's turn and not yet delivered, by conversation; they never reject. */
  const typing = new Map<string, Promise<void>>();

  async function typingInTurn(conversationId: string, turn: TurnContext): Promise<void> {
    try {
      await call('sendTyping', () => turn.sendActivity({ type: 'typing' }));
      return;
    } catch (error) {
      // An indicator the connector refused is not worth more attempts; the answer still follows.
      if (connectorStatus(error) !== undefined) {
        log.warn({ err: error, conversationId }, 'typing indicator not sent');
        return;
      }
      log.warn({ err: error, conversationId }, 'typing in the turn failed, sending it anew');
    }
    try {
      await sendActivity(conversationId, { type: 'typing' });
    } catch (error) {
      log.warn({ err: error, conversationId }, 'typing indicator not sent');
    }
  }

  return {
    async openChat(target: ChatTarget, options: { replacing?: string } = {}) {
      const stored = await kv.chatForUser(target.userId);
      const storedId = stored?.reference.conversation?.id;
      if (stored && storedId && storedId !== options.replacing) return { conversationId: storedId };

      const chatLog = log.child({ tenantId: target.tenant.tenantId, userId: target.userId });
      const install = await deps.appInstaller.ensureInstalled(target.tenant, target.userId);
      chatLog.info({ installed: install.installed }, 'app installation checked');

      const tenantId = target.tenant.tenantId;
      const appId = appIdFor(tenantId);
      const botId = `28:${appId ?? 'ticketzero'}`;
      const serviceUrl = (await kv.serviceUrlFor(tenantId)) ?? deps.defaultServiceUrl;
      let reference: Partial<ConversationReference> | null = null;
      await call('createConversation', () =>
        adapter.createConversationAsync(
          appId ?? '',
          'msteams',
          serviceUrl,
          // botbuilder falls back to the configured scope when the audience is undefined.
          deps.audience as string,
          {
            isGroup: false,
            bot: { id: botId, name: 'TicketZero' },
            members: [{ id: target.userId, name: target.displayName }],
            tenantId,
            channelData: { tenant: { id: tenantId } },
          },
          async (context) => {
            reference = TurnContext.getConversationReference(context.activity);
          },
        ),
      );
      const ref = reference as Partial<ConversationReference> | null;
      const conversationId = ref?.conversation?.id;
      if (!ref || !conversationId) throw new TeamsConnectorError('the connector created no 1:1 conversation');
      const full: Partial<ConversationReference> = {
        ...ref,
        bot: { id: botId, name: 'TicketZero' },
        user: { id: target.userId, name: target.displayName, aadObjectId: target.userId },
        conversation: { ...ref.conversation!, tenantId, conversationType: 'personal', isGroup: false },
      };
      await kv.rememberChat({
        reference: full,
        tenantId,
        userId: target.userId,
        ...(appId ? { appId } : {}),
      });
      chatLog.info({ conversationId, appId }, 'chat opened');
      return { conversationId };
    },

    send,

    async sendTyping(conversationId) {
      const turn = deps.activeTurns.get(conversationId);
      if (!turn) {
        await sendActivity(conversationId, { type: 'typing' });
        return;
      }
      // In the user's own turn the indicator goes out through that turn's context (no proactive turn to build),
      // and without waiting for it: the model's answer is prepared meanwhile, and whatever is sent next to this
      // conversation waits for it first, so the indicator never follows the answer.
      const sending = typingInTurn(conversationId, turn.context).finally(() => {
        if (typing.get(conversationId) === sending) typing.delete(conversationId);
      });
      typing.set(conversationId, sending);
      turn.sending.push(sending);
    },
  };
}
