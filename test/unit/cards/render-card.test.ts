import { describe, expect, it } from 'vitest';
import { renderCard } from '../../../src/adapters/teams/cards/render-card.js';
import { longTextCard } from '../../../src/adapters/teams/cards/long-text-card.js';
import { escapeCardMarkdown } from '../../../src/adapters/teams/cards/card-text.js';
import type { AdaptiveCard, ExecuteAction } from '../../../src/adapters/teams/cards/adaptive-card.js';
import type { CardSpec, ConversationPhase } from '../../../src/ports/chat.js';
import { sampleCardSpecs, sampleTicket } from '../../fixtures/teams/sample-card-specs.js';
import { compileAdaptiveCardSchema } from './adaptive-card-schema.js';

const validate = compileAdaptiveCardSchema();

function executeActions(card: AdaptiveCard): ExecuteAction[] {
  return (card.actions ?? []).filter((a): a is ExecuteAction => a.type === 'Action.Execute');
}

function threadSpec(phase: ConversationPhase): CardSpec {
  return { kind: 'ticket_thread', ticket: { ...sampleTicket, phase }, summary: null, lastProvider: null };
}

describe('the Adaptive Cards TicketZero sends', () => {
  it.each(Object.entries(sampleCardSpecs))(
    '%s validates against the Adaptive Cards 1.5 schema',
    (_name, spec) => {
      const card = renderCard(spec, { refreshUserIds: ['29:tech-1'] });
      const ok = validate(card);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
      expect(card.version).toBe('1.5');
    },
  );

  it('the schema check rejects a card Teams would not render (so the check can fail)', () => {
    const card = renderCard(sampleCardSpecs['ticket-intro']!) as unknown as Record<string, unknown>;
    expect(validate({ ...card, body: [{ type: 'TextBlock', txt: 'typo' }] })).toBe(false);
    expect(validate({ ...card, actions: [{ type: 'Action.Execute', verb: 'x', colour: 'red' }] })).toBe(
      false,
    );
  });

  it('a folded long text validates too and keeps the full text behind "Show all"', () => {
    const text = 'word '.repeat(400).trim();
    const card = longTextCard(text, { speaker: 'TicketZero' });
    expect(validate(card)).toBe(true);
    const show = card.actions?.[0];
    expect(show?.type).toBe('Action.ShowCard');
    expect(JSON.stringify(show)).toContain(text);
    expect(JSON.stringify(card.body)).not.toContain(text);
  });

  it('asks the user to confirm the fix with confirm_fixed and still_broken for the ticket', () => {
    const card = renderCard(sampleCardSpecs['confirm-fix']!);
    expect(executeActions(card).map((a) => [a.verb, a.data])).toEqual([
      ['confirm_fixed', { ticketId: 4711, card: 'confirm_fix' }],
      ['still_broken', { ticketId: 4711, card: 'confirm_fix' }],
    ]);
  });

  it('names the card in each of the user’s buttons, so a press is answered with that card', () => {
    const card = renderCard(sampleCardSpecs['ticket-intro']!);
    expect(executeActions(card).map((a) => a.data)).toEqual([
      { ticketId: 4711, card: 'ticket_intro' },
      { ticketId: 4711, card: 'ticket_intro' },
    ]);
  });

  it('shows a settled user card without buttons, with where the ticket stands as plain text', () => {
    for (const name of ['ticket-intro-settled', 'confirm-fix-settled']) {
      const spec = sampleCardSpecs[name]!;
      const card = renderCard(spec);
      expect(card.actions).toBeUndefined();
      const settled = 'settled' in spec ? spec.settled! : '';
      expect(card.body.at(-1)).toEqual({
        type: 'Container',
        style: 'emphasis',
        spacing: 'medium',
        items: [{ type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: settled }] }],
      });
      expect(card.fallbackText).toBe(settled);
    }
  });

  it('offers the user “It’s fixed” and “Talk to a technician” from the first card', () => {
    const card = renderCard(sampleCardSpecs['ticket-intro']!);
    expect(executeActions(card).map((a) => [a.verb, a.title])).toEqual([
      ['confirm_fixed', 'It’s fixed'],
      ['ask_human', 'Talk to a technician'],
    ]);
    expect(JSON.stringify(card)).toContain('up to 10 replies within 30 minutes');
  });

  it('gives technicians the buttons that fit the phase, each carrying the ticket id', () => {
    const verbs = (phase: ConversationPhase) =>
      executeActions(renderCard(threadSpec(phase))).map((a) => a.verb);
    expect(verbs('talking')).toEqual(['pause', 'take_over', 'escalate', 'status']);
    expect(verbs('paused')).toEqual(['resume', 'take_over', 'escalate', 'status']);
    expect(verbs('taken_over')).toEqual(['hand_back', 'escalate', 'status']);
    expect(verbs('resolved')).toEqual(['status']);
    for (const action of executeActions(renderCard(threadSpec('talking')))) {
      expect(action.data).toEqual({ ticketId: 4711 });
    }
  });

  it('makes the thread card refresh itself, automatically for the technicians given', () => {
    const card = renderCard(threadSpec('talking'), { refreshUserIds: ['29:a', '29:b'] });
    expect(card.refresh).toEqual({
      action: { type: 'Action.Execute', title: 'Refresh', verb: 'status', data: { ticketId: 4711 } },
      userIds: ['29:a', '29:b'],
    });
  });

  it('shows a user-written title as literal text, so it cannot smuggle a link or formatting to technicians', () => {
    const ticket = {
      ...sampleTicket,
      title: 'Help [click here](https://evil.example) **now**',
      customerName: '_Acme_',
    };
    const card = renderCard({ kind: 'ticket_thread', ticket, summary: null, lastProvider: null });
    const json = JSON.stringify(card);
    expect(json).not.toContain('[click here](https://evil.example)');
    expect(json).not.toContain('**now**');
    expect(json).toContain(
      JSON.stringify(escapeCardMarkdown('[click here](https://evil.example)')).slice(1, -1),
    );
  });

  it('puts long user-derived text in plain text runs, which Teams never reads as Markdown', () => {
    const card = renderCard({
      kind: 'ticket_thread',
      ticket: sampleTicket,
      summary: 'See [this](https://evil.example)',
      lastProvider: null,
    });
    const summary = card.body.find((e) => e.type === 'RichTextBlock');
    expect(summary).toEqual({
      type: 'RichTextBlock',
      inlines: [{ type: 'TextRun', text: 'See [this](https://evil.example)' }],
    });
  });
});

describe('escaping text for Adaptive Card Markdown', () => {
  it('escapes emphasis, links and list markers, and drops control characters', () => {
    expect(escapeCardMarkdown('*a* _b_ [c](d)')).toBe('\\*a\\* \\_b\\_ \\[c\\]\\(d\\)');
    expect(escapeCardMarkdown('1. first\n- second')).toBe('1\\. first\n\\- second');
    expect(escapeCardMarkdown('a\u0000b\u001bc')).toBe('abc');
    expect(escapeCardMarkdown('plain words, 3.5 GB')).toBe('plain words, 3.5 GB');
  });
});
