export type LineageExportErrorCode =
  /** An entry is not `{ index, admitted, eventHash, event }` with a valid v1 event. */
  | 'ENTRY_INVALID'
  /** `eventHash` is not the SHA-256 of the event's canonical text. */
  | 'ENTRY_HASH_MISMATCH'
  /** Two different events claim the same ledger index. */
  | 'ENTRY_INDEX_CONFLICT'
  /** An export option is out of range (e.g. a prefix that is not a URI). */
  | 'OPTION_INVALID';

export class LineageExportError extends Error {
  override readonly name = 'LineageExportError';
  readonly code: LineageExportErrorCode;
  /** The offending field, as a path from the entry list (e.g. `entries[3].eventHash`). */
  readonly field: string;
  constructor(code: LineageExportErrorCode, field: string, message: string, options?: { cause?: unknown }) {
    super(`${field}: ${message}`, options);
    this.code = code;
    this.field = field;
  }
}
