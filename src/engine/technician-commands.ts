/**
 * Technicians steer a ticket from its thread: @mention commands (status, reassign, escalate, pause, resume, take
 * over, hand back, help, "use this channel") and the thread card's buttons. Only members of the technicians' team
 * may command; every command is audited on the ticket. While a technician has taken over, what they say in the
 * thread is relayed to the user.
 */
import type { CardSpec, OutgoingMessage } from '../ports/chat.js';
import { isLive, type ConversationRecord, type Turn } from '../ports/conversation-store.js';
import type { TechnicianCardAction, TechnicianCommand } from '../ports/support-engine.js';
import type { NewComment } from '../ports/ticket-desk.js';
import { asTicketZeroError } from '../errors.js';
import { note, technicianTurnComment } from './atera-comment-text.js';
import type { AssistantTurn } from './assistant-turn.js';
import type { ConversationOutcomes } from './conversation-outcomes.js';
import { isTalking, limitReached, minutesLeft } from './conversation-rules.js';
import type { EngineContext } from './engine-context.js';
import { describeReason } from './handover-summary.js';
import { newAnswerLease } from './answer-lease.js';
import type { TechniciansThread } from './technicians-thread.js';
import { chatEntry, withChatMessages, type UserChatOutbox } from './user-chat-outbox.js';
import { parseTechnicianCommand, TECHNICIAN_HELP, type ParsedCommand } from './parse-technician-command.js';

/** The parts a command calls. */
export interface TechnicianCommandsParts {
  chatOutbox: Pick<UserChatOutbox, 'deliver'>;
  thread: Pick<TechniciansThread, 'card' | 'ticketIdOf' | 'updateCard'>;
  assistant: Pick<AssistantTurn, 'schedule'>;
  outcomes: Pick<ConversationOutcomes, 'endAs'>;
}

export class TechnicianCommands {
  constructor(
    private readonly ctx: EngineContext,
    private readonly parts: TechnicianCommandsParts,
  ) {}

  async onTechnicianCommand(command: TechnicianCommand): Promise<OutgoingMessage> {
    const { deps } = this.ctx;
    // `command.conversationId` is the channel's (with the thread), not a ticket's 1:1 chat.
    const who = { channelConversationId: command.conversationId, technicianId: command.from.userId };
    const log = this.ctx.log.child(who);
    const allowed = await deps.authority.isTechnician(command.from, { teamId: command.teamId });
    if (!allowed) {
      log.warn({}, 'command refused: not a technician');
      return { kind: 'text', text: 'Only members of the technicians’ team can give TicketZero commands.' };
    }
    const parsed = parseTechnicianCommand(command.text);
    if (parsed.command.name === 'use_this_channel') {
      if (!command.teamId || !command.channelId) {
        return { kind: 'text', text: 'Say “use this channel” in a channel of the technicians’ team.' };
      }
      await deps.technicians.useChannel({
        teamId: command.teamId,
        channelId: command.channelId,
        tenantId: command.from.tenantId,
      });
      log.info({ teamId: command.teamId }, 'technicians’ channel captured');
      return {
        kind: 'text',
        text: 'From now on, each ticket TicketZero takes gets its own thread in this channel.',
      };
    }
    if (parsed.command.name === 'help') return { kind: 'text', text: TECHNICIAN_HELP };
    if (!(await deps.technicians.isConfigured())) {
      // Before a technicians' channel exists, members of any team the bot is in may only capture one.
      return {
        kind: 'text',
        text: 'There is no technicians’ channel yet. Say “use this channel” in the channel where technicians work.',
      };
    }

    const record = await this.findTicketFor(command.conversationId, parsed.ticketRef);
    if (!record) {
      if (parsed.command.name === 'unknown') return { kind: 'text', text: TECHNICIAN_HELP };
      return {
        kind: 'text',
        text: parsed.ticketRef
          ? `I don’t know ticket #${parsed.ticketRef}.`
          : 'Which ticket? Say it in the ticket’s thread, or add its number, like “status #1234”.',
      };
    }
    try {
      return await this.ctx.locks.run(record.ticketId, () =>
        this.runCommand(record.ticketId, parsed.command, command),
      );
    } catch (error) {
      // The technician hears that it failed (rather than nothing); the turn itself succeeds.
      const err = asTicketZeroError(error);
      this.ctx
        .logFor(record)
        .child(who)
        .error({ command: parsed.command.name, err }, 'technician command failed');
      return {
        kind: 'text',
        text: `That did not work on #${record.ticket.number}: ${err.message}. Please try again.`,
      };
    }
  }

