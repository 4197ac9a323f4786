// Errors of opening a MongoStore. Everything a store does once open fails with the storage
// contract's StorageError codes (@civic-ledger/storage); those have no code for "the server
// cannot be reached" or "the options are wrong", so opening has its own.
export type MongoStoreErrorCode =
  /** No server answered at the URL (or the given client could not reach one). */
  | 'UNREACHABLE'
  /** The options are malformed: url/client, database name, collection prefix. */
  | 'BAD_OPTIONS';

export class MongoStoreError extends Error {
  override readonly name = 'MongoStoreError';
  readonly code: MongoStoreErrorCode;
  constructor(code: MongoStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
