/**
 * Routing, driven with botbuilder's TestAdapter (no HTTP): which activity becomes which engine call, and which
 * become none. The same routes are exercised over real HTTP in test/in-process/teams-bot.test.ts.
 */
import { ConfigurationBotFrameworkAuthentication, TestAdapter, type Activity } from 'botbuilder';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTeamsBot, type TeamsBot } from '../../../src/adapters/teams/teams-bot.js';
import { createInMemoryConversationStore } from '../../../src/adapters/store/in-memory-store.js';
import type { ConversationStore } from '../../../src/ports/conversation-store.js';
import { silentLog } from '../../../src/ports/log.js';
import { createRecordingEngine, type RecordingEngine } from '../../fixtures/teams/recording-engine.js';

const TENANT = 'tenant-1';
const BOT = { id: '28:ticketzero', name: 'TicketZero' };
const user = { id: '29:megan', name: 'Megan', aadObjectId: 'aad-megan' };

function personal(partial: Partial<Activity>): Partial<Activity> {
  return {
    channelId: 'msteams',
    serviceUrl: 'http://127.0.0.1:9/',
    from: user,
    recipient: BOT,
    conversation: { id: 'a:megan', conversationType: 'personal', tenantId: TENANT, isGroup: false, name: '' },
    channelData: { tenant: { id: TENANT } },
    ...partial,
  };
}

describe('routing Teams activities to the engine', () => {
  let bot: TeamsBot;
  let engine: RecordingEngine;
  let store: ConversationStore;
  let adapter: TestAdapter;

  beforeEach(() => {
    engine = createRecordingEngine();
    store = createInMemoryConversationStore();
    bot = createTeamsBot({
      engine,
      store,
      auth: new ConfigurationBotFrameworkAuthentication({}),
      appId: undefined,
      defaultServiceUrl: 'http://127.0.0.1:9/',
      appInstaller: { ensureInstalled: async () => ({ installed: 'already', chatId: null }) },
      technicians: {},
      log: silentLog,
    });
    adapter = new TestAdapter((context) => bot.run(context));
  });

  it('counts attachments and passes the text of a 1:1 message', async () => {
    await adapter.send(
      personal({ type: 'message', text: 'screenshot attached', attachments: [{ contentType: 'image/png' }] }),
    );
    expect(engine.userMessages[0]).toMatchObject({
      text: 'screenshot attached',
      attachmentCount: 1,
      userId: 'aad-megan',
      tenantId: TENANT,
    });
  });

  it('does not bother the engine with an empty message', async () => {
    await adapter.send(personal({ type: 'message', text: '  <p></p> ' }));
    expect(engine.calls()).toBe(0);
  });

  it('ignores channel messages that do not mention the bot and group chats', async () => {
    await adapter.send(
      personal({
        type: 'message',
        text: 'hello all',
        conversation: { id: '19:chat@thread.v2', conversationType: 'groupChat', isGroup: true, name: '' },
      }),
    );
    await adapter.send(
      personal({
        type: 'message',
        text: 'not for the bot',
        conversation: {
          id: '19:c@thread.tacv2;messageid=1',
          conversationType: 'channel',
          isGroup: true,
          name: '',
        },
        channelData: { channel: { id: '19:c@thread.tacv2' }, team: { id: '19:t@thread.tacv2' } },
      }),
    );
    expect(engine.calls()).toBe(0);
  });

  it('hands a card press to the engine with the card the button is on and the user’s time zone', async () => {
    const pressed = (data: Record<string, unknown>, localTimezone?: string) =>
      adapter.send(
        personal({
          type: 'invoke',
          name: 'adaptiveCard/action',
          value: { action: { type: 'Action.Execute', verb: 'confirm_fixed', data } },
          ...(localTimezone !== undefined ? { localTimezone } : {}),
        }),
      );
    await pressed({ ticketId: 7, card: 'confirm_fix' }, 'Europe/Berlin');
    // A card that does not say which it is, or says something else, and a time zone that is not a zone name.
    await pressed({ ticketId: 8 }, '<b>Europe</b>');
    await pressed({ ticketId: 9, card: 'resolution_summary' });
    expect(engine.userCardActions).toEqual([
      expect.objectContaining({ ticketId: 7, card: 'confirm_fix', timeZone: 'Europe/Berlin' }),
      {
        conversationId: 'a:megan',
        userId: 'aad-megan',
        tenantId: TENANT,
        ticketId: 8,
        verb: 'confirm_fixed',
      },
      {
        conversationId: 'a:megan',
        userId: 'aad-megan',
        tenantId: TENANT,
        ticketId: 9,
        verb: 'confirm_fixed',
      },
    ]);
  });

  it('remembers a team the bot is added to, so its members may capture a channel', async () => {
    await adapter.send(
      personal({
        type: 'conversationUpdate',
        membersAdded: [BOT],
        conversation: { id: '19:t@thread.tacv2', conversationType: 'channel', isGroup: true, name: '' },
        channelData: {
          team: { id: '19:t@thread.tacv2', aadGroupId: 'group-guid', name: 'IT' },
          tenant: { id: TENANT },
        },
      }),
    );
    expect(await store.getValue('teams.team', '19:t@thread.tacv2')).toMatchObject({
      teamId: '19:t@thread.tacv2',
      aadGroupId: 'group-guid',
      tenantId: TENANT,
    });
    expect(await store.getValue('teams.team', 'group-guid')).not.toBeNull();
    expect(engine.installs).toEqual([]);
  });
});