  /** A button on the thread card; returns the refreshed card. */
  async onTechnicianCardAction(action: TechnicianCardAction): Promise<CardSpec | null> {
    const allowed = await this.ctx.deps.authority.isTechnician(action.from, { teamId: action.teamId });
    if (!allowed) return null;
    const commands: Record<TechnicianCardAction['verb'], ParsedCommand> = {
      escalate: { name: 'escalate', reason: null },
      pause: { name: 'pause' },
      resume: { name: 'resume' },
      take_over: { name: 'take_over' },
      hand_back: { name: 'hand_back' },
      status: { name: 'status' },
    };
    await this.ctx.locks.run(action.ticketId, () =>
      this.runCommand(
        action.ticketId,
        commands[action.verb],
        {
          from: action.from,
          conversationId: action.conversationId,
          teamId: action.teamId,
          channelId: action.channelId,
          text: action.verb,
          mentions: [],
        },
        // The card's Refresh (also run by Teams on its own when the card is shown) is not a command to record.
        { viaCard: true },
      ),
    );
    const record = await this.ctx.deps.store.getConversation(action.ticketId);
    return record ? this.parts.thread.card(record) : null;
  }

  private async findTicketFor(
    conversationId: string,
    ticketRef: string | null,
  ): Promise<ConversationRecord | null> {
    const { store } = this.ctx.deps;
    if (ticketRef) {
      const byId = await store.getConversation(Number(ticketRef));
      if (byId) return byId;
      const live = await store.listLive();
      return live.find((c) => c.ticket.number === ticketRef) ?? null;
    }
    if (!conversationId.includes(';messageid=')) return null;
    // Each thread is its own `;messageid=`: only an exact match names the ticket (ended tickets too).
    const indexed = await this.parts.thread.ticketIdOf(conversationId);
    if (indexed !== null) return store.getConversation(indexed);
    const live = await store.findByThread(conversationId);
    return live?.thread?.threadId === conversationId ? live : null;
  }

