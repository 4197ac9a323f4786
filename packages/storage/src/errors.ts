export type StorageErrorCode =
  /** Another writer has acquired the log since this lease was granted (fenced). */
  | 'STALE_WRITER'
  /** Another owner holds an unexpired writer lease. */
  | 'LEASE_HELD'
  /** The head is not at the size the batch was built for. */
  | 'SIZE_CONFLICT'
  /** A batch whose indexes are not consecutive from the expected size, or otherwise malformed. */
  | 'BAD_BATCH'
  /** A checkpoint for this size exists with a different note. */
  | 'CHECKPOINT_CONFLICT'
  /** The stored data is not what the contract allows (a bug, or tampering underneath). */
  | 'CORRUPT'
  /** The store is closed. */
  | 'CLOSED';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
