import { describe, expect, it } from 'vitest';
import { cleanMessageText, MAX_MESSAGE_CHARACTERS } from '../../../src/adapters/teams/message-text.js';

const BOT = '28:ticketzero';

describe('the text of an inbound Teams message', () => {
  it('loses its HTML markup and entities, keeping line breaks', () => {
    const text = cleanMessageText(
      { text: '<p>VPN &amp; <b>Outlook</b> fail</p><p>since&nbsp;Monday</p>' },
      BOT,
    );
    expect(text).toEqual({ text: 'VPN & Outlook fail\nsince Monday', truncated: false, unreadable: false });
  });

  it('drops the bot’s @mention and keeps other people as @Name', () => {
    const text = cleanMessageText(
      {
        text: '<at>TicketZero</at> reassign <at>Dana Smith</at>',
        entities: [
          { type: 'mention', text: '<at>TicketZero</at>', mentioned: { id: BOT, name: 'TicketZero' } },
          { type: 'mention', text: '<at>Dana Smith</at>', mentioned: { id: '29:dana', name: 'Dana Smith' } },
        ],
      },
      BOT,
    );
    expect(text.text).toBe('reassign @Dana Smith');
  });

  it('is empty, not an error, when the user only sent an attachment', () => {
    expect(cleanMessageText({ attachments: [{ contentType: 'image/png' }] }, BOT).text).toBe('');
  });

  it('is cut at the limit and says so', () => {
    const text = cleanMessageText({ text: 'a'.repeat(MAX_MESSAGE_CHARACTERS + 50) }, BOT);
    expect(text.text).toHaveLength(MAX_MESSAGE_CHARACTERS);
    expect(text.truncated).toBe(true);
  });

  it('is left out when it looks like binary data', () => {
    const binary =
      Array.from({ length: 64 }, (_, i) => String.fromCharCode(i % 32)).join('') + '\ufffd'.repeat(20);
    expect(cleanMessageText({ text: binary }, BOT)).toEqual({ text: '', truncated: false, unreadable: true });
  });

  it('drops control characters from ordinary text', () => {
    expect(cleanMessageText({ text: 'print\u0007er jam\u0000' }, BOT).text).toBe('printer jam');
  });
});