  private async runCommand(
    ticketId: number,
    command: ParsedCommand,
    context: TechnicianCommand,
    options: { viaCard?: boolean } = {},
  ): Promise<OutgoingMessage> {
    const { deps, settings } = this.ctx;
    const { thread } = this.parts;
    const record = await deps.store.getConversation(ticketId);
    if (!record) return { kind: 'text', text: 'That ticket is no longer known to TicketZero.' };
    const who = context.from.name;
    const log = this.ctx.logFor(record).child({ command: command.name });
    const audit = (what: string): NewComment => this.ctx.internal(note(`${what} — by ${who} in Teams.`));
    const reply = (text: string): OutgoingMessage => ({ kind: 'text', text });

    switch (command.name) {
      case 'status':
        if (!options.viaCard) {
          await this.ctx.write(ticketId, (c) =>
            c ? { comments: [audit('checked the status')], result: undefined } : { result: undefined },
          );
        }
        return reply(this.statusText(record));
      case 'help':
      case 'use_this_channel':
        return reply(TECHNICIAN_HELP);
      case 'reassign': {
        const target = command.target || context.mentions.find((m) => m.name)?.name || '';
        if (!target)
          return reply('Reassign to whom? For example: “reassign Dana” or “reassign dana@msp.example”.');
        const matches = await deps.technicianDirectory.find(target.replace(/<\/?at>/g, '').trim());
        if (matches.length === 0) return reply(`No technician matches “${target}”.`);
        if (matches.length > 1) {
          return reply(
            `“${target}” matches several technicians: ${matches.map((t) => `${t.name} (${t.email})`).join(', ')}. Which one? Reply with the e-mail.`,
          );
        }
        const technician = matches[0]!;
        try {
          await deps.desk.updateTicket(ticketId, {
            technicianEmail: technician.email,
            ...(technician.ateraContactId ? { technicianContactId: technician.ateraContactId } : {}),
          });
        } catch (error) {
          const err = asTicketZeroError(error);
          log.warn({ technician: technician.email, err }, 'Atera refused the reassignment');
          return reply(
            `Atera did not accept ${technician.name} (${technician.email}) as the technician of #${record.ticket.number} (${err.message}). Nothing was changed.`,
          );
        }
        const updated = await this.ctx.write(ticketId, (c) => {
          if (!c) return { result: null };
          const next: ConversationRecord = {
            ...c,
            ticket: {
              ...c.ticket,
              technician: {
                contactId: technician.ateraContactId,
                email: technician.email,
                fullName: technician.name,
              },
            },
          };
          return {
            conversation: next,
            comments: [audit(`reassigned to ${technician.name} (${technician.email})`)],
            result: next,
          };
        });
        log.info({ technician: technician.email }, 'ticket reassigned');
        if (updated) await thread.updateCard(updated);
        return reply(`Reassigned ticket #${record.ticket.number} to ${technician.name} in Atera.`);
      }
      case 'escalate': {
        if (!isLive(record.state))
          return reply(`Ticket #${record.ticket.number} is already ${record.state}.`);
        await this.ctx.write(ticketId, (c) =>
          c
            ? {
                comments: [audit(`escalated${command.reason ? `: ${command.reason}` : ''}`)],
                result: undefined,
              }
            : { result: undefined },
        );
        await this.parts.outcomes.endAs(ticketId, 'escalated', 'technician', command.reason, who);
        return reply(`Escalated ticket #${record.ticket.number}; the AI has stopped and the user was told.`);
      }
      case 'pause': {
        if (!isTalking(record.state)) {
          return reply(`Ticket #${record.ticket.number} is ${record.state}; nothing to pause.`);
        }
        const updated = await this.ctx.transition(ticketId, record.state, 'paused', audit('paused the AI'));
        if (updated) await thread.updateCard(updated);
        return reply(
          `Paused: the AI holds its answers on #${record.ticket.number}. Say “resume” to continue.`,
        );
      }
      case 'resume': {
        if (record.state !== 'paused') return reply(`Ticket #${record.ticket.number} is not paused.`);
        const updated = await this.ctx.write(ticketId, (c) => {
          if (!c || c.state !== 'paused') return { result: null };
          // A message the user wrote while paused is answered now.
          const owed = c.awaitingAnswer || c.turns.at(-1)?.role === 'user';
          const next: ConversationRecord = {
            ...c,
            state: 'active',
            awaitingAnswer: owed,
            answerLease: owed ? newAnswerLease(this.ctx) : null,
          };
          return { conversation: next, comments: [audit('resumed the AI')], result: next };
        });
        if (updated) {
          await thread.updateCard(updated);
          if (updated.awaitingAnswer) this.parts.assistant.schedule(ticketId);
        }
        return reply(`Resumed the AI on #${record.ticket.number}.`);
      }
      case 'take_over': {
        if (!isLive(record.state) || record.state === 'queued') {
          return reply(
            `Ticket #${record.ticket.number} is ${record.state}; there is no conversation to take over.`,
          );
        }
        const updated = await this.ctx.write(ticketId, (c) => {
          if (!c || !isLive(c.state)) return { result: null };
          const next: ConversationRecord = withChatMessages(
            {
              ...c,
              state: 'taken_over',
              takenOverBy: { id: context.from.userId, name: who },
              awaitingAnswer: false,
              answerLease: null,
            },
            chatEntry(this.ctx, {
              notice: `${who}, a technician from your IT team, is joining this chat and will continue with you.`,
            }),
          );
          return { conversation: next, comments: [audit('took over the conversation')], result: next };
        });
        if (updated) {
          deps.observer?.conversationTakenOver?.(updated);
          await this.parts.chatOutbox.deliver(ticketId);
          await thread.updateCard(updated);
        }
        return reply(
          `You have taken over #${record.ticket.number}. Mention me with your message to send it to the user; say “hand back” to return it to the AI.`,
        );
      }
      case 'hand_back': {
        if (record.state !== 'taken_over') return reply(`Ticket #${record.ticket.number} is not taken over.`);
        if (limitReached(record, this.ctx.clock(), settings)) {
          return reply(
            `No AI rounds or time left on #${record.ticket.number}; it stays with you. Say “escalate” to hand it to the queue.`,
          );
        }
        const updated = await this.ctx.write(ticketId, (c) => {
          if (!c || c.state !== 'taken_over') return { result: null };
          const next: ConversationRecord = withChatMessages(
            { ...c, state: 'active', takenOverBy: null },
            chatEntry(this.ctx, {
              notice: 'I’m TicketZero again — let’s continue. Tell me what you see now.',
            }),
          );
          return {
            conversation: next,
            comments: [audit('handed the conversation back to the AI')],
            result: next,
          };
        });
        if (updated) {
          await this.parts.chatOutbox.deliver(ticketId);
          await thread.updateCard(updated);
        }
        return reply(`Handed #${record.ticket.number} back to the AI.`);
      }
      case 'unknown': {
        if (record.state === 'taken_over' && record.takenOverBy?.id === context.from.userId) {
          return this.relayTechnicianMessage(record, context);
        }
        return reply(TECHNICIAN_HELP);
      }
    }
  }

