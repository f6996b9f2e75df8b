/**
 * What every part of the conversation engine shares: its ports and settings, the per-ticket lock, the store write
 * (which stamps `updatedAt` and wakes the comment outbox), the clock, and a log bound to the ticket and its chat.
 * `createConversationEngine` builds one and hands it to each part.
 */
import type { OutgoingMessage } from '../ports/chat.js';
import type { ConversationRecord, ConversationState, Mutation } from '../ports/conversation-store.js';
import type { Log } from '../ports/log.js';
import type { NewComment } from '../ports/ticket-desk.js';
import { asTicketZeroError, ChatGoneError } from '../errors.js';
import { withChatLeaseFor } from './chat-lease.js';
import type { EngineDeps, EngineSettings } from './engine-deps.js';
import { KeyedMutex } from './keyed-mutex.js';

export class EngineContext {
  readonly settings: EngineSettings;
  /** One ticket's work at a time in this process. */
  readonly locks = new KeyedMutex();
  /** The engine's own log; a line about a ticket goes through `logFor`. */
  readonly log: Log;
  /** Work that follows a recorded message (the model's answer, an ending), one job per ticket at a time. */
  private readonly work = new KeyedMutex();
  private readonly running = new Set<Promise<void>>();

  constructor(readonly deps: EngineDeps) {
    this.settings = deps.settings;
    this.log = deps.log.child({ component: 'engine' });
  }

  /** The log for lines about a ticket: its id, and its 1:1 chat's conversation id once the chat exists. */
  logFor(record: Pick<ConversationRecord, 'ticketId' | 'chatConversationId'>): Log {
    return this.log.child({
      ticketId: record.ticketId,
      ...(record.chatConversationId ? { conversationId: record.chatConversationId } : {}),
    });
  }

  /**
   * Runs `job` after the caller has returned (the inbound HTTP request is answered without waiting for it), after
   * the ticket's earlier jobs. A failure is logged; what was recorded is picked up again by the tick.
   */
  background(ticketId: number, what: string, job: () => Promise<void>): void {
    const done: Promise<void> = this.work
      .run(ticketId, job)
      .catch((error: unknown) => {
        this.log.child({ ticketId }).error({ err: asTicketZeroError(error), what }, 'background work failed');
      })
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  /**
   * Runs `job` after the caller has returned, beside the ticket's other jobs (not queued behind them). A failure is
   * logged. Tracked like `background`, so `idle()` waits for it.
   */
  alongside(ticketId: number, what: string, job: () => Promise<void>): void {
    const done: Promise<void> = job()
      .catch((error: unknown) => {
        this.log.child({ ticketId }).error({ err: asTicketZeroError(error), what }, 'background work failed');
      })
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  /** Resolves once no background work is running (tests, and a clean stop). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Changes one ticket's record (and queues the Atera comments it implies) in one store write. */
  async write<T>(ticketId: number, change: (current: ConversationRecord | null) => Mutation<T>): Promise<T> {
    let queued = false;
    const result = await this.deps.store.update(ticketId, (current) => {
      const mutation = change(current);
      if (mutation.conversation) {
        const stamped = { ...mutation.conversation, updatedAt: this.now() };
        // Recording a chat message claims its sending for this instance (a store shared by several instances).
        mutation.conversation = withChatLeaseFor(current, stamped, this.settings, this.clock().getTime());
      }
      queued = (mutation.comments?.length ?? 0) > 0;
      return mutation;
    });
    if (queued) this.deps.onCommentsQueued?.();
    return result;
  }

  /** Moves the conversation from one state to another; null when it was no longer in `from`. */
  async transition(
    ticketId: number,
    from: ConversationState,
    to: ConversationState,
    comment?: NewComment,
  ): Promise<ConversationRecord | null> {
    return this.write(ticketId, (c) => {
      if (!c || c.state !== from) return { result: null };
      const next: ConversationRecord = { ...c, state: to };
      return { conversation: next, ...(comment ? { comments: [comment] } : {}), result: next };
    });
  }

  /** An internal Atera note by TicketZero. */
  internal(text: string): NewComment {
    return {
      text,
      visibility: 'internal',
      author: 'ticketzero',
      timestampUtc: this.now(),
      marker: `tz-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
    };
  }

  /** Stable per turn, so the outbox finds a comment again after a crash. */
  marker(ticketId: number, seq: number): string {
    return `tz-${ticketId}-${seq}`;
  }

  /**
   * Sends to the user's 1:1 chat `conversationId`. When Teams says that chat no longer exists, opens the user's chat
   * anew, once, sends there, and records the new chat on the ticket when it had the old one. Returns the chat the
   * message went to. Other failures are thrown.
   */
  async sendToUser(
    record: ConversationRecord,
    conversationId: string,
    message: OutgoingMessage,
  ): Promise<string> {
    try {
      await this.deps.chat.send(conversationId, message);
      return conversationId;
    } catch (error) {
      if (!(error instanceof ChatGoneError) || !record.user) throw error;
      const { user } = record;
      const reopened = (
        await this.deps.chat.openChat(
          { tenant: user.tenant, userId: user.id, displayName: user.displayName },
          { replacing: conversationId },
        )
      ).conversationId;
      this.logFor(record).info(
        { goneConversationId: conversationId },
        'the user’s chat was gone; opened it anew',
      );
      await this.deps.chat.send(reopened, message);
      if (record.chatConversationId === conversationId && reopened !== conversationId) {
        await this.write(record.ticketId, (c) =>
          c?.chatConversationId === conversationId
            ? { conversation: { ...c, chatConversationId: reopened }, result: undefined }
            : { result: undefined },
        );
      }
      return reopened;
    }
  }

  /** Sends to the conversation's 1:1 chat (if it has one); a failure is logged, not thrown. */
  async sendSafely(record: ConversationRecord, message: OutgoingMessage): Promise<void> {
    if (!record.chatConversationId) return;
    try {
      await this.sendToUser(record, record.chatConversationId, message);
    } catch (error) {
      this.logFor(record).warn({ err: asTicketZeroError(error) }, 'message to the user failed');
    }
  }

  clock(): Date {
    return this.deps.clock.now();
  }

  now(): string {
    return this.deps.clock.now().toISOString();
  }
}
