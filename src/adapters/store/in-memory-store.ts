/**
 * The in-memory ConversationStore: the lowdb store's rules (document-store.ts) over folders held in a Map, so it
 * passes the same contract suite; nothing survives the process. For engine unit tests and short-lived tools.
 */
import type { ConversationStore } from '../../ports/conversation-store.js';
import { createMemoryFolder } from './document-folder.js';
import { createDocumentStore } from './document-store.js';

export function createInMemoryConversationStore(): ConversationStore {
  return createDocumentStore({
    conversations: createMemoryFolder(),
    archive: createMemoryFolder(),
    values: createMemoryFolder(),
  });
}