  /** While taken over: the technician's words go to the user (and onto the ticket as their turn). */
  private async relayTechnicianMessage(
    record: ConversationRecord,
    context: TechnicianCommand,
  ): Promise<OutgoingMessage> {
    const text = context.text.trim();
    if (!text || !record.chatConversationId) return { kind: 'text', text: 'Nothing to send.' };
    const at = this.ctx.now();
    const saved = await this.ctx.write(record.ticketId, (c) => {
      if (!c || c.state !== 'taken_over') return { result: null };
      const turn: Turn = {
        seq: c.turns.length + 1,
        role: 'technician',
        text,
        at,
        authorName: context.from.name,
      };
      return {
        conversation: withChatMessages(
          { ...c, turns: [...c.turns, turn] },
          chatEntry(this.ctx, { turnSeq: turn.seq }),
        ),
        comments: [
          {
            text: technicianTurnComment(turn),
            visibility: this.ctx.settings.commentVisibility,
            author: 'ticketzero',
            timestampUtc: at,
            marker: this.ctx.marker(c.ticketId, turn.seq),
          },
        ],
        result: turn,
      };
    });
    if (!saved) return { kind: 'text', text: 'The conversation is no longer taken over.' };
    await this.parts.chatOutbox.deliver(record.ticketId);
    return { kind: 'text', text: `Sent to ${record.user?.displayName ?? 'the user'}.` };
  }

  private statusText(record: ConversationRecord): string {
    const s = this.ctx.settings;
    const left = record.deadlineAt
      ? `${Math.max(0, Math.round(minutesLeft(record, this.ctx.clock())))} min left`
      : 'not started';
    return [
      `Ticket #${record.ticket.number} — ${record.ticket.title}`,
      `State: ${record.state}${record.outcome ? ` (${describeReason(record.outcome.reason)})` : ''}`,
      `User: ${record.user?.displayName ?? record.ticket.endUser.email ?? 'unknown'}`,
      `Round ${record.rounds} of ${s.maxRounds}, ${left}`,
      `Last provider: ${record.lastProvider ?? 'none yet'}`,
      record.takenOverBy ? `Taken over by ${record.takenOverBy.name}` : null,
    ]
      .filter(Boolean)
      .join('\n');
  }
}
