/**
 * The in-memory ConversationStore: the same rules as the lowdb and PostgreSQL stores (it passes the same contract
 * suite), kept in process memory only. For engine unit tests and short-lived tools; nothing survives a restart.
 */
import type { ConversationStore } from '../../ports/conversation-store.js';
import { newestEnded, timeOf } from './conversation-record-fields.js';
import { copyOf, HotState } from './hot-state.js';
import { StoreClosedError } from './store-errors.js';

export function createInMemoryConversationStore(): ConversationStore {
  const state = new HotState();
  let closed = false;
  const open = (): HotState => {
    if (closed) throw new StoreClosedError('the in-memory store is closed');
    return state;
  };
  const now = (): string => new Date().toISOString();

  return {
    getCursor: async (name) => open().getCursor(name),
    setCursor: async (name, value) => open().setCursor(name, value),
    claimTicket: async (ticketId, claim) => open().claimTicket(ticketId, claim),
    pruneClaims: async (createdBefore) => open().pruneClaims(createdBefore),
    getConversation: async (ticketId) => open().getConversation(ticketId) ?? null,
    findLiveByUser: async (userId) => open().findLiveByUser(userId),
    findByThread: async (threadId) => open().findByThread(threadId),
    listLive: async () => open().listLive(),
    listEnded: async ({ limit, since }) => newestEnded(open().endedRecords(), limit, since).map(copyOf),
    update: async (ticketId, change) => open().update(ticketId, change, now),
    dueComments: async (at, limit, leaseMs) => open().dueComments(at, limit, leaseMs),
    pendingComments: async (ticketId, limit) => open().pendingComments(ticketId, limit),
    markDelivered: async (entryId) => {
      open().markDelivered(entryId);
    },
    markFailed: async (entryId, error, nextAttemptAt) => {
      open().markFailed(entryId, error, nextAttemptAt);
    },
    outboxStats: async () => open().outboxStats(),
    getValue: async <T>(namespace: string, key: string) => open().getValue<T>(namespace, key),
    setValue: async (namespace, key, value) => open().setValue(namespace, key, value),
    deleteEndedBefore: async (endedBefore) => open().deleteEndedBefore(timeOf(endedBefore)).length,
    close: async () => {
      closed = true;
    },
  };
}
