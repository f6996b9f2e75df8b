import { describe, expect, it } from 'vitest';
import { formatAssistantReply, parseAssistantReply } from '../../../src/engine/prompt/assistant-reply.js';

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
