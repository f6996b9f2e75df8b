import { StreamingResponse } from '@microsoft/teams-ai';
import {
  CardFactory,
  CloudAdapter,
  TeamsInfo,
  TurnContext,
  type Activity,
  type ConversationParameters,
  type ConversationReference,
} from 'botbuilder';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Config } from '../../src/config/load-config.js';
import { createBotFrameworkAuthentication } from '../../src/http/bot-authentication.js';
import { createHttpServer, listen, type ListeningServer } from '../../src/http/server.js';
import { silentLog } from '../../src/ports/log.js';
import {
  startConnectorSandbox,
  type ConnectorSandbox,
  type TeamsUser,
} from '../../src/sandboxes/connector/connector-sandbox.js';

const TENANT = '0b6a3f1e-0000-4000-8000-000000000001';
const APP_ID = 'app-connector-e2e';
const SECRET = 'connector-e2e-secret';
const ada: TeamsUser = { id: '29:1ada', aadObjectId: 'aad-ada', name: 'Ada Lovelace', tenantId: TENANT };
const grace: TeamsUser = {
  id: '29:1grace',
  aadObjectId: 'aad-grace',
  name: 'Grace Hopper',
  tenantId: TENANT,
};
const linus: TeamsUser = { id: '29:1linus', aadObjectId: 'aad-linus', name: 'Linus Tech', tenantId: TENANT };
const TEAM = { teamId: '19:team-general@thread.tacv2', channelId: '19:support-desk@thread.tacv2' };

const card = (title: string) =>
  CardFactory.adaptiveCard({
    type: 'AdaptiveCard',
    version: '1.5',
    body: [{ type: 'TextBlock', text: title }],
  });

