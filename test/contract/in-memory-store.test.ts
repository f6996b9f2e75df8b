import { createInMemoryConversationStore } from '../../src/adapters/store/in-memory-store.js';
import { describeConversationStoreContract } from './conversation-store.contract.js';

describeConversationStoreContract('the in-memory store', async () => {
  const store = createInMemoryConversationStore();
  return { store, cleanup: () => store.close() };
});
