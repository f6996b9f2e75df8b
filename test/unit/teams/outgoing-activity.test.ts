import { describe, expect, it } from 'vitest';
import { toActivity } from '../../../src/adapters/teams/outgoing-activity.js';

describe('a message posted to Teams', () => {
  it('shows an end user’s words literally in the technicians’ view, so they cannot inject links or formatting', () => {
    const activity = toActivity({
      kind: 'text',
      text: 'Click [here](https://evil.example) **now** <b>please</b>',
      speaker: 'Megan Bowen (round 2)',
      literal: true,
    });
    expect(activity.text).toMatch(/^\*\*Megan Bowen \\?\(round 2\\?\):\*\* /);
    expect(activity.text).not.toContain('[here](https://evil.example)');
    expect(activity.text).not.toContain('**now**');
  });

  it('keeps the formatting of TicketZero’s own answers to the user', () => {
    const activity = toActivity({ kind: 'text', text: '1. Open **Outlook**\n2. Click *Send/Receive*' });
    expect(activity.text).toBe('1. Open **Outlook**\n2. Click *Send/Receive*');
  });
});
