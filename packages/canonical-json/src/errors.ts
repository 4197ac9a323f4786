/** Stable codes for every refusal; callers and tests match on these, never on messages. */
export type CanonicalJsonErrorCode =
  /** Not JSON at all (RFC 8259 grammar), or trailing data after the value. */
  | 'JCS_INVALID_JSON'
  /** Bytes that are not valid UTF-8 (including encoded surrogates and a byte order mark). */
  | 'JCS_INVALID_UTF8'
  /** The same member name twice in one object: JSON.parse would silently keep the last. */
  | 'JCS_DUPLICATE_KEY'
  /** A string (value or member name) with an unpaired UTF-16 surrogate: JCS cannot express it. */
  | 'JCS_LONE_SURROGATE'
  /** A number literal outside the IEEE-754 double range (it would parse as Infinity). */
  | 'JCS_NUMBER_OUT_OF_RANGE'
  /** NaN, Infinity or -Infinity given to the serializer. */
  | 'JCS_NON_FINITE_NUMBER'
  /** undefined, BigInt, a function, a symbol, or an object that is not a plain object or array. */
  | 'JCS_UNSUPPORTED_VALUE'
  /** Nesting deeper than the configured limit (guards the stack against hostile input). */
  | 'JCS_TOO_DEEP'
  /** The same object reached again while serializing it. */
  | 'JCS_CYCLE'
  /** Valid JSON whose bytes are not its own canonical form (parseCanonical only). */
  | 'JCS_NOT_CANONICAL';

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
  readonly code: CanonicalJsonErrorCode;
  /** JSON Pointer-like path of the offending value (serialization) or character offset (parsing). */
  readonly at: string | number | undefined;

  constructor(
    code: CanonicalJsonErrorCode,
    message: string,
    at?: string | number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.at = at;
  }
}
