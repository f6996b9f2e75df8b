import { randomBytes } from 'node:crypto';

/** A Teams user as the connector knows them: `29:` id in activities, Entra object id, tenant. */
export interface TeamsUser {
  /** The Bot Framework user id, `29:…`. */
  id: string;
  aadObjectId: string;
  name: string;
  tenantId: string;
  email?: string;
  userPrincipalName?: string;
  /** Client locale sent on the user's activities; defaults to en-US. */
  locale?: string;
}

/** Where a technician writes: a team's channel, and a thread in it when replying. */
export interface TeamsChannelRef {
  teamId: string;
  channelId: string;
  /** The root message id of the thread; absent for a new top-level post. */
  threadId?: string;
}

export interface BotIdentity {
  /** `28:<appId>` */
  id: string;
  name: string;
}

/** What the inbound builders need to know about the sandbox. */
export interface InboundContext {
  serviceUrl: string;
  bot: BotIdentity;
  activityId: string;
  timestamp: string;
}

export type InboundActivity = Record<string, unknown> & { type: string; id: string };

/** A fresh `a:` id as Teams gives 1:1 (personal) conversations with a bot. */
export function newPersonalConversationId(): string {
  return `a:1${randomBytes(30).toString('base64url')}`;
}

/** The id of a reply thread in a channel: the channel id plus the root message id. */
export function threadConversationId(channelId: string, rootActivityId: string): string {
  return `${channelId};messageid=${rootActivityId}`;
}

/** Splits `19:…@thread.tacv2;messageid=123` into the channel id and the root message id. */
export function parseThreadConversationId(id: string): { channelId: string; rootActivityId?: string } {
  const at = id.indexOf(';messageid=');
  if (at < 0) return { channelId: id };
  return { channelId: id.slice(0, at), rootActivityId: id.slice(at + ';messageid='.length) };
}

function account(user: TeamsUser): Record<string, unknown> {
  return { id: user.id, name: user.name, aadObjectId: user.aadObjectId };
}

function personalBase(ctx: InboundContext, user: TeamsUser, conversationId: string): Record<string, unknown> {
  return {
    id: ctx.activityId,
    timestamp: ctx.timestamp,
    localTimestamp: ctx.timestamp,
    channelId: 'msteams',
    serviceUrl: ctx.serviceUrl,
    from: account(user),
    recipient: { id: ctx.bot.id, name: ctx.bot.name },
    conversation: { id: conversationId, conversationType: 'personal', tenantId: user.tenantId },
    channelData: { tenant: { id: user.tenantId } },
    locale: user.locale ?? 'en-US',
    entities: [{ type: 'clientInfo', locale: user.locale ?? 'en-US', country: 'US', platform: 'Web' }],
  };
}

/** The `conversationUpdate` Teams sends when a user installs the bot in personal scope. */
export function installActivity(
  ctx: InboundContext,
  user: TeamsUser,
  conversationId: string,
): InboundActivity {
  const base = personalBase(ctx, user, conversationId);
  delete base['entities'];
  return { ...base, type: 'conversationUpdate', id: ctx.activityId, membersAdded: [{ id: ctx.bot.id }] };
}

/** A plain-text message a user types in their 1:1 chat with the bot. */
export function personalMessageActivity(
  ctx: InboundContext,
  user: TeamsUser,
  conversationId: string,
  text: string,
): InboundActivity {
  return {
    ...personalBase(ctx, user, conversationId),
    type: 'message',
    id: ctx.activityId,
    text,
    textFormat: 'plain',
    attachments: [],
  };
}

/** The Universal Actions invoke Teams sends when a user presses an `Action.Execute` button. */
export function adaptiveCardActionActivity(
  ctx: InboundContext,
  user: TeamsUser,
  conversation: { id: string; channel?: { teamId: string; channelId: string } },
  action: { verb: string; data: Record<string, unknown> },
  replyToId?: string,
): InboundActivity {
  const base = conversation.channel
    ? channelBase(ctx, user, conversation.channel, conversation.id)
    : personalBase(ctx, user, conversation.id);
  return {
    ...base,
    type: 'invoke',
    id: ctx.activityId,
    name: 'adaptiveCard/action',
    ...(replyToId ? { replyToId } : {}),
    value: {
      action: { type: 'Action.Execute', verb: action.verb, data: action.data },
      trigger: 'manual',
    },
  };
}

function channelBase(
  ctx: InboundContext,
  member: TeamsUser,
  channel: { teamId: string; channelId: string },
  conversationId: string,
): Record<string, unknown> {
  return {
    id: ctx.activityId,
    timestamp: ctx.timestamp,
    localTimestamp: ctx.timestamp,
    channelId: 'msteams',
    serviceUrl: ctx.serviceUrl,
    from: account(member),
    recipient: { id: ctx.bot.id, name: ctx.bot.name },
    conversation: {
      id: conversationId,
      isGroup: true,
      conversationType: 'channel',
      tenantId: member.tenantId,
    },
    channelData: {
      teamsChannelId: channel.channelId,
      teamsTeamId: channel.teamId,
      channel: { id: channel.channelId },
      team: { id: channel.teamId },
      tenant: { id: member.tenantId },
    },
    locale: member.locale ?? 'en-US',
  };
}

/**
 * A message in a channel that @mentions the bot (Teams only delivers channel messages that mention it). The bot's
 * mention is put at the start of the text unless the caller placed `<at>Bot</at>` themselves; other people are
 * mentioned with their own `<at>Name</at>` in the text.
 */
export function channelMessageActivity(
  ctx: InboundContext,
  member: TeamsUser,
  channel: TeamsChannelRef,
  text: string,
  mentions: Array<Pick<TeamsUser, 'id' | 'name'>>,
): InboundActivity & { conversation: { id: string; [key: string]: unknown } } {
  const conversationId = threadConversationId(channel.channelId, channel.threadId ?? ctx.activityId);
  const botTag = `<at>${ctx.bot.name}</at>`;
  const fullText = text.includes(botTag) ? text : `${botTag} ${text}`;
  const entities: Array<Record<string, unknown>> = [
    { type: 'mention', mentioned: { id: ctx.bot.id, name: ctx.bot.name }, text: botTag },
    ...mentions.map((m) => ({
      type: 'mention',
      mentioned: { id: m.id, name: m.name },
      text: `<at>${m.name}</at>`,
    })),
  ];
  return {
    ...channelBase(ctx, member, channel, conversationId),
    type: 'message',
    id: ctx.activityId,
    conversation: {
      id: conversationId,
      isGroup: true,
      conversationType: 'channel',
      tenantId: member.tenantId,
    },
    text: fullText,
    textFormat: 'plain',
    attachments: [],
    entities,
  };
}
