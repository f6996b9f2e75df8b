import type { CardSpec, ConversationPhase } from '../../../ports/chat.js';
import type { TechnicianCardVerb } from '../../../ports/support-engine.js';
import { topLevelCard, type AdaptiveCard, type ExecuteAction, type Fact } from './adaptive-card.js';
import { cardDateTime, fact, label, phaseLabel, plainParagraph, ticketHeading } from './ticket-facts.js';

const LIVE: readonly ConversationPhase[] = [
  'waiting',
  'talking',
  'awaiting_confirmation',
  'paused',
  'taken_over',
];

/** Which buttons a phase offers: only what makes sense now, so a stale click is rare. */
export function technicianVerbsFor(phase: ConversationPhase): TechnicianCardVerb[] {
  if (!LIVE.includes(phase)) return ['status'];
  const verbs: TechnicianCardVerb[] = [];
  if (phase === 'talking' || phase === 'awaiting_confirmation' || phase === 'waiting') verbs.push('pause');
  if (phase === 'paused') verbs.push('resume');
  verbs.push(phase === 'taken_over' ? 'hand_back' : 'take_over');
  verbs.push('escalate', 'status');
  return verbs;
}

const VERB_TITLES: Record<
  TechnicianCardVerb,
  { title: string; style?: ExecuteAction['style']; tooltip: string }
> = {
  pause: { title: 'Pause AI', tooltip: 'Stop the AI answering; user messages still reach the ticket' },
  resume: { title: 'Resume AI', tooltip: 'Let the AI answer the user again' },
  take_over: { title: 'Take over', tooltip: 'Talk to the user yourself through TicketZero' },
  hand_back: { title: 'Hand back to AI', tooltip: 'Let the AI continue the conversation' },
  escalate: {
    title: 'Escalate',
    style: 'destructive',
    tooltip: 'End the AI conversation and escalate the ticket',
  },
  status: { title: 'Refresh', tooltip: 'Show the latest state of this ticket' },
};

export interface ThreadCardOptions {
  /**
   * Teams user ids (or Entra object ids) of technicians for whom Teams refreshes the card automatically when they
   * view it; Teams honours at most 60.
   */
  refreshUserIds?: string[];
}

/** The technicians' card at the top of a ticket's thread, updated in place as the conversation moves on. */
export function ticketThreadCard(
  spec: Extract<CardSpec, { kind: 'ticket_thread' }>,
  options: ThreadCardOptions = {},
): AdaptiveCard {
  const { ticket } = spec;
  const phase = phaseLabel(ticket.phase);
  const facts: Fact[] = [
    fact('Customer', ticket.customerName),
    fact(
      'End user',
      ticket.endUserEmail ? `${ticket.endUserName} (${ticket.endUserEmail})` : ticket.endUserName,
    ),
    fact('Priority', ticket.priority),
    fact('Round', `${ticket.round} of ${ticket.maxRounds}`),
  ];
  const deadline = ticket.deadlineAt ? cardDateTime(ticket.deadlineAt) : null;
  if (deadline && LIVE.includes(ticket.phase)) facts.push({ title: 'AI time ends', value: deadline });
  facts.push(fact('Technician', ticket.technicianName ?? 'Not assigned'));
  if (ticket.userContext?.jobTitle) facts.push(fact('Job title', ticket.userContext.jobTitle));
  if (ticket.userContext?.department) facts.push(fact('Department', ticket.userContext.department));
  if (ticket.userContext && ticket.userContext.devices.length > 0) {
    facts.push(fact('Devices', ticket.userContext.devices.slice(0, 5).join(', ')));
  }
  if (spec.lastProvider) facts.push(fact('Last AI provider', spec.lastProvider));

  const refreshAction: ExecuteAction = {
    type: 'Action.Execute',
    title: 'Refresh',
    verb: 'status',
    data: { ticketId: ticket.ticketId },
  };
  const userIds = options.refreshUserIds?.slice(0, 60);

  return topLevelCard({
    fallbackText: `Ticket #${ticket.number}: ${phase.label}`,
    refresh: userIds && userIds.length > 0 ? { action: refreshAction, userIds } : { action: refreshAction },
    body: [
      ticketHeading(ticket),
      {
        type: 'TextBlock',
        text: phase.label,
        color: phase.color,
        weight: 'bolder',
        wrap: true,
        spacing: 'small',
      },
      { type: 'FactSet', facts, spacing: 'medium' },
      ...(spec.summary ? [label('Summary'), plainParagraph(spec.summary)] : []),
      {
        type: 'TextBlock',
        text: 'Mention me in this thread to steer: pause, resume, take over, hand back, escalate, reassign @name, status.',
        isSubtle: true,
        size: 'small',
        wrap: true,
        spacing: 'medium',
      },
    ],
    actions: technicianVerbsFor(ticket.phase).map((verb) => {
      const { title, style, tooltip } = VERB_TITLES[verb];
      return {
        type: 'Action.Execute',
        title,
        verb,
        data: { ticketId: ticket.ticketId },
        tooltip,
        ...(style ? { style } : {}),
      };
    }),
  });
}
