/**
 * Builds the ConversationStore the settings ask for: lowdb under the data directory (the default) or
 * PostgreSQL, with transcripts encrypted at rest when TRANSCRIPT_KEYS is set.
 */
import type { ConversationStore } from '../../ports/conversation-store.js';
import type { Log } from '../../ports/log.js';
import { withEncryptedTranscripts } from './encrypted-store.js';
import { createLowdbConversationStore } from './lowdb-store.js';
import { createPostgresConversationStore } from './postgres-store.js';
import { StoreUsageError } from './store-errors.js';
import { createTranscriptCipher } from './transcript-cipher.js';

export interface StoreSettings {
  kind: 'lowdb' | 'postgres';
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL schema (DATABASE_SCHEMA); the role's search_path when unset. */
  databaseSchema?: string | undefined;
  instanceId?: string;
}

export async function createConversationStoreFromConfig(
  config: StoreSettings,
  options: { log: Log; transcriptKeys?: string; archiveRetentionDays?: number },
): Promise<ConversationStore> {
  // Parse the keys before opening anything, so a malformed setting fails fast and leaves no connection behind.
  const cipher = options.transcriptKeys ? createTranscriptCipher(options.transcriptKeys) : null;
  let store: ConversationStore;
  if (config.kind === 'postgres') {
    if (!config.databaseUrl) throw new StoreUsageError('DATABASE_URL is required when STORE=postgres');
    store = await createPostgresConversationStore({
      connectionString: config.databaseUrl,
      log: options.log,
      ...(config.instanceId ? { instanceId: config.instanceId } : {}),
      ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
    });
  } else {
    store = await createLowdbConversationStore({
      dataDir: config.dataDir,
      log: options.log,
      ...(options.archiveRetentionDays !== undefined
        ? { archiveRetentionDays: options.archiveRetentionDays }
        : {}),
    });
  }
  options.log.info({ store: config.kind, transcriptsEncrypted: cipher !== null }, 'conversation store ready');
  return cipher ? withEncryptedTranscripts(store, cipher) : store;
}
