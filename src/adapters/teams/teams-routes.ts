/**
 * Routes Teams activities to the engine, and nothing more: 1:1 messages, card button presses, @mentions in the
 * technicians' channel, and installation events. Nothing here decides anything about tickets.
 */
import { Application, type TurnState } from '@microsoft/teams-ai';
import { ActivityTypes, TurnContext, type Activity } from 'botbuilder';
import { AuthenticationConstants, type ClaimsIdentity } from 'botframework-connector';
import type { Log } from '../../ports/log.js';
import type {
  SupportEngine,
  TechnicianCardVerb,
  TechnicianIdentity,
  UserCardKind,
  UserCardVerb,
} from '../../ports/support-engine.js';
import { ADAPTIVE_CARD_CONTENT_TYPE } from './cards/adaptive-card.js';
import { cardAttachment, renderCard } from './cards/render-card.js';
import { cleanMessageText, mentionsBot, otherMentions } from './message-text.js';
import { toActivity } from './outgoing-activity.js';
import type { ConnectorCall } from './connector-retry.js';
import type { ActiveTurn } from './teams-chat-channel.js';
import type { TeamsKv } from './teams-kv.js';
import { TeamsNotReadyError } from './teams-errors.js';

/** How long a user's turn waits for a typing indicator sent through it before it ends (Teams waits 15 s). */
const IN_TURN_SEND_WAIT_MS = 1_000;

/** Resolves when `work` has, or after `ms`, whichever comes first (`work` must not reject). */
async function waitAtMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

const USER_VERBS: readonly UserCardVerb[] = ['confirm_fixed', 'still_broken', 'ask_human'];
const TECHNICIAN_VERBS: readonly TechnicianCardVerb[] = [
  'escalate',
  'pause',
  'resume',
  'take_over',
  'hand_back',
  'status',
];

/** Universal Actions invoke response bodies. */
export type CardActionResponse =
  | { statusCode: 200; type: typeof ADAPTIVE_CARD_CONTENT_TYPE; value: unknown }
  | { statusCode: 200; type: 'application/vnd.microsoft.activity.message'; value: string }
  | {
      statusCode: 400 | 500;
      type: 'application/vnd.microsoft.error';
      value: { code: string; message: string };
    };

export interface RouteDeps {
  engine: () => SupportEngine;
  kv: TeamsKv;
  /** Conversation id → the 1:1 turn being handled, so the typing indicator can go out through it. */
  activeTurns: Map<string, ActiveTurn>;
  refreshUserIds: () => Promise<string[]>;
  /** Retries throttled connector calls (the reply to a technician). */
  call: ConnectorCall;
  log: Log;
}

export function tenantOf(activity: Partial<Activity>): string {
  const channelTenant = (activity.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id;
  return channelTenant ?? activity.conversation?.tenantId ?? '';
}

/**
 * The bot registration (app id) the turn was authenticated for: the verified token's audience. Absent when the
 * bot runs without an app id (and in botbuilder-testing's TestAdapter).
 */
export function botAppIdOf(context: TurnContext): { appId?: string } {
  const identity = context.turnState.get<ClaimsIdentity | undefined>(context.adapter.BotIdentityKey);
  const appId = identity?.getClaimValue(AuthenticationConstants.AudienceClaim);
  return appId ? { appId } : {};
}

function channelDataOf(activity: Partial<Activity>): {
  team?: { id?: string; aadGroupId?: string; name?: string };
  channel?: { id?: string };
} {
  return (activity.channelData ?? {}) as ReturnType<typeof channelDataOf>;
}

export function isPersonal(activity: Partial<Activity>): boolean {
  const type = activity.conversation?.conversationType;
  if (type) return type === 'personal';
  return !activity.conversation?.isGroup && !channelDataOf(activity).channel?.id;
}

export function isChannel(activity: Partial<Activity>): boolean {
  return (
    activity.conversation?.conversationType === 'channel' || Boolean(channelDataOf(activity).channel?.id)
  );
}

function technicianOf(activity: Partial<Activity>): TechnicianIdentity {
  const from = activity.from as { aadObjectId?: string; name?: string } | undefined;
  return {
    // Identity only from the authenticated activity, never from what was written.
    userId: from?.aadObjectId ?? '',
    name: from?.name ?? '',
    email: null,
    tenantId: tenantOf(activity),
  };
}

async function sendInvokeResponse(context: TurnContext, body: CardActionResponse): Promise<void> {
  await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 200, body } });
}

/** The user's card a button is on, as the card's data says (see the card builders). */
function userCardOf(card: unknown): { card?: UserCardKind } {
  return card === 'ticket_intro' || card === 'confirm_fix' ? { card } : {};
}

