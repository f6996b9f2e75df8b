/**
 * The Teams adapter over real HTTP: the connector sandbox delivers signed activities to /api/messages exactly as
 * Teams does, and records everything the bot sends back through the Bot Framework v3 API.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTeamsBot, type TeamsBot } from '../../src/adapters/teams/teams-bot.js';
import { renderCard } from '../../src/adapters/teams/cards/render-card.js';
import { createInMemoryConversationStore } from '../../src/adapters/store/in-memory-store.js';
import type { Config } from '../../src/config/load-config.js';
import { createBotFrameworkAuthentication } from '../../src/http/bot-authentication.js';
import { createHttpServer, listen, type ListeningServer } from '../../src/http/server.js';
import { silentLog } from '../../src/ports/log.js';
import type { CardSpec } from '../../src/ports/chat.js';
import type { TenantRef } from '../../src/ports/user-directory.js';
import {
  startConnectorSandbox,
  type ConnectorSandbox,
  type RecordedActivity,
  type TeamsUser,
} from '../../src/sandboxes/connector/connector-sandbox.js';
import { createRecordingEngine, type RecordingEngine } from '../fixtures/teams/recording-engine.js';
import { sampleCardSpecs, sampleTicket } from '../fixtures/teams/sample-card-specs.js';
import { runFor } from '../support/waiting.js';

const TENANT = '6f1c2a9e-0000-4000-8000-00000000c0de';
const tenant: TenantRef = { key: 'contoso', tenantId: TENANT };
const APP_ID = 'ticketzero-e2e-app';
const SECRET = 'ticketzero-e2e-secret';
const megan: TeamsUser = { id: '29:1megan', aadObjectId: 'aad-megan', name: 'Megan Bowen', tenantId: TENANT };
const bob: TeamsUser = { id: '29:1bob', aadObjectId: 'aad-bob', name: 'Bob Byte', tenantId: TENANT };
const adele: TeamsUser = {
  id: '29:1adele',
  aadObjectId: 'aad-adele',
  name: 'Adele Vance',
  tenantId: TENANT,
  email: 'adele@msp.example',
};
const dana: TeamsUser = {
  id: '29:1dana',
  aadObjectId: 'aad-dana',
  name: 'Dana Smith',
  tenantId: TENANT,
  email: 'dana@msp.example',
};
const eve: TeamsUser = { id: '29:1eve', aadObjectId: 'aad-eve', name: 'Eve Other', tenantId: TENANT };
const TECH = { teamId: '19:tech-general@thread.tacv2', channelId: '19:tech-desk@thread.tacv2' };
const OTHER = { teamId: '19:sales-general@thread.tacv2', channelId: '19:sales-chat@thread.tacv2' };

describe('the Teams bot, driven over HTTP by the connector sandbox', () => {
  let sandbox: ConnectorSandbox;
  let bot: TeamsBot;
  let server: ListeningServer;
  let engine: RecordingEngine;
  const installs: string[] = [];

  beforeAll(async () => {
    // botbuilder prints refused requests with console.error; the assertions say what matters.
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    sandbox = await startConnectorSandbox({ appId: APP_ID, appPassword: SECRET, requireInstall: true });
    const settings: Config['bot'] = {
      appId: APP_ID,
      appPassword: SECRET,
      appTenantId: TENANT,
      appType: 'SingleTenant',
      teamsAppId: undefined,
      serviceUrl: sandbox.serviceUrl,
      openIdMetadataUrl: sandbox.openIdMetadataUrl,
      tokenIssuer: sandbox.issuer,
      loginUrl: sandbox.loginUrl(TENANT),
    };
    engine = createRecordingEngine();
    bot = createTeamsBot({
      store: createInMemoryConversationStore(),
      auth: createBotFrameworkAuthentication(settings),
      appId: APP_ID,
      defaultServiceUrl: sandbox.serviceUrl,
      appInstaller: {
        // Installing through Graph makes Teams tell the bot (conversationUpdate); the sandbox does the same.
        async ensureInstalled(_tenant, userId) {
          installs.push(userId);
          const user = [megan, bob].find((u) => u.aadObjectId === userId);
          if (!user) throw new Error(`unknown test user ${userId}`);
          await sandbox.installFor(user);
          return { installed: 'now', chatId: null };
        },
      },
      technicians: { teamId: TECH.teamId, channelId: TECH.channelId },
      tenants: { tenantById: (id) => (id === TENANT ? tenant : null) },
      log: silentLog,
      retry: { initialDelayMs: 5, maxDelayMs: 20 },
    });
    bot.attach(engine);
    const http = createHttpServer({ log: silentLog, maxBodyBytes: 256 * 1024 });
    bot.mount(http);
    server = await listen(http, { port: 0, host: '127.0.0.1' });
    sandbox.botEndpoint = `${server.url}/api/messages`;
    sandbox.addTeam({ ...TECH, name: 'MSP Technicians', members: [adele, dana] });
    sandbox.addTeam({ ...OTHER, name: 'Sales', members: [eve] });
  });

  afterAll(async () => {
    await server?.close();
    await sandbox?.close();
    vi.restoreAllMocks();
  });

  beforeEach(() => {
    sandbox.clear();
    engine.onMessage = async () => {};
  });

  const messagesIn = (conversationId: string): RecordedActivity[] =>
    sandbox.activities.filter((a) => a.conversationId === conversationId && a.type === 'message');

  describe('the end user’s 1:1 chat', () => {
    it('tells the engine the app was installed, with the user, tenant and conversation', async () => {
      const conversationId = await sandbox.installFor(megan);
      expect(engine.installs).toContainEqual({ tenantId: TENANT, userId: 'aad-megan', conversationId });
    });

    it('hands a 1:1 message to the engine with its sender, tenant, conversation and markup-free text', async () => {
      const said = await sandbox.userSays(megan, '<p>My <b>printer</b> shows&nbsp;error 0x42</p>');
      expect(said.status).toBe(200);
      const message = engine.userMessages.at(-1)!;
      expect(message).toMatchObject({
        conversationId: said.conversationId,
        activityId: said.activityId,
        userId: 'aad-megan',
        tenantId: TENANT,
        text: 'My printer shows error 0x42',
        attachmentCount: 0,
      });
    });

    it('shows typing in the user’s own turn, and the answer follows as a message in the conversation', async () => {
      engine.onMessage = async (message) => {
        await bot.chat.sendTyping(message.conversationId);
        await bot.chat.send(message.conversationId, { kind: 'text', text: 'Restart the print spooler.' });
      };
      const said = await sandbox.userSays(megan, 'still broken');
      expect(said.status).toBe(200);
      const sent = sandbox.activities.filter((a) => a.conversationId === said.conversationId);
      expect(sent.map((a) => [a.operation, a.type, a.replyToId ?? null])).toEqual([
        ['reply', 'typing', said.activityId],
        ['send', 'message', null],
      ]);
    });

    it('shows typing through the user’s turn though the engine returns at once and answers later', async () => {
      let answered: Promise<void> = Promise.resolve();
      engine.onMessage = async (message) => {
        await bot.chat.sendTyping(message.conversationId); // started, not waited for: the engine returns now
        answered = runFor(50).then(() =>
          bot.chat.send(message.conversationId, { kind: 'text', text: 'Restart the print spooler.' }),
        );
      };
      const said = await sandbox.userSays(megan, 'still broken');
      expect(said.status).toBe(200);
      await answered;
      const sent = sandbox.activities.filter((a) => a.conversationId === said.conversationId);
      // Not a proactive 'send' after the turn's context was revoked: one reply in the turn, then the answer.
      expect(sent.map((a) => [a.operation, a.type, a.replyToId ?? null])).toEqual([
        ['reply', 'typing', said.activityId],
        ['send', 'message', null],
      ]);
    });

    it('sends no typing indicator the engine did not ask for, however long the turn takes', async () => {
      // teams-ai's own typing timer would send one after a second of turn, and another every second.
      engine.onMessage = () => runFor(1_500);
      const said = await sandbox.userSays(megan, 'still broken');
      expect(said.status).toBe(200);
      expect(sandbox.activities.filter((a) => a.conversationId === said.conversationId)).toEqual([]);
    });

    it('does not hold the turn up for a slow typing indicator, and still sends the answer after it', async () => {
      let typingSeenWhenReturned = -1;
      engine.onMessage = async (message) => {
        sandbox.faults.inject({ kind: 'slow', times: 1, operation: 'replyToActivity', delayMs: 300 });
        await bot.chat.sendTyping(message.conversationId);
        typingSeenWhenReturned = sandbox.activities.filter((a) => a.type === 'typing').length;
        await bot.chat.send(message.conversationId, { kind: 'text', text: 'Restart the print spooler.' });
      };
      const said = await sandbox.userSays(megan, 'still broken');
      expect(said.status).toBe(200);
      expect(typingSeenWhenReturned).toBe(0);
      const sent = sandbox.activities.filter((a) => a.conversationId === said.conversationId);
      expect(sent.map((a) => a.type)).toEqual(['typing', 'message']);
    });

    it('sends the typing indicator as a new activity outside a user turn', async () => {
      const conversationId = await sandbox.installFor(megan);
      sandbox.clear();
      await bot.chat.sendTyping(conversationId);
      await bot.chat.sendTyping(conversationId);
      expect(sandbox.activities.map((a) => [a.operation, a.type])).toEqual([
        ['send', 'typing'],
        ['send', 'typing'],
      ]);
    });

    it('answers a card button with the card that replaces it (Universal Actions)', async () => {
      const conversationId = await sandbox.installFor(megan);
      const settled = {
        ...sampleCardSpecs['confirm-fix']!,
        settled: 'Ticket #4711 is resolved.',
      } as CardSpec;
      engine.userCardReply = () => ({ kind: 'card', card: settled });
      const body = await sandbox.clickAction(megan, conversationId, {
        verb: 'confirm_fixed',
        ticketId: 4711,
        card: 'confirm_fix',
      });
      expect(engine.userCardActions.at(-1)).toEqual({
        conversationId,
        userId: 'aad-megan',
        tenantId: TENANT,
        ticketId: 4711,
        verb: 'confirm_fixed',
        card: 'confirm_fix',
      });
      expect(body).toEqual({
        statusCode: 200,
        type: 'application/vnd.microsoft.card.adaptive',
        value: renderCard(settled),
      });
    });

    it('answers a card button with a message beside the card when the engine leaves the card as it is', async () => {
      const conversationId = await sandbox.installFor(megan);
      engine.userCardReply = () => ({ kind: 'text', text: 'Ticket #4711 is paused.' });
      const body = await sandbox.clickAction(megan, conversationId, { verb: 'ask_human', ticketId: 4711 });
      expect(body).toEqual({
        statusCode: 200,
        type: 'application/vnd.microsoft.activity.message',
        value: 'Ticket #4711 is paused.',
      });
    });

    it('refuses a card action without a ticket, without asking the engine', async () => {
      const conversationId = await sandbox.installFor(megan);
      const before = engine.calls();
      const body = await sandbox.clickAction(megan, conversationId, { verb: 'confirm_fixed' });
      expect(body).toMatchObject({ statusCode: 400, type: 'application/vnd.microsoft.error' });
      expect(engine.calls()).toBe(before);
    });

    it('installs the app when needed, opens the chat, and later reaches the user proactively', async () => {
      const { conversationId } = await bot.chat.openChat({
        tenant,
        userId: 'aad-bob',
        displayName: 'Bob Byte',
      });
      expect(installs).toContain('aad-bob');
      expect(sandbox.conversation(conversationId)?.kind).toBe('personal');
      await bot.chat.send(conversationId, { kind: 'card', card: sampleCardSpecs['ticket-intro']! });
      await bot.chat.send(conversationId, { kind: 'text', text: 'Hello Bob, I am looking at your ticket.' });
      const sent = messagesIn(conversationId);
      expect(sent[0]?.attachments?.[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
      expect(sent[1]?.text).toBe('Hello Bob, I am looking at your ticket.');
      // Opening again reuses the stored conversation: no second install.
      const again = await bot.chat.openChat({ tenant, userId: 'aad-bob', displayName: 'Bob Byte' });
      expect(again.conversationId).toBe(conversationId);
      expect(installs.filter((id) => id === 'aad-bob')).toHaveLength(1);
    });

    it('retries a throttled send (429) with backoff and delivers it once', async () => {
      const { conversationId } = await bot.chat.openChat({
        tenant,
        userId: 'aad-bob',
        displayName: 'Bob Byte',
      });
      sandbox.clear();
      sandbox.faults.inject({ kind: '429', times: 2, operation: 'sendToConversation', retryAfterSeconds: 0 });
      await bot.chat.send(conversationId, { kind: 'text', text: 'after the throttle' });
      expect(messagesIn(conversationId).map((a) => a.text)).toEqual(['after the throttle']);
      const attempts = sandbox.requests.filter((r) => r.operation === 'sendToConversation');
      expect(attempts.map((r) => r.status)).toEqual([429, 429, 201]);
    });

    it('waits at least the Retry-After Teams gave a throttled send before sending it again', async () => {
      const { conversationId } = await bot.chat.openChat({
        tenant,
        userId: 'aad-bob',
        displayName: 'Bob Byte',
      });
      sandbox.clear();
      // botbuilder's HTTP pipeline makes 4 attempts of its own, each after the Retry-After; the fifth 429 reaches the
      // connector policy, whose own backoff is 5–20 ms here: only honouring the header makes it wait a second more.
      sandbox.faults.inject({ kind: '429', times: 5, operation: 'sendToConversation', retryAfterSeconds: 1 });
      const started = performance.now();
      await bot.chat.send(conversationId, { kind: 'text', text: 'after Retry-After' });
      expect(performance.now() - started).toBeGreaterThanOrEqual(4900);
      expect(messagesIn(conversationId).map((a) => a.text)).toEqual(['after Retry-After']);
      const attempts = sandbox.requests.filter((r) => r.operation === 'sendToConversation');
      expect(attempts.map((r) => r.status)).toEqual([429, 429, 429, 429, 429, 201]);
    });
  });

  describe('the technicians’ channel', () => {
    it('opens a thread per ticket with the card on top, and updates that card in place', async () => {
      const ref = await bot.technicianChannel.openThread(sampleCardSpecs['ticket-thread-talking']!);
      expect(ref.threadId).toBe(`${TECH.channelId};messageid=${ref.cardActivityId}`);
      await bot.technicianChannel.updateCard(ref, {
        kind: 'ticket_thread',
        ticket: { ...sampleTicket, phase: 'paused' },
        summary: null,
        lastProvider: null,
      });
      const card = sandbox.activities.filter((a) => a.activityId === ref.cardActivityId);
      expect(card.map((a) => a.operation)).toEqual(['create', 'update']);
      expect(JSON.stringify(card[1]!.attachments)).toContain('Paused by a technician');
      expect(sandbox.conversation(ref.threadId)?.messages).toHaveLength(1);
    });

    it('posts in the thread with a real @mention, folding a long text behind "Show all"', async () => {
      const ref = await bot.technicianChannel.openThread(sampleCardSpecs['ticket-thread-talking']!);
      await bot.technicianChannel.post(
        ref,
        { kind: 'text', text: 'The user asked for a person.' },
        { id: adele.id, name: adele.name },
      );
      const long = 'The user tried many things. '.repeat(40);
      await bot.technicianChannel.post(ref, { kind: 'text', text: long });
      const [mentioned, folded] = messagesIn(ref.threadId).filter((a) => a.operation !== 'create');
      expect(mentioned?.text).toBe('<at>Adele Vance</at> The user asked for a person.');
      expect(mentioned?.entities).toEqual([
        { type: 'mention', text: '<at>Adele Vance</at>', mentioned: { id: adele.id, name: 'Adele Vance' } },
      ]);
      const content = JSON.stringify(folded?.attachments?.[0]?.content);
      expect(content).toContain('Show all');
      expect(content).toContain(JSON.stringify(long).slice(1, -1));
    });

    it('hands a technician’s @mention to the engine without the bot’s mention and replies in the same thread', async () => {
      const ref = await bot.technicianChannel.openThread(sampleCardSpecs['ticket-thread-talking']!);
      const rootId = ref.cardActivityId;
      // Teams throttles the reply once; it still lands, once.
      sandbox.faults.inject({ kind: '429', times: 1, retryAfterSeconds: 0 });
      const said = await sandbox.teamMemberSays(
        adele,
        { ...TECH, threadId: rootId },
        'reassign <at>Dana Smith</at> please',
        [{ id: dana.id, name: dana.name }],
      );
      expect(said.status).toBe(200);
      const command = engine.technicianCommands.at(-1)!;
      expect(command).toEqual({
        from: { userId: 'aad-adele', name: 'Adele Vance', email: null, tenantId: TENANT },
        conversationId: ref.threadId,
        teamId: TECH.teamId,
        channelId: TECH.channelId,
        text: 'reassign @Dana Smith please',
        mentions: [{ id: dana.id, name: 'Dana Smith' }],
      });
      const replies = messagesIn(ref.threadId).filter((a) => a.text?.startsWith('heard:'));
      expect(replies.map((a) => a.text)).toEqual(['heard: reassign @Dana Smith please']);
      expect(sandbox.requests.filter((r) => r.status === 429)).toHaveLength(1);
    });

    it('updates the thread card for everyone when a technician presses one of its buttons', async () => {
      const ref = await bot.technicianChannel.openThread(sampleCardSpecs['ticket-thread-talking']!);
      engine.technicianCardReply = () => sampleCardSpecs['ticket-thread-paused']!;
      const body = (await sandbox.clickAction(
        adele,
        ref.threadId,
        { verb: 'pause', ticketId: 4711 },
        { replyToId: ref.cardActivityId },
      )) as { type: string; value: unknown };
      expect(engine.technicianCardActions.at(-1)).toMatchObject({
        from: { userId: 'aad-adele' },
        teamId: TECH.teamId,
        channelId: TECH.channelId,
        ticketId: 4711,
        verb: 'pause',
      });
      expect(body.type).toBe('application/vnd.microsoft.card.adaptive');
      const updated = sandbox.activities.filter((a) => a.activityId === ref.cardActivityId && a.updated);
      expect(JSON.stringify(updated.at(-1)?.attachments)).toContain('Paused by a technician');
    });

    it('counts members of the technicians’ team as technicians, and nobody else', async () => {
      const who = (u: TeamsUser) => ({ userId: u.aadObjectId, name: u.name, email: null, tenantId: TENANT });
      expect(await bot.authority.isTechnician(who(adele), { teamId: TECH.teamId })).toBe(true);
      expect(await bot.authority.isTechnician(who(eve), { teamId: OTHER.teamId })).toBe(false);
      expect(await bot.authority.isTechnician(who(megan), { teamId: TECH.teamId })).toBe(false);
      expect(await bot.authority.isTechnician({ ...who(adele), userId: '' }, { teamId: TECH.teamId })).toBe(
        false,
      );
    });

    it('finds technicians from the team roster by e-mail, name or prefix', async () => {
      expect((await bot.directory.find('dana@msp.example')).map((t) => t.name)).toEqual(['Dana Smith']);
      expect((await bot.directory.find('ade')).map((t) => t.email)).toEqual(['adele@msp.example']);
      expect((await bot.directory.find('SMITH')).map((t) => t.userId)).toEqual(['aad-dana']);
      expect(await bot.directory.find('nobody')).toEqual([]);
    });
  });

  describe('bad input', () => {
    it.each([
      ['a body that is not an object', [1, 2, 3]],
      [
        'an activity without a type',
        { channelId: 'msteams', conversation: { id: 'a:1' }, from: { id: '29:x' } },
      ],
      [
        'an activity without a conversation',
        {
          type: 'message',
          channelId: 'msteams',
          serviceUrl: 'http://x/',
          from: { id: '29:x' },
          recipient: { id: '28:y' },
        },
      ],
      [
        'an activity whose sender is a string',
        {
          type: 'message',
          channelId: 'msteams',
          serviceUrl: 'http://x/',
          from: 'mallory',
          recipient: { id: '28:y' },
          conversation: { id: 'a:1' },
        },
      ],
      [
        'an activity whose text is a number',
        {
          type: 'message',
          text: 42,
          channelId: 'msteams',
          serviceUrl: 'http://x/',
          from: { id: '29:x' },
          recipient: { id: '28:y' },
          conversation: { id: 'a:1' },
        },
      ],
    ])('answers %s with 400 and a clear error, never reaching the engine', async (_name, body) => {
      const before = engine.calls();
      const answer = await sandbox.sendRaw(body, { authorization: `Bearer ${sandbox.signChannelToken()}` });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'invalid_activity' } });
      expect(engine.calls()).toBe(before);
    });

    it('answers an unsigned activity with 401', async () => {
      const before = engine.calls();
      const answer = await sandbox.sendRaw({
        type: 'message',
        text: 'hi',
        channelId: 'msteams',
        serviceUrl: sandbox.serviceUrl,
        from: { id: megan.id, aadObjectId: megan.aadObjectId },
        recipient: { id: sandbox.bot.id },
        conversation: { id: 'a:1', conversationType: 'personal' },
      });
      expect(answer.status).toBe(401);
      expect(engine.calls()).toBe(before);
    });
  });
});