describe('the connector sandbox, driven by botbuilder', () => {
  let sandbox: ConnectorSandbox;
  let adapter: CloudAdapter;
  let bot: ListeningServer;
  const received: Array<Partial<Activity>> = [];

  beforeAll(async () => {
    // botbuilder prints every refused or failed request with console.error; the assertions below say what matters.
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    sandbox = await startConnectorSandbox({ appId: APP_ID, appPassword: SECRET });
    const settings: Config['bot'] = {
      appId: APP_ID,
      appPassword: SECRET,
      appTenantId: TENANT,
      appType: 'SingleTenant',
      teamsAppId: undefined,
      serviceUrl: sandbox.url,
      openIdMetadataUrl: sandbox.openIdMetadataUrl,
      tokenIssuer: sandbox.issuer,
      loginUrl: sandbox.loginUrl(TENANT),
    };
    adapter = new CloudAdapter(createBotFrameworkAuthentication(settings));
    const server = createHttpServer({ log: silentLog, maxBodyBytes: 256 * 1024 });
    server.post('/api/messages', async (req, res) => {
      await adapter.process(req, res, async (context) => {
        received.push(JSON.parse(JSON.stringify(context.activity)) as Partial<Activity>);
        const { activity } = context;
        if (activity.type === 'invoke' && activity.name === 'adaptiveCard/action') {
          const verb = (activity.value as { action: { verb: string } }).action.verb;
          await context.sendActivity({
            type: 'invokeResponse',
            value: {
              status: 200,
              body: {
                statusCode: 200,
                type: 'application/vnd.microsoft.card.adaptive',
                value: card(`done: ${verb}`).content,
              },
            },
          });
        } else if (activity.type === 'message' && activity.conversation.conversationType === 'channel') {
          await context.sendActivity(`heard: ${TurnContext.removeRecipientMention(activity).trim()}`);
        }
      });
    });
    bot = await listen(server, { port: 0, host: '127.0.0.1' });
    sandbox.botEndpoint = `${bot.url}/api/messages`;
    sandbox.addTeam({ ...TEAM, name: 'Contoso IT', channelName: 'Support desk', members: [grace, linus] });
  });

  afterAll(async () => {
    await bot?.close();
    await sandbox?.close();
    vi.restoreAllMocks();
  });

  beforeEach(() => {
    sandbox.clear();
    received.length = 0;
  });

  function createConversation(
    params: Partial<ConversationParameters>,
    logic: (ctx: TurnContext) => Promise<void>,
  ) {
    return adapter.createConversationAsync(
      APP_ID,
      'msteams',
      sandbox.serviceUrl,
      'https://api.botframework.com',
      { isGroup: false, bot: sandbox.bot, ...params } as ConversationParameters,
      logic,
    );
  }

  function inConversation(conversationId: string, logic: (ctx: TurnContext) => Promise<void>): Promise<void> {
    const reference: Partial<ConversationReference> = {
      channelId: 'msteams',
      serviceUrl: sandbox.serviceUrl,
      bot: sandbox.bot,
      conversation: {
        id: conversationId,
        isGroup: false,
        conversationType: 'personal',
        name: '',
        tenantId: TENANT,
      },
    };
    return adapter.continueConversationAsync(APP_ID, reference, logic);
  }

  async function accessToken(): Promise<string> {
    const response = await fetch(`${sandbox.loginUrl(TENANT)}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: APP_ID,
        client_secret: SECRET,
        scope: 'https://api.botframework.com/.default',
      }).toString(),
    });
    return ((await response.json()) as { access_token: string }).access_token;
  }

  async function v3(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${sandbox.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${await accessToken()}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  }

  describe('proactive 1:1 chats', () => {
    it('opens a 1:1 conversation with the user and records the first message in it', async () => {
      let conversationId = '';
      await createConversation(
        {
          members: [{ id: ada.id, name: ada.name }],
          tenantId: TENANT,
          channelData: { tenant: { id: TENANT } },
        },
        async (context) => {
          conversationId = context.activity.conversation.id;
          await context.sendActivity({ attachments: [card('Ticket #4711: printer offline')] });
        },
      );

      expect(conversationId).toMatch(/^a:/);
      const view = sandbox.conversation(conversationId);
      expect(view?.kind).toBe('personal');
      expect(view?.messages).toHaveLength(1);
      expect(view?.messages[0]?.attachments?.[0]?.contentType).toBe(
        'application/vnd.microsoft.card.adaptive',
      );
    });

    it('returns the same conversation id every time for the same user, as Teams does', async () => {
      const ids: string[] = [];
      const open = () =>
        createConversation(
          { members: [{ id: grace.aadObjectId, name: '' }], tenantId: TENANT },
          async (context) => {
            ids.push(context.activity.conversation.id);
          },
        );
      await open();
      await open();

      expect(ids[0]).toBeDefined();
      expect(ids[0]).toBe(ids[1]);
    });

    it('refuses a 1:1 conversation without a tenant id', async () => {
      const response = await v3('POST', '/v3/conversations', { members: [{ id: ada.id }], bot: sandbox.bot });

      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'BadArgument' } });
    });
  });

  describe('channel threads', () => {
    it('starts a thread whose id names the root message, and replies land in that thread', async () => {
      let threadId = '';
      await createConversation(
        {
          isGroup: true,
          channelData: { channel: { id: TEAM.channelId }, tenant: { id: TENANT } },
          activity: { type: 'message', attachments: [card('Ticket #4711')] } as Activity,
          tenantId: TENANT,
        },
        async (context) => {
          threadId = context.activity.conversation.id;
        },
      );
      const root = sandbox.activities[0];
      expect(threadId).toBe(`${TEAM.channelId};messageid=${root?.activityId}`);
      expect(root).toMatchObject({ operation: 'create', conversationId: threadId });

      await inConversation(threadId, async (context) => {
        await context.sendActivity('Handed to Grace');
      });

      expect(sandbox.conversation(threadId)?.messages.map((m) => m.text ?? 'card')).toEqual([
        'card',
        'Handed to Grace',
      ]);
      // botbuilder percent-encodes `19:…;messageid=…` in the path; the sandbox decoded it back.
      expect(sandbox.requests.some((r) => r.path.includes('%3Bmessageid%3D') && r.status === 201)).toBe(true);
    });

    it('refuses to start a thread without a first message', async () => {
      const response = await v3('POST', '/v3/conversations', {
        isGroup: true,
        channelData: { channel: { id: TEAM.channelId } },
      });

      expect(response.status).toBe(400);
    });
  });

  describe('updating and deleting', () => {
    it('updates a card in place and deletes a message', async () => {
      const conversationId = await sandbox.installFor(ada);
      let cardId = '';
      let noteId = '';
      await inConversation(conversationId, async (context) => {
        cardId = (await context.sendActivity({ attachments: [card('Status: open')] }))?.id ?? '';
        noteId = (await context.sendActivity('temporary note'))?.id ?? '';
        await context.updateActivity({
          id: cardId,
          type: 'message',
          attachments: [card('Status: resolved')],
        });
        await context.deleteActivity(noteId);
      });

      const view = sandbox.conversation(conversationId);
      expect(view?.messages).toHaveLength(1);
      expect(view?.messages[0]).toMatchObject({ activityId: cardId, updated: true });
      expect(JSON.stringify(view?.messages[0]?.attachments)).toContain('Status: resolved');
      expect(sandbox.activities.find((a) => a.activityId === noteId)?.deleted).toBe(true);
    });

    it('answers 404 ActivityNotFound when updating a message that does not exist', async () => {
      const conversationId = await sandbox.installFor(ada);

      const response = await v3(
        'PUT',
        `/v3/conversations/${encodeURIComponent(conversationId)}/activities/404`,
        {
          type: 'message',
          text: 'x',
        },
      );

      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'ActivityNotFound' } });
    });
  });

  describe('rosters', () => {
    it('answers members, one member, pages of members and team details as TeamsInfo reads them', async () => {
      const threadId = `${TEAM.channelId};messageid=1`;
      let member: unknown;
      let page: { members: unknown[]; continuationToken?: string } | undefined;
      let team: unknown;
      let channels: unknown;
      const reference: Partial<ConversationReference> = {
        channelId: 'msteams',
        serviceUrl: sandbox.serviceUrl,
        bot: sandbox.bot,
        conversation: {
          id: threadId,
          isGroup: true,
          conversationType: 'channel',
          name: '',
          tenantId: TENANT,
        },
      };
      await adapter.continueConversationAsync(APP_ID, reference, async (context) => {
        context.activity.channelData = { team: { id: TEAM.teamId }, tenant: { id: TENANT } };
        member = await TeamsInfo.getMember(context, grace.aadObjectId);
        page = await TeamsInfo.getPagedMembers(context, 1);
        team = await TeamsInfo.getTeamDetails(context);
        channels = await TeamsInfo.getTeamChannels(context);
      });

      expect(member).toMatchObject({
        id: grace.id,
        name: 'Grace Hopper',
        aadObjectId: 'aad-grace',
        tenantId: TENANT,
      });
      expect(page?.members).toHaveLength(1);
      expect(page?.continuationToken).toBeDefined();
      expect(team).toMatchObject({ id: TEAM.teamId, name: 'Contoso IT' });
      expect(channels).toEqual(expect.arrayContaining([expect.objectContaining({ id: TEAM.channelId })]));
    });

    it('answers 404 MemberNotFoundInConversation for someone outside the conversation', async () => {
      const conversationId = await sandbox.installFor(ada);

      const response = await v3(
        'GET',
        `/v3/conversations/${encodeURIComponent(conversationId)}/members/${grace.id}`,
      );

      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'MemberNotFoundInConversation' } });
    });
  });

  describe('streaming', () => {
    it('records a teams-ai StreamingResponse (informative update, then the final message) under one stream id', async () => {
      const conversationId = await sandbox.installFor(ada);
      await inConversation(conversationId, async (context) => {
        const stream = new StreamingResponse(context);
        stream.queueInformativeUpdate('Looking into it…');
        stream.queueTextChunk('Try restarting');
        await stream.endStream();
      });

      const streamed = sandbox.activities.filter((a) => a.stream);
      expect(streamed.map((a) => [a.type, a.stream?.type])).toEqual([
        // StreamingResponse folds a chunk queued before endStream() into the final message.
        ['typing', 'informative'],
        ['message', 'final'],
      ]);
      const streamId = streamed[0]?.activityId;
      expect(streamed.every((a) => a.stream?.id === streamId)).toBe(true);
      expect(sandbox.conversation(conversationId)?.messages.map((m) => m.text)).toEqual(['Try restarting']);
      // Within Teams' limits (45 s between updates, two minutes in all) and finished: no rule broken.
      expect(sandbox.streams()).toEqual([
        expect.objectContaining({ streamId, conversationId, updates: 2, state: 'final' }),
      ]);
      expect(sandbox.violations()).toEqual([]);
    }, 15_000);

    it('refuses streaming in a channel thread, as Teams does', async () => {
      const response = await v3(
        'POST',
        `/v3/conversations/${encodeURIComponent(`${TEAM.channelId};messageid=9`)}/activities`,
        {
          type: 'typing',
          text: 'x',
          entities: [{ type: 'streaminfo', streamType: 'streaming', streamSequence: 1 }],
        },
      );

      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: { code: 'ContentStreamNotAllowed' } });
    });
  });

  describe('playing Teams users', () => {
    it('installs the bot for a user with a conversationUpdate carrying the 1:1 conversation', async () => {
      const conversationId = await sandbox.installFor(ada);

      expect(received[0]).toMatchObject({
        type: 'conversationUpdate',
        channelId: 'msteams',
        membersAdded: [{ id: `28:${APP_ID}` }],
        conversation: { id: conversationId, conversationType: 'personal', tenantId: TENANT },
        channelData: { tenant: { id: TENANT } },
      });
    });

    it('delivers a user message shaped like Teams, signed, in the user’s 1:1 chat', async () => {
      const conversationId = await sandbox.installFor(ada);
      const result = await sandbox.userSays(ada, 'my VPN drops every hour');

      expect(result).toMatchObject({ status: 200, conversationId });
      expect(received.at(-1)).toMatchObject({
        type: 'message',
        id: result.activityId,
        text: 'my VPN drops every hour',
        textFormat: 'plain',
        channelId: 'msteams',
        serviceUrl: sandbox.serviceUrl,
        from: { id: ada.id, name: ada.name, aadObjectId: ada.aadObjectId },
        recipient: { id: `28:${APP_ID}` },
        conversation: { id: conversationId, conversationType: 'personal', tenantId: TENANT },
        channelData: { tenant: { id: TENANT } },
        locale: 'en-US',
      });
      expect(sandbox.delivered.at(-1)?.signed).toBe(true);
    });

    it('presses an Action.Execute button and returns the card the bot answers with', async () => {
      const conversationId = await sandbox.installFor(ada);

      const body = await sandbox.clickAction(ada, conversationId, { verb: 'confirmFixed', ticketId: 4711 });

      expect(received.at(-1)).toMatchObject({
        type: 'invoke',
        name: 'adaptiveCard/action',
        value: { action: { type: 'Action.Execute', verb: 'confirmFixed', data: { ticketId: 4711 } } },
      });
      expect(body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
      expect(JSON.stringify(body)).toContain('done: confirmFixed');
    });

    it('posts a technician’s @mention in a channel thread, with the bot’s mention entity first', async () => {
      const result = await sandbox.teamMemberSays(
        grace,
        { ...TEAM, threadId: '1700000000001' },
        'reassign to <at>Linus Tech</at>',
        [linus],
      );

      expect(result.conversationId).toBe(`${TEAM.channelId};messageid=1700000000001`);
      expect(received.at(-1)).toMatchObject({
        type: 'message',
        text: '<at>TicketZero</at> reassign to <at>Linus Tech</at>',
        conversation: { id: result.conversationId, conversationType: 'channel', isGroup: true },
        channelData: { team: { id: TEAM.teamId }, channel: { id: TEAM.channelId }, tenant: { id: TENANT } },
        entities: [
          {
            type: 'mention',
            mentioned: { id: `28:${APP_ID}`, name: 'TicketZero' },
            text: '<at>TicketZero</at>',
          },
          { type: 'mention', mentioned: { id: linus.id, name: linus.name }, text: '<at>Linus Tech</at>' },
        ],
      });
      const reply = await sandbox.waitFor((a) => a.conversationId === result.conversationId);
      expect(reply.text).toBe('heard: reassign to <at>Linus Tech</at>');
    });
  });

  describe('faults', () => {
    it('answers 429 with Retry-After for the injected number of calls, then serves normally', async () => {
      const conversationId = await sandbox.installFor(ada);
      sandbox.faults.inject({ kind: '429', times: 2, retryAfterSeconds: 7 });
      const path = `/v3/conversations/${encodeURIComponent(conversationId)}/activities`;

      const first = await v3('POST', path, { type: 'message', text: 'one' });
      const second = await v3('POST', path, { type: 'message', text: 'two' });
      const third = await v3('POST', path, { type: 'message', text: 'three' });

      expect([first.status, second.status, third.status]).toEqual([429, 429, 201]);
      expect(first.headers.get('retry-after')).toBe('7');
      expect(sandbox.activities.map((a) => a.text)).toEqual(['three']);
      expect(sandbox.faults.pending).toBe(0);
    });

    it('answers 500 and 412 with Teams error bodies, only for the targeted operation', async () => {
      const conversationId = await sandbox.installFor(ada);
      sandbox.faults.inject({ kind: '500', times: 1, operation: 'updateActivity' });
      sandbox.faults.inject({ kind: '412', times: 1, operation: 'sendToConversation' });
      const base = `/v3/conversations/${encodeURIComponent(conversationId)}/activities`;

      const members = await v3('GET', `/v3/conversations/${encodeURIComponent(conversationId)}/members`);
      const send = await v3('POST', base, { type: 'message', text: 'x' });
      const update = await v3('PUT', `${base}/1`, { type: 'message', text: 'y' });

      expect(members.status).toBe(200);
      expect(send.status).toBe(412);
      expect(await send.json()).toMatchObject({ error: { code: 'PreconditionFailed' } });
      expect(update.status).toBe(500);
    });

    it('holds a slow call and then serves it', async () => {
      const conversationId = await sandbox.installFor(ada);
      sandbox.faults.inject({ kind: 'slow', times: 1, delayMs: 50 });

      const response = await v3(
        'POST',
        `/v3/conversations/${encodeURIComponent(conversationId)}/activities`,
        {
          type: 'message',
          text: 'eventually',
        },
      );

      expect(response.status).toBe(201);
      expect(sandbox.activities.map((a) => a.text)).toEqual(['eventually']);
    });
  });

  describe('bad requests from the bot', () => {
    it('answers 404 ConversationNotFound for an unknown conversation', async () => {
      const response = await v3('POST', '/v3/conversations/a%3Anope/activities', {
        type: 'message',
        text: 'x',
      });

      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'ConversationNotFound' } });
    });

    it('refuses an activity without a type, malformed JSON, a broken card and an oversized message', async () => {
      const conversationId = await sandbox.installFor(ada);
      const path = `/v3/conversations/${encodeURIComponent(conversationId)}/activities`;

      const noType = await v3('POST', path, { text: 'x' });
      const malformed = await v3('POST', path, '{"type": "message",');
      const brokenCard = await v3('POST', path, {
        type: 'message',
        attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { body: [] } }],
      });
      const oversized = await v3('POST', path, { type: 'message', text: 'x'.repeat(40 * 1024) });

      expect([noType.status, malformed.status, brokenCard.status, oversized.status]).toEqual([
        400, 400, 400, 413,
      ]);
      expect(sandbox.activities).toHaveLength(0);
    });
  });
});

describe('a connector where the bot is not installed for everyone', () => {
  it('answers 403 to a proactive 1:1 chat with a user who has not installed the bot, until they do', async () => {
    const sandbox = await startConnectorSandbox({ requireInstall: true });
    const bot = createHttpServer({ log: silentLog, maxBodyBytes: 1024 * 1024 });
    bot.post('/api/messages', (_req, res, next) => {
      res.send(200);
      return next();
    });
    const listening = await listen(bot, { port: 0, host: '127.0.0.1' });
    try {
      sandbox.botEndpoint = `${listening.url}/api/messages`;
      const open = () =>
        fetch(`${sandbox.url}/v3/conversations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ members: [{ id: ada.aadObjectId }], tenantId: TENANT, bot: sandbox.bot }),
        });

      const before = await open();
      await sandbox.installFor(ada);
      const after = await open();

      expect(before.status).toBe(403);
      expect(await before.json()).toMatchObject({ error: { code: 'BotNotInConversationRoster' } });
      expect(after.status).toBe(201);
    } finally {
      await listening.close();
      await sandbox.close();
    }
  });
});
