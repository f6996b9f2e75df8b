/**
 * Errors the conversation stores raise. Vendor errors (fs, pg) are wrapped with `{ cause }`, so nothing above the
 * store handles an ErrnoException or a pg DatabaseError.
 */
import { TicketZeroError } from '../../errors.js';

/** Reading or writing the store failed (disk, database, connection). */
export class StoreError extends TicketZeroError {
  readonly code = 'store_failed';
}

/** A store file or row holds something the store cannot read back (not JSON, unknown format version…). */
export class StoreCorruptError extends TicketZeroError {
  readonly code = 'store_corrupt';
}

/** The store was used after `close()`. */
export class StoreClosedError extends TicketZeroError {
  readonly code = 'store_closed';
}

/** A caller asked the store for something the contract forbids (a record for another ticket…). */
export class StoreUsageError extends TicketZeroError {
  readonly code = 'store_misused';
}

/** TRANSCRIPT_KEYS is malformed (not `id:base64key,…`, a key not 32 bytes, a repeated id). */
export class TranscriptKeyError extends TicketZeroError {
  readonly code = 'transcript_keys_invalid';
}

/** An encrypted transcript cannot be decrypted (unknown key id, tampered or truncated ciphertext). */
export class TranscriptDecryptError extends TicketZeroError {
  readonly code = 'transcript_undecryptable';
}

export function asStoreError(message: string, error: unknown): TicketZeroError {
  if (error instanceof TicketZeroError) return error;
  return new StoreError(message, { cause: error });
}
