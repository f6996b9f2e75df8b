import { describe, expect, it } from 'vitest';
import {
  createVisibleTextFilter,
  formatAssistantReply,
  parseAssistantReply,
} from '../../../src/engine/prompt/assistant-reply.js';

describe('reading the model’s answer', () => {
  it('takes the outcome and category from the control line at the end and hides it from the user', () => {
    const reply = parseAssistantReply(
      'Please restart Outlook. Does it connect now?\n[[ticketzero: outcome=continue; category=outlook]]\n',
    );
    expect(reply).toEqual({
      text: 'Please restart Outlook. Does it connect now?',
      outcome: 'continue',
      reason: null,
      category: 'outlook',
      formatFollowed: true,
    });
  });

  it('reads needs_human with its reason, and a resolved proposal', () => {
    expect(
      parseAssistantReply(
        'A technician will help.\n[[ticketzero: outcome=needs_human; category=password_mfa; reason=account locked, needs an admin]]',
      ),
    ).toMatchObject({
      outcome: 'needs_human',
      reason: 'account locked, needs an admin',
      category: 'password_mfa',
    });
    expect(
      parseAssistantReply(
        'Great! Can you confirm?\n[[ticketzero: outcome=resolved_pending_confirmation; category=vpn]]',
      ),
    ).toMatchObject({
      outcome: 'resolved_pending_confirmation',
      reason: null,
    });
  });

  it('tolerates the small variations small models make', () => {
    expect(
      parseAssistantReply(
        'Ok.\n```\n[[ TicketZero: Outcome = Needs Human | Category = Printer | reason: "toner is empty"]]\n```',
      ),
    ).toMatchObject({
      text: 'Ok.',
      outcome: 'needs_human',
      category: 'printer',
      reason: 'toner is empty',
      formatFollowed: true,
    });
    expect(parseAssistantReply('Fixed then.\n[[ticketzero outcome=resolved category=teams]]')).toMatchObject({
      outcome: 'resolved_pending_confirmation',
      category: 'other',
    });
  });

  it('treats an answer without the control line as continue and keeps its text', () => {
    expect(parseAssistantReply('Please restart the printer.')).toEqual({
      text: 'Please restart the printer.',
      outcome: 'continue',
      reason: null,
      category: null,
      formatFollowed: false,
    });
  });

  it('treats an unknown outcome or a malformed line as continue', () => {
    expect(parseAssistantReply('Hm.\n[[ticketzero: outcome=close_ticket_now]]')).toMatchObject({
      outcome: 'continue',
      formatFollowed: false,
      text: 'Hm.',
    });
    expect(parseAssistantReply('Hm.\n[[ticketzero: nothing useful]]')).toMatchObject({
      outcome: 'continue',
      formatFollowed: false,
    });
    expect(parseAssistantReply('{"outcome": "needs_human"')).toMatchObject({
      outcome: 'continue',
      text: '{"outcome": "needs_human"',
    });
  });

  it('trusts only a control line at the very end, not one in the middle of the answer', () => {
    const reply = parseAssistantReply(
      'You wrote [[ticketzero: outcome=resolved_pending_confirmation; category=vpn]] but let us keep going. Restart the VPN app.',
    );
    expect(reply.outcome).toBe('continue');
    expect(reply.formatFollowed).toBe(false);
    expect(reply.text).not.toContain('ticketzero');
  });

  it('uses the last line when the model echoed one earlier', () => {
    const reply = parseAssistantReply(
      'Text [[ticketzero: outcome=resolved_pending_confirmation; category=vpn]] more.\n[[ticketzero: outcome=continue; category=vpn]]',
    );
    expect(reply).toMatchObject({ outcome: 'continue', formatFollowed: true, text: 'Text more.' });
  });

  it('reads what formatAssistantReply writes', () => {
    const raw = formatAssistantReply({
      text: 'A technician will call.',
      outcome: 'needs_human',
      reason: 'hardware fault',
      category: 'hardware',
    });
    expect(parseAssistantReply(raw)).toEqual({
      text: 'A technician will call.',
      outcome: 'needs_human',
      reason: 'hardware fault',
      category: 'hardware',
      formatFollowed: true,
    });
  });
});

function streamThrough(raw: string, sizes: number[]): string {
  const shown: string[] = [];
  const filter = createVisibleTextFilter((piece) => shown.push(piece));
  let at = 0;
  let i = 0;
  while (at < raw.length) {
    const size = sizes[i++ % sizes.length] ?? 1;
    filter.push(raw.slice(at, at + size));
    at += size;
  }
  filter.flush();
  return shown.join('');
}

describe('the visible-text filter for streamed answers', () => {
  const answers = [
    'Please restart Outlook.\n\n[[ticketzero: outcome=continue; category=outlook]]\n',
    'Step 1: open `ipconfig /all` and read [the] value.\n[[ticketzero: outcome=needs_human; category=network; reason=dns]]',
    '  Leading space. Then [[ticketzero: outcome=continue]] middle block, and [brackets] [x].\n```\n[[ticketzero: outcome=continue; category=vpn]]\n```',
    'No control line at all, ends with a bracket [',
    'Cut off mid line [[ticketzero: outcome=conti',
    'Ends with backticks ``',
  ];

  it.each(answers)('shows exactly the text the parser keeps, however the answer is split: %j', (raw) => {
    const expected = parseAssistantReply(raw).text;
    for (const sizes of [[1], [2], [3, 1, 7], [5], [raw.length]]) {
      expect(streamThrough(raw, sizes)).toBe(expected);
    }
  });

  it('holds back a possible control line until it is clear, so its start never reaches the user', () => {
    const shown: string[] = [];
    const filter = createVisibleTextFilter((piece) => shown.push(piece));
    filter.push('Restart it. [');
    expect(shown.join('')).toBe('Restart it.');
    filter.push('[ticket');
    expect(shown.join('')).toBe('Restart it.');
    filter.push('zero: outcome=continue]]');
    filter.flush();
    expect(shown.join('')).toBe('Restart it.');
  });

  it('starts over after reset, when another provider takes over', () => {
    const shown: string[] = [];
    const filter = createVisibleTextFilter((piece) => shown.push(piece));
    filter.push('Half an ans');
    filter.reset();
    shown.length = 0;
    filter.push('A full answer.\n[[ticketzero: outcome=continue]]');
    filter.flush();
    expect(shown.join('')).toBe('A full answer.');
  });
});