/** The user's time zone as Teams reports it with the activity (IANA name), when it looks like one. */
function timeZoneOf(activity: Partial<Activity>): { timeZone?: string } {
  const zone = activity.localTimezone;
  return typeof zone === 'string' && /^[A-Za-z0-9_+\-/]{1,64}$/.test(zone) ? { timeZone: zone } : {};
}

function badAction(message: string): CardActionResponse {
  return { statusCode: 400, type: 'application/vnd.microsoft.error', value: { code: 'BadRequest', message } };
}

export function registerRoutes(app: Application<TurnState>, deps: RouteDeps): void {
  const { kv, log } = deps;

  async function rememberWhereFrom(context: TurnContext): Promise<void> {
    const tenantId = tenantOf(context.activity);
    if (tenantId && context.activity.serviceUrl)
      await kv.rememberServiceUrl(tenantId, context.activity.serviceUrl);
  }

  // Card buttons (Action.Execute → invoke "adaptiveCard/action"), answered with the replacing card or a message.
  app.addRoute(
    async (context) =>
      context.activity.type === ActivityTypes.Invoke && context.activity.name === 'adaptiveCard/action',
    async (context) => {
      const activity = context.activity;
      const action = (
        activity.value as { action?: { type?: string; verb?: unknown; data?: unknown } } | undefined
      )?.action;
      const verb = typeof action?.verb === 'string' ? action.verb : '';
      const data = (typeof action?.data === 'object' && action.data !== null ? action.data : {}) as {
        ticketId?: unknown;
        card?: unknown;
      };
      const ticketId = typeof data.ticketId === 'string' ? Number(data.ticketId) : data.ticketId;
      if (
        action?.type !== 'Action.Execute' ||
        typeof ticketId !== 'number' ||
        !Number.isSafeInteger(ticketId)
      ) {
        await sendInvokeResponse(context, badAction('The card action carries no ticket.'));
        return;
      }
      const conversationId = activity.conversation.id;
      const turnLog = log.child({ ticketId, conversationId, verb });
      if ((USER_VERBS as readonly string[]).includes(verb)) {
        // The end user's card: the engine answers with the pressed card as it is now, or a message beside it.
        const answer = await deps.engine().onUserCardAction({
          conversationId,
          userId: activity.from.aadObjectId ?? activity.from.id,
          tenantId: tenantOf(activity),
          ticketId,
          verb: verb as UserCardVerb,
          ...userCardOf(data.card),
          ...timeZoneOf(activity),
        });
        turnLog.info({ replaced: answer.kind === 'card' }, 'card action handled');
        await sendInvokeResponse(
          context,
          answer.kind === 'card'
            ? { statusCode: 200, type: ADAPTIVE_CARD_CONTENT_TYPE, value: renderCard(answer.card) }
            : { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: answer.text },
        );
        return;
      }
      if (!(TECHNICIAN_VERBS as readonly string[]).includes(verb)) {
        await sendInvokeResponse(context, badAction(`Unknown action "${verb.slice(0, 40)}".`));
        return;
      }
      const where = channelDataOf(activity);
      const card = await deps.engine().onTechnicianCardAction({
        from: technicianOf(activity),
        conversationId,
        teamId: where.team?.id ?? null,
        channelId: where.channel?.id ?? null,
        ticketId,
        verb: verb as TechnicianCardVerb,
      });
      turnLog.info({ replaced: card !== null }, 'card action handled');
      if (!card) {
        await sendInvokeResponse(context, {
          statusCode: 200,
          type: 'application/vnd.microsoft.activity.message',
          value: 'Nothing to change.',
        });
        return;
      }
      const refreshUserIds = card.kind === 'ticket_thread' ? await deps.refreshUserIds() : [];
      const rendered = renderCard(card, { refreshUserIds });
      if (card.kind === 'ticket_thread' && activity.replyToId) {
        // The thread card is shared: everyone in the channel sees the new state, not only who pressed.
        await context.updateActivity({
          type: 'message',
          id: activity.replyToId,
          attachments: [cardAttachment(rendered)],
        });
      }
      await sendInvokeResponse(context, {
        statusCode: 200,
        type: ADAPTIVE_CARD_CONTENT_TYPE,
        value: rendered,
      });
    },
    true,
  );

  // The end user writes in the 1:1 chat.
  app.addRoute(
    async (context) => context.activity.type === ActivityTypes.Message && isPersonal(context.activity),
    async (context) => {
      const activity = context.activity;
      const conversationId = activity.conversation.id;
      const userId = activity.from.aadObjectId ?? activity.from.id;
      const tenantId = tenantOf(activity);
      const text = cleanMessageText(activity, activity.recipient.id);
      const attachmentCount = (activity.attachments ?? []).length;
      const turnLog = log.child({ conversationId });
      if (text.unreadable)
        turnLog.warn({ chars: (activity.text ?? '').length }, 'message text looked binary');
      if (text.truncated) turnLog.warn({ chars: (activity.text ?? '').length }, 'message text shortened');
      if (!text.text && attachmentCount === 0 && !text.unreadable) {
        turnLog.debug({}, 'empty message ignored');
        return;
      }
      await rememberWhereFrom(context);
      const stored = await kv.chatForUser(userId);
      if (stored?.reference.conversation?.id !== conversationId) {
        await kv.rememberChat({
          reference: TurnContext.getConversationReference(activity),
          tenantId,
          userId,
          ...botAppIdOf(context),
        });
      }
      const turn: ActiveTurn = { context, sending: [] };
      deps.activeTurns.set(conversationId, turn);
      try {
        await deps.engine().onUserMessage({
          conversationId,
          activityId: activity.id ?? '',
          userId,
          tenantId,
          text: text.text,
          attachmentCount,
          receivedAt: activity.timestamp
            ? new Date(activity.timestamp).toISOString()
            : new Date().toISOString(),
        });
      } finally {
        // The typing indicator started in this turn goes out through it: the turn ends once it has (it never
        // rejects), or after IN_TURN_SEND_WAIT_MS, when a slow one falls back to a proactive send.
        await waitAtMost(Promise.all(turn.sending), IN_TURN_SEND_WAIT_MS);
        if (deps.activeTurns.get(conversationId) === turn) deps.activeTurns.delete(conversationId);
      }
    },
  );

  // A technician @mentions the bot in a channel (Teams sends channel messages to a bot only when mentioned).
  app.addRoute(
    async (context) =>
      context.activity.type === ActivityTypes.Message &&
      isChannel(context.activity) &&
      mentionsBot(context.activity, context.activity.recipient.id),
    async (context) => {
      const activity = context.activity;
      const where = channelDataOf(activity);
      await rememberWhereFrom(context);
      if (where.team?.id && !(await kv.team(where.team.id))) await rememberTeam(context);
      const reply = await deps.engine().onTechnicianCommand({
        from: technicianOf(activity),
        conversationId: activity.conversation.id,
        teamId: where.team?.id ?? null,
        channelId: where.channel?.id ?? null,
        text: cleanMessageText(activity, activity.recipient.id).text,
        mentions: otherMentions(activity, activity.recipient.id),
      });
      // The turn's conversation id carries the thread (";messageid="), so the reply lands in the same thread.
      await deps.call('replyInThread', () => context.sendActivity(toActivity(reply, { foldLongText: true })));
    },
  );

  async function rememberTeam(context: TurnContext): Promise<void> {
    const team = channelDataOf(context.activity).team;
    if (!team?.id) return;
    await kv.rememberTeam({
      teamId: team.id,
      aadGroupId: team.aadGroupId ?? null,
      name: team.name ?? null,
      tenantId: tenantOf(context.activity),
      serviceUrl: context.activity.serviceUrl,
    });
    log.info({ teamId: team.id }, 'bot added to a team');
  }

  // The bot was added: for a user (personal scope) the chat can now be reached; in a team, the team is remembered.
  app.conversationUpdate('membersAdded', async (context) => {
    const activity = context.activity;
    const botAdded = (activity.membersAdded ?? []).some((m) => m.id === activity.recipient.id);
    if (!botAdded) return;
    await rememberWhereFrom(context);
    if (channelDataOf(activity).team?.id) {
      await rememberTeam(context);
      return;
    }
    if (!isPersonal(activity)) return;
    const userId = (activity.from as { aadObjectId?: string }).aadObjectId ?? activity.from.id;
    const tenantId = tenantOf(activity);
    await kv.rememberChat({
      reference: TurnContext.getConversationReference(activity),
      tenantId,
      userId,
      ...botAppIdOf(context),
    });
    await deps.engine().onAppInstalled({ tenantId, userId, conversationId: activity.conversation.id });
  });
}

/** The engine, once attached; the adapter is built first because the engine needs its channels. */
export function lateBoundEngine(): { get: () => SupportEngine; attach: (engine: SupportEngine) => void } {
  let engine: SupportEngine | null = null;
  return {
    get() {
      if (!engine) throw new TeamsNotReadyError('no engine is attached to the Teams bot yet');
      return engine;
    },
    attach(next) {
      engine = next;
    },
  };
}
