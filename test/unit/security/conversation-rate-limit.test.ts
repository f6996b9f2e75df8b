import { describe, expect, it } from 'vitest';
import type { SupportEngine, UserMessage } from '../../../src/ports/support-engine.js';
import { silentLog } from '../../../src/ports/log.js';
import {
  SLOW_DOWN_PRESSES,
  SLOW_DOWN_REPLY,
  withConversationRateLimit,
} from '../../../src/security/conversation-rate-limit.js';
import { ManualClock } from '../../support/in-memory-ports.js';

function countingEngine(): SupportEngine & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async onUserMessage(m) {
      calls.push(`message:${m.conversationId}`);
    },
    async onUserCardAction(a) {
      calls.push(`user_card:${a.conversationId}`);
      return { kind: 'text', text: 'pressed' };
    },
    async onTechnicianCommand(c) {
      calls.push(`command:${c.conversationId}`);
      return { kind: 'text', text: 'ok' };
    },
    async onTechnicianCardAction(a) {
      calls.push(`tech_card:${a.conversationId}`);
      return null;
    },
    async onAppInstalled() {
      calls.push('installed');
    },
  };
}

const message = (conversationId: string, userId: string, n: number): UserMessage => ({
  conversationId,
  activityId: `act-${n}`,
  userId,
  tenantId: 't',
  text: `message ${n}`,
  attachmentCount: 0,
  receivedAt: '2026-11-25T09:00:00.000Z',
});

const command = (conversationId: string) => ({
  from: { userId: 'dana', name: 'Dana', email: null, tenantId: 't' },
  conversationId,
  teamId: 'team',
  channelId: 'channel',
  text: 'status',
  mentions: [],
});

describe('the per-conversation turn limit', () => {
  it('lets at most the configured number of commands a minute through, whoever sends them', async () => {
    const engine = countingEngine();
    const clock = new ManualClock();
    const limited = withConversationRateLimit(engine, { turnsPerMinute: 5, clock, log: silentLog });

    const replies = [];
    for (let n = 0; n < 20; n++)
      replies.push(await limited.onTechnicianCommand(command('19:c@thread.tacv2')));

    expect(engine.calls).toHaveLength(5);
    expect(replies.filter((r) => r === SLOW_DOWN_REPLY)).toHaveLength(15);
  });

  it('opens again when the minute has passed', async () => {
    const engine = countingEngine();
    const clock = new ManualClock();
    const limited = withConversationRateLimit(engine, { turnsPerMinute: 2, clock, log: silentLog });

    for (let n = 0; n < 4; n++) await limited.onTechnicianCommand(command('19:c@thread.tacv2'));
    clock.advanceMs(60_001);
    await limited.onTechnicianCommand(command('19:c@thread.tacv2'));

    expect(engine.calls).toHaveLength(3);
  });

  it('passes every message of an end user’s 1:1 chat to the engine, which keeps them all on the ticket', async () => {
    const engine = countingEngine();
    const limited = withConversationRateLimit(engine, {
      turnsPerMinute: 2,
      clock: new ManualClock(),
      log: silentLog,
    });

    for (let n = 0; n < 10; n++) await limited.onUserMessage(message('a:chat', 'u', n));

    expect(engine.calls).toHaveLength(10);
  });

  it('counts each conversation on its own, and a channel’s threads with their channel', async () => {
    const engine = countingEngine();
    const limited = withConversationRateLimit(engine, {
      turnsPerMinute: 2,
      clock: new ManualClock(),
      log: silentLog,
    });

    await limited.onUserMessage(message('a:one', 'u1', 1));
    await limited.onUserMessage(message('a:one', 'u1', 2));
    await limited.onUserMessage(message('a:two', 'u2', 3));
    const first = await limited.onTechnicianCommand(command('19:c@thread.tacv2;messageid=1'));
    const second = await limited.onTechnicianCommand(command('19:c@thread.tacv2;messageid=2'));
    const third = await limited.onTechnicianCommand(command('19:c@thread.tacv2;messageid=3'));

    expect(engine.calls.filter((c) => c.startsWith('message'))).toHaveLength(3);
    expect(first).toEqual({ kind: 'text', text: 'ok' });
    expect(second).toEqual({ kind: 'text', text: 'ok' });
    expect(third).toEqual(SLOW_DOWN_REPLY);
  });

  it('answers card presses over the limit with a request to wait, leaving the card as it is', async () => {
    const engine = countingEngine();
    const limited = withConversationRateLimit(engine, {
      turnsPerMinute: 1,
      clock: new ManualClock(),
      log: silentLog,
    });
    const press = {
      conversationId: 'a:c',
      userId: 'u',
      tenantId: 't',
      ticketId: 1,
      verb: 'ask_human' as const,
    };

    await limited.onUserCardAction(press);
    expect(await limited.onUserCardAction(press)).toEqual(SLOW_DOWN_PRESSES);
    expect(engine.calls).toEqual(['user_card:a:c']);
  });
});
